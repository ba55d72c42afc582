// Shape and dtype inference: one pure function per op, shared by the builder and every rewrite.
import type { DType, Op } from './graph.ts';
import {
  addDims,
  type Dim,
  dimEquals,
  formatShape,
  lit,
  type Shape,
  scaleDim,
  shapeEquals as shapeEqualsUpTo,
  subDims,
} from './shape.ts';

export interface Typed {
  readonly shape: Shape;
  readonly dtype: DType;
}

const ONE = lit(1);

function broadcast(a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? ONE;
    const db = b[b.length - rank + i] ?? ONE;
    if (dimEquals(da, ONE)) out.push(db);
    else if (dimEquals(db, ONE) || dimEquals(da, db)) out.push(da);
    else throw new Error(`cannot broadcast ${formatShape(a)} with ${formatShape(b)}`);
  }
  return out;
}

function requireEqual(what: string, a: Dim, b: Dim): void {
  if (!dimEquals(a, b)) throw new Error(`${what}: ${formatShape([a])} ≠ ${formatShape([b])}`);
}

/** A reshape keeps the element count: static parts must multiply out equally when the symbolic parts agree. */
function requireSameSize(from: Shape, to: Shape): void {
  const split = (s: Shape) => ({
    fixed: s.filter((d) => d.k === 0).reduce((a, d) => a * d.c, 1),
    symbolic: s
      .filter((d) => d.k !== 0)
      .map((d) => formatShape([d]))
      .sort()
      .join(),
  });
  const [a, b] = [split(from), split(to)];
  if (a.symbolic === b.symbolic && a.fixed !== b.fixed)
    throw new Error(`cannot reshape ${formatShape(from)} to ${formatShape(to)}`);
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function inferType(op: Op, inputs: readonly Typed[]): Typed {
  const f32 = (shape: Shape): Typed => ({ shape, dtype: 'f32' });
  const [x, y] = inputs;
  switch (op.op) {
    case 'input':
    case 'param':
      throw new Error(`${op.op} nodes carry their own type`);
    case 'const':
      return f32([]);
    case 'gather':
      return f32([...y.shape, x.shape[1]]);
    case 'linear': {
      requireEqual('linear input features', x.shape[x.shape.length - 1], y.shape[1]);
      if (inputs[2]) requireEqual('linear bias', inputs[2].shape[0], y.shape[0]);
      return f32([...x.shape.slice(0, -1), y.shape[0]]);
    }
    case 'matmul': {
      const r = x.shape.length;
      const k = x.shape[r - 1];
      const [kb, n] = op.transB ? [y.shape[r - 1], y.shape[r - 2]] : [y.shape[r - 2], y.shape[r - 1]];
      requireEqual('matmul contraction', k, kb);
      return f32([...broadcast(x.shape.slice(0, -2), y.shape.slice(0, -2)), x.shape[r - 2], n]);
    }
    case 'binary':
      return f32(broadcast(x.shape, y.shape));
    case 'unary':
    case 'softmax':
    case 'layernorm':
      return f32(x.shape);
    case 'mean': {
      const axis = normAxis(op.axis, x.shape.length);
      return f32(x.shape.map((d, i) => (i === axis ? ONE : d)));
    }
    case 'reshape':
      requireSameSize(x.shape, op.to);
      return { shape: op.to, dtype: x.dtype };
    case 'permute':
      return { shape: op.perm.map((p) => x.shape[p]), dtype: x.dtype };
    case 'slice': {
      const axis = normAxis(op.axis, x.shape.length);
      return { shape: x.shape.map((d, i) => (i === axis ? subDims(op.end, op.start) : d)), dtype: x.dtype };
    }
    case 'concat': {
      const axis = normAxis(op.axis, x.shape.length);
      const size = inputs.map((t) => t.shape[axis]).reduce(addDims);
      return { shape: x.shape.map((d, i) => (i === axis ? size : d)), dtype: x.dtype };
    }
    case 'expand':
      if (!shapeEqualsUpTo(broadcast(x.shape, op.to), op.to)) {
        throw new Error(`cannot expand ${formatShape(x.shape)} to ${formatShape(op.to)}`);
      }
      return { shape: op.to, dtype: x.dtype };
    case 'tile':
      return { shape: x.shape.map((d, i) => (i === 0 ? scaleDim(d, op.times) : d)), dtype: x.dtype };
    case 'stack':
      for (const t of inputs) {
        if (!shapeEqualsUpTo(t.shape, x.shape))
          throw new Error(`stack: ${formatShape(t.shape)} ≠ ${formatShape(x.shape)}`);
      }
      return f32([lit(inputs.length), ...x.shape]);
    case 'segmented_linear': {
      requireEqual('segmented linear input features', x.shape[x.shape.length - 1], y.shape[2]);
      requireEqual('segmented linear segments', lit(op.bounds.length - 1), y.shape[0]);
      return f32([...x.shape.slice(0, -1), y.shape[1]]);
    }
    case 'mask_bias':
      return f32([x.shape[0], ONE, ONE, x.shape[1]]);
    case 'position_ids':
      return { shape: x.shape, dtype: 'i32' };
    case 'row_select':
      return { shape: y.shape, dtype: y.dtype };
    case 'sum': {
      const axis = normAxis(op.axis, x.shape.length);
      return f32(x.shape.map((d, i) => (i === axis ? ONE : d)));
    }
    case 'unary_grad':
      return f32(broadcast(x.shape, y.shape));
    case 'layernorm_grad':
      return f32(x.shape);
    case 'cross_entropy':
      if (!shapeEqualsUpTo(x.shape.slice(0, -1), y.shape))
        throw new Error(`cross_entropy: labels ${formatShape(y.shape)} for logits ${formatShape(x.shape)}`);
      return f32([]);
    case 'dropout_mask':
      if (y?.shape.length !== 0 || y.dtype !== 'i32')
        throw new Error('dropout_mask: the seed must be an i32 scalar');
      return f32(x.shape);
    case 'cross_entropy_grad':
    case 'gather_grad':
      return f32(x.shape);
  }
}
