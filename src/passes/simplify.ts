// Algebraic simplification and common-subexpression elimination: the clean-up every other pass relies
// on. Undoing a Parallel replication (a slice that selects one whole copy of a tile) is what lets CSE
// find that identical branches compute the same thing.
import type { GraphBuilder } from '../ir/builder.ts';
import type { Node, NodeId } from '../ir/graph.ts';
import { type Rule, rewrite } from '../ir/rewrite.ts';
import { type Dim, dimEquals, lit, scaleDim, shapeEquals } from '../ir/shape.ts';
import type { Pass } from './pass.ts';

const isConst = (b: GraphBuilder, id: NodeId, value: number) => {
  const n = b.node(id);
  return n.op === 'const' && n.value === value;
};

const sameShapeAs = (b: GraphBuilder, id: NodeId, node: Node) => shapeEquals(b.shape(id), node.shape);

/** x·1, x+0 (when the result keeps x's shape), reshape/expand/permute/tile that change nothing. */
const identities: Rule = (node, inputs, b) => {
  const [x, y] = inputs;
  switch (node.op) {
    case 'binary':
      if ((node.fn === 'mul' || node.fn === 'div') && isConst(b, y, 1) && sameShapeAs(b, x, node)) return x;
      if ((node.fn === 'add' || node.fn === 'sub') && isConst(b, y, 0) && sameShapeAs(b, x, node)) return x;
      return null;
    case 'reshape':
    case 'expand':
      return sameShapeAs(b, x, node) ? x : null;
    case 'permute':
      return node.perm.every((p, i) => p === i) ? x : null;
    case 'tile':
      return node.times === 1 ? x : null;
    case 'slice':
      return dimEquals(node.start, lit(0)) && sameShapeAs(b, x, node) ? x : null;
    default:
      return null;
  }
};

/** reshape(reshape(x)) → reshape(x); slice(tile(x, n)) of one whole copy → x. */
const collapse: Rule = (node, inputs, b) => {
  const inner = b.node(inputs[0]);
  if (node.op === 'reshape' && inner.op === 'reshape')
    return b.add({ op: 'reshape', to: node.to }, [inner.inputs[0]]);
  if (node.op === 'slice' && node.axis === 0 && inner.op === 'tile') {
    const copy: Dim = b.shape(inner.inputs[0])[0];
    for (let i = 0; i < inner.times; i++) {
      if (dimEquals(node.start, scaleDim(copy, i)) && dimEquals(node.end, scaleDim(copy, i + 1)))
        return inner.inputs[0];
    }
  }
  return null;
};

/** concat of equal parts along the batch is a tile: concat(y, y) → tile(y, 2). */
const concatOfCopies: Rule = (node, inputs, b) => {
  if (node.op !== 'concat' || node.axis !== 0 || inputs.length < 2) return null;
  return inputs.every((i) => i === inputs[0])
    ? b.add({ op: 'tile', times: inputs.length }, [inputs[0]])
    : null;
};

export const SIMPLIFY_RULES: readonly Rule[] = [identities, collapse, concatOfCopies];

export const simplify: Pass = {
  name: 'simplify',
  purpose:
    'algebraic identities, undone replications and common subexpressions (identical branches run once)',
  run({ graph, weights }) {
    const before = graph.nodes.length;
    const out = rewrite(graph, SIMPLIFY_RULES, { cse: true });
    return {
      graph: out.graph,
      weights,
      notes: [
        `${out.fired} rewrites; ${before} → ${out.graph.nodes.length} nodes (dead code and duplicates removed)`,
      ],
    };
  },
};
