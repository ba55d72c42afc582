// Reverse-mode differentiation on the IR: a Graph → Graph transform that appends the backward pass to
// the forward graph, so any backend that runs graphs runs training. Only trainable parameters get
// gradients, and an op's input gradient is built only when a trainable parameter lies upstream of that
// input: layers below the lowest trainable parameter get no backward ops at all.
import type { Graph, Node, NodeId } from '../ir/graph.ts';
import { formatShape, shapeEquals } from '../ir/shape.ts';
import { extendGraph } from './extend.ts';
import { binary, constant } from './ops.ts';
import { AutodiffError, backwardRule } from './rules.ts';

export type ParamNode = Node & { op: 'param' };

export interface BackwardOptions {
  /** The graph output to differentiate; a scalar. */
  readonly loss: string;
  readonly trainable: (param: ParamNode) => boolean;
}

/** Gradient outputs are named `grad.<param key>`. */
export const GRAD_PREFIX = 'grad.';

/** Ops whose output does not vary with their inputs' values (masks, ids): no gradient flows through. */
const CONSTANT_OUTPUT = new Set(['mask_bias', 'position_ids', 'dropout_mask']);

/** needs[i]: node i is a trainable parameter or depends on one through differentiable ops. */
export function nodesNeedingGradients(g: Graph, trainable: (p: ParamNode) => boolean): Uint8Array {
  const needs = new Uint8Array(g.nodes.length);
  for (const n of g.nodes) {
    if (n.op === 'param') needs[n.id] = trainable(n) ? 1 : 0;
    else if (!CONSTANT_OUTPUT.has(n.op)) needs[n.id] = n.inputs.some((i) => needs[i]) ? 1 : 0;
  }
  return needs;
}

/** Appends the backward pass; adds an output `grad.<key>` per trainable parameter the loss reaches. */
export function appendBackward(g: Graph, options: BackwardOptions): Graph {
  const loss = g.outputs.find((o) => o.name === options.loss);
  if (!loss) throw new AutodiffError(`the graph has no output '${options.loss}'`);
  const lossNode = g.nodes[loss.node];
  if (lossNode.shape.length !== 0)
    throw new AutodiffError(`the loss must be a scalar, not ${formatShape(lossNode.shape)}`);
  const needs = nodesNeedingGradients(g, options.trainable);
  const b = extendGraph(g);
  const grads = new Map<NodeId, NodeId>();
  const accumulate = (id: NodeId, grad: NodeId) => {
    if (!shapeEquals(b.shape(grad), g.nodes[id].shape)) {
      throw new AutodiffError(
        `gradient of %${id} ${g.nodes[id].op} has shape ${formatShape(b.shape(grad))}, expected ${formatShape(g.nodes[id].shape)}`,
      );
    }
    const known = grads.get(id);
    grads.set(id, known === undefined ? grad : binary(b, 'add', known, grad));
  };
  b.scope = `${lossNode.scope}/backward`;
  accumulate(loss.node, constant(b, 1));
  for (let id = loss.node; id >= 0; id--) {
    const dy = grads.get(id);
    const node = g.nodes[id];
    if (dy === undefined || !needs[id] || node.op === 'param') continue;
    b.scope = `${node.scope}/backward`;
    const wants = node.inputs.map((i) => needs[i] === 1);
    backwardRule({ b, node, dy, wants }).forEach((grad, i) => {
      if (grad !== null && wants[i]) accumulate(node.inputs[i], grad);
    });
  }
  for (const n of g.nodes) {
    const grad = grads.get(n.id);
    if (n.op === 'param' && needs[n.id] && grad !== undefined) b.output(`${GRAD_PREFIX}${n.key}`, grad);
  }
  return b.build();
}
