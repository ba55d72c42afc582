// Small graph-building helpers the backward rules share: arithmetic, zeros, and reductions that undo
// broadcasting.
import type { GraphBuilder } from '../ir/builder.ts';
import type { BinaryFn, NodeId } from '../ir/graph.ts';
import { type Dim, dimEquals, formatShape, lit, type Shape, scaleDim, shapeEquals } from '../ir/shape.ts';

const ONE = lit(1);

export const binary = (b: GraphBuilder, fn: BinaryFn, x: NodeId, y: NodeId): NodeId =>
  b.add({ op: 'binary', fn }, [x, y]);

export const constant = (b: GraphBuilder, value: number): NodeId => b.add({ op: 'const', value }, []);

export const neg = (b: GraphBuilder, x: NodeId): NodeId => binary(b, 'mul', x, constant(b, -1));

export const zeros = (b: GraphBuilder, shape: Shape): NodeId =>
  b.add({ op: 'expand', to: shape }, [constant(b, 0)]);

export const reshape = (b: GraphBuilder, x: NodeId, to: Shape): NodeId =>
  shapeEquals(b.shape(x), to) ? x : b.add({ op: 'reshape', to }, [x]);

export const permute = (b: GraphBuilder, x: NodeId, perm: readonly number[]): NodeId =>
  b.add({ op: 'permute', perm }, [x]);

/** Swaps the last two axes. */
export function transposeLast(b: GraphBuilder, x: NodeId): NodeId {
  const r = b.shape(x).length;
  return permute(
    b,
    x,
    Array.from({ length: r }, (_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)),
  );
}

export const slice = (b: GraphBuilder, x: NodeId, axis: number, start: Dim, end: Dim): NodeId =>
  b.add({ op: 'slice', axis, start, end }, [x]);

/** Sums `x` down to `target`, the shape it was broadcast from (numpy's "unbroadcast"). */
export function sumTo(b: GraphBuilder, x: NodeId, target: Shape): NodeId {
  const shape = b.shape(x);
  const lead = shape.length - target.length;
  if (lead < 0) throw new Error(`cannot sum ${formatShape(shape)} to ${formatShape(target)}`);
  let out = x;
  shape.forEach((d, i) => {
    const want = i < lead ? ONE : target[i - lead];
    if (dimEquals(want, ONE) && !dimEquals(d, ONE)) out = b.add({ op: 'sum', axis: i }, [out]);
  });
  return reshape(b, out, target);
}

/** One dimension for the product of `dims`, when at most one of them is symbolic. */
export function productDim(dims: readonly Dim[]): Dim {
  const symbolic = dims.filter((d) => d.k !== 0);
  if (symbolic.length > 1) throw new Error(`cannot flatten ${formatShape(dims)} into one dimension`);
  const fixed = dims.filter((d) => d.k === 0).reduce((a, d) => a * d.c, 1);
  return symbolic.length === 0 ? lit(fixed) : scaleDim(symbolic[0], fixed);
}
