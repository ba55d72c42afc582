// What a graph costs at given sizes: op count, floating-point operations, parameter count and bytes.
import type { Graph, Node } from './graph.ts';
import { type Bindings, evalShape } from './shape.ts';

export interface GraphStats {
  readonly ops: number;
  readonly flops: number;
  readonly params: number;
  readonly paramBytes: number;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** FLOPs of one node: 2 per multiply-add for contractions, a small constant per element otherwise. */
export function nodeFlops(g: Graph, n: Node, env: Bindings): number {
  const out = product(evalShape(n.shape, env));
  switch (n.op) {
    case 'linear':
    case 'segmented_linear': {
      const w = evalShape(g.nodes[n.inputs[1]].shape, env);
      return 2 * out * w[w.length - 1];
    }
    case 'matmul': {
      const a = evalShape(g.nodes[n.inputs[0]].shape, env);
      return 2 * out * a[a.length - 1];
    }
    case 'binary':
    case 'unary':
    case 'mask_bias':
      return out;
    case 'layernorm':
      return 8 * out;
    case 'softmax':
      return 5 * out;
    case 'mean':
      return product(evalShape(g.nodes[n.inputs[0]].shape, env));
    default:
      return 0;
  }
}

const isComputation = (n: Node) => n.op !== 'input' && n.op !== 'param' && n.op !== 'const';

export function graphStats(g: Graph, env: Bindings): GraphStats {
  const params = g.nodes.filter((n) => n.op === 'param').map((n) => product(evalShape(n.shape, env)));
  const total = params.reduce((a, b) => a + b, 0);
  return {
    ops: g.nodes.filter(isComputation).length,
    flops: g.nodes.reduce((acc, n) => acc + nodeFlops(g, n, env), 0),
    params: total,
    paramBytes: 4 * total,
  };
}

/** FLOPs of the nodes whose scope starts with `scopePrefix` (e.g. `layer3.`). */
export function scopeFlops(g: Graph, env: Bindings, scopePrefix: string): number {
  return g.nodes
    .filter((n) => n.scope.startsWith(scopePrefix))
    .reduce((acc, n) => acc + nodeFlops(g, n, env), 0);
}
