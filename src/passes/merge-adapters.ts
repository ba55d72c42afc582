// Folding adapters into base weights for inference: a single active LoRA on a linear layer becomes
// W + s·B·A, and an IA³ vector l scales the weight's rows and the bias, (W x + b) ⊙ l = (W ⊙ l) x + b ⊙ l.
// Unlike the library's merge_adapter, the IA³ bias is scaled too, so the merged graph keeps the
// unmerged meaning. The weight arithmetic is left to constant folding.
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/graph.ts';
import { type Rule, rewrite } from '../ir/rewrite.ts';
import { lit } from '../ir/shape.ts';
import type { Pass } from './pass.ts';

/** `δ = s · B(A x)`: returns {x, A, B, s} when `id` is a LoRA branch over `x`. */
function loraBranch(
  b: GraphBuilder,
  id: NodeId,
): { x: NodeId; a: NodeId; bMat: NodeId; scale: NodeId } | null {
  const scaled = b.node(id);
  if (scaled.op !== 'binary' || scaled.fn !== 'mul') return null;
  const [up, s] = scaled.inputs;
  const upNode = b.node(up);
  if (b.node(s).op !== 'const' || upNode.op !== 'linear' || upNode.inputs.length !== 2) return null;
  const down = b.node(upNode.inputs[0]);
  if (down.op !== 'linear' || down.inputs.length !== 2) return null;
  const [x, a] = down.inputs;
  if (b.node(a).op !== 'param' || b.node(upNode.inputs[1]).op !== 'param') return null;
  return { x, a, bMat: upNode.inputs[1], scale: s };
}

/**
 * The value every row shares, if `id` is a parameter expression broadcast over the batch: the same
 * expression without the broadcasts. Null when it reads inputs or rows can differ (a concat or slice
 * along the batch, e.g. IA³ vectors of BatchSplit children).
 */
function rowConstant(b: GraphBuilder, id: NodeId): NodeId | null {
  const n = b.node(id);
  switch (n.op) {
    case 'param':
    case 'const':
      return id;
    case 'expand':
      return rowConstant(b, n.inputs[0]);
    case 'reshape': {
      const input = n.to.every((d) => d.k === 0) ? rowConstant(b, n.inputs[0]) : null;
      return input === null ? null : b.copy(n, [input]);
    }
    case 'unary':
    case 'binary': {
      const inputs = n.inputs.map((i) => rowConstant(b, i));
      return inputs.every((i) => i !== null) ? b.copy(n, inputs as NodeId[]) : null;
    }
    default:
      return null;
  }
}

const mergeLora: Rule = (node, inputs, b) => {
  if (node.op !== 'binary' || node.fn !== 'add') return null;
  const [base, delta] = inputs;
  const linear = b.node(base);
  const branch = loraBranch(b, delta);
  if (linear.op !== 'linear' || branch === null || branch.x !== linear.inputs[0]) return null;
  const [x, w, bias] = linear.inputs;
  const product = b.add({ op: 'matmul', transB: false }, [branch.bMat, branch.a]);
  const merged = b.add({ op: 'binary', fn: 'add' }, [
    w,
    b.add({ op: 'binary', fn: 'mul' }, [product, branch.scale]),
  ]);
  return b.add({ op: 'linear' }, bias === undefined ? [x, merged] : [x, merged, bias]);
};

const mergeIa3: Rule = (node, inputs, b) => {
  if (node.op !== 'binary' || node.fn !== 'mul') return null;
  const [base, scaling] = inputs;
  const linear = b.node(base);
  if (linear.op !== 'linear') return null;
  const out = b.shape(base).at(-1)!;
  const vectorShape = b.shape(scaling);
  if (vectorShape.at(-1)?.c !== out.c || vectorShape.slice(1, -1).some((d) => d.k !== 0 || d.c !== 1))
    return null;
  const vector = rowConstant(b, scaling);
  // One scaling vector for every row: after Parallel merging, channels may scale differently.
  if (
    vector === null ||
    b
      .shape(vector)
      .slice(0, -1)
      .some((d) => d.k !== 0 || d.c !== 1)
  )
    return null;
  const column = b.add({ op: 'reshape', to: [out, lit(1)] }, [vector]);
  const row = b.add({ op: 'reshape', to: [out] }, [vector]);
  const [x, w, bias] = linear.inputs;
  const weight = b.add({ op: 'binary', fn: 'mul' }, [w, column]);
  return b.add(
    { op: 'linear' },
    bias === undefined ? [x, weight] : [x, weight, b.add({ op: 'binary', fn: 'mul' }, [bias, row])],
  );
};

export const mergeAdapters: Pass = {
  name: 'merge-adapters',
  purpose: 'fold single active LoRA and IA³ adapters into their base weights (exact to float rounding)',
  run({ graph, weights }) {
    const out = rewrite(graph, [mergeLora, mergeIa3], { maxRounds: 1 });
    return {
      graph: out.graph,
      weights,
      notes: [`merged ${out.fired} adapted linear layers into their weights`],
    };
  },
};
