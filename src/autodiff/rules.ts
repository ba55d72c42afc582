// Backward rules: one small function per op. A rule gets the forward node, the gradient of its output
// and which inputs need a gradient; it returns one gradient node (or null) per input. Every rule is
// the exact derivative of the reference interpreter's forward definition of that op.
import type { GraphBuilder } from '../ir/builder.ts';
import type { Node, NodeId, Op } from '../ir/graph.ts';
import { addDims, type Dim, isStatic, lit, type Shape, scaleDim, subDims } from '../ir/shape.ts';
import {
  binary,
  constant,
  neg,
  permute,
  productDim,
  reshape,
  slice,
  sumTo,
  transposeLast,
  zeros,
} from './ops.ts';

export interface RuleArgs<K extends Op['op'] = Op['op']> {
  readonly b: GraphBuilder;
  readonly node: Node & { op: K };
  /** The gradient of the loss with respect to the node's output. */
  readonly dy: NodeId;
  /** wants[i]: whether input i needs a gradient (a trainable parameter lies upstream of it). */
  readonly wants: readonly boolean[];
}

export type Gradients = readonly (NodeId | null)[];
type Rule<K extends Op['op']> = (a: RuleArgs<K>) => Gradients;

export class AutodiffError extends Error {
  override name = 'AutodiffError';
}

const when = (want: boolean, make: () => NodeId): NodeId | null => (want ? make() : null);

/** dW of y = x·Wᵀ summed over every row of x: batched over the first axis, then summed. */
function linearWeightGrad(b: GraphBuilder, x: NodeId, dy: NodeId): NodeId {
  const xs = b.shape(x);
  const [outF, inF] = [b.shape(dy).at(-1)!, xs.at(-1)!];
  if (xs.length === 2) return b.add({ op: 'matmul', transB: false }, [transposeLast(b, dy), x]);
  const middle = productDim(xs.slice(1, -1));
  const x3 = reshape(b, x, [xs[0], middle, inF]);
  const dy3 = reshape(b, dy, [xs[0], middle, outF]);
  const perBatch = b.add({ op: 'matmul', transB: false }, [transposeLast(b, dy3), x3]);
  return sumTo(b, perBatch, [outF, inF]);
}

/** Gradients of nn.Linear: [dx, dW, db]. */
function linearGrads(
  b: GraphBuilder,
  x: NodeId,
  w: NodeId,
  dy: NodeId,
  wants: readonly boolean[],
): Gradients {
  const outF = b.shape(w)[0];
  return [
    when(wants[0], () => b.add({ op: 'linear' }, [dy, permute(b, w, [1, 0])])),
    when(wants[1], () => linearWeightGrad(b, x, dy)),
    when(wants[2] ?? false, () => sumTo(b, dy, [outF])),
  ];
}

const linear: Rule<'linear'> = ({ b, node, dy, wants }) =>
  linearGrads(b, node.inputs[0], node.inputs[1], dy, wants);

const matmul: Rule<'matmul'> = ({ b, node, dy, wants }) => {
  const [x, y] = node.inputs;
  const mm = (p: NodeId, q: NodeId, transB: boolean) => b.add({ op: 'matmul', transB }, [p, q]);
  // y = x·w (w [K,N]) or x·wᵀ (w [N,K]); batch axes may broadcast, so sum back to each input's shape.
  const dx = () => sumTo(b, mm(dy, y, !node.transB), b.shape(x));
  const dw = () =>
    sumTo(
      b,
      node.transB ? mm(transposeLast(b, dy), x, false) : mm(transposeLast(b, x), dy, false),
      b.shape(y),
    );
  return [when(wants[0], dx), when(wants[1], dw)];
};

const binaryRule: Rule<'binary'> = ({ b, node, dy, wants }) => {
  const [x, y] = node.inputs;
  const to = (g: NodeId, input: NodeId) => sumTo(b, g, b.shape(input));
  switch (node.fn) {
    case 'add':
      return [when(wants[0], () => to(dy, x)), when(wants[1], () => to(dy, y))];
    case 'sub':
      return [when(wants[0], () => to(dy, x)), when(wants[1], () => to(neg(b, dy), y))];
    case 'mul':
      return [
        when(wants[0], () => to(binary(b, 'mul', dy, y), x)),
        when(wants[1], () => to(binary(b, 'mul', dy, x), y)),
      ];
    case 'div':
      // d(x/y)/dy = −(x/y)/y: reuses the forward quotient.
      return [
        when(wants[0], () => to(binary(b, 'div', dy, y), x)),
        when(wants[1], () => to(neg(b, binary(b, 'div', binary(b, 'mul', dy, node.id), y)), y)),
      ];
  }
};

const unary: Rule<'unary'> = ({ b, node, dy }) => [
  b.add({ op: 'unary_grad', fn: node.fn }, [node.inputs[0], dy]),
];

const layernorm: Rule<'layernorm'> = ({ b, node, dy, wants }) => {
  const [x, gamma, beta] = node.inputs;
  const part = (wrt: 'input' | 'scale') =>
    b.add({ op: 'layernorm_grad', eps: node.eps, wrt }, [x, gamma, dy]);
  return [
    when(wants[0], () => part('input')),
    when(wants[1], () => sumTo(b, part('scale'), b.shape(gamma))),
    when(wants[2], () => sumTo(b, dy, b.shape(beta))),
  ];
};

/** dx = y ⊙ (dy − Σ dy ⊙ y) over the last axis. */
const softmax: Rule<'softmax'> = ({ b, node, dy }) => {
  const axis = node.shape.length - 1;
  const dot = b.add({ op: 'sum', axis }, [binary(b, 'mul', dy, node.id)]);
  return [binary(b, 'mul', node.id, binary(b, 'sub', dy, dot))];
};

/** The size of `axis` as a value: a constant when static, else a sum of ones over that axis. */
function axisLength(b: GraphBuilder, shape: Shape, axis: number): NodeId {
  const len = shape[axis];
  if (isStatic(len)) return constant(b, len.c);
  return b.add({ op: 'sum', axis }, [b.add({ op: 'expand', to: shape }, [constant(b, 1)])]);
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

const mean: Rule<'mean'> = ({ b, node, dy }) => {
  const xs = b.shape(node.inputs[0]);
  const len = axisLength(b, xs, normAxis(node.axis, xs.length));
  return [b.add({ op: 'expand', to: xs }, [binary(b, 'div', dy, len)])];
};

const sum: Rule<'sum'> = ({ b, node, dy }) => [b.add({ op: 'expand', to: b.shape(node.inputs[0]) }, [dy])];

const reshapeRule: Rule<'reshape'> = ({ b, node, dy }) => [reshape(b, dy, b.shape(node.inputs[0]))];

const permuteRule: Rule<'permute'> = ({ b, node, dy }) => {
  const inverse = new Array<number>(node.perm.length);
  node.perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return [permute(b, dy, inverse)];
};

const isEmpty = (d: Dim) => isStatic(d) && d.c === 0;

/** The gradient of a slice: dy between zeros on both sides of the axis. */
const sliceRule: Rule<'slice'> = ({ b, node, dy }) => {
  const xs = b.shape(node.inputs[0]);
  const axis = normAxis(node.axis, xs.length);
  const withAxis = (d: Dim) => xs.map((x, i) => (i === axis ? d : x));
  const before = node.start;
  const after = subDims(xs[axis], node.end);
  const parts = [
    ...(isEmpty(before) ? [] : [zeros(b, withAxis(before))]),
    dy,
    ...(isEmpty(after) ? [] : [zeros(b, withAxis(after))]),
  ];
  return [parts.length === 1 ? dy : b.add({ op: 'concat', axis }, parts)];
};

const concatRule: Rule<'concat'> = ({ b, node, dy, wants }) => {
  const axis = normAxis(node.axis, node.shape.length);
  let start: Dim = lit(0);
  return node.inputs.map((input, i) => {
    const end = addDims(start, b.shape(input)[axis]);
    const part = when(wants[i], () => slice(b, dy, axis, start, end));
    start = end;
    return part;
  });
};

const expand: Rule<'expand'> = ({ b, node, dy }) => [sumTo(b, dy, b.shape(node.inputs[0]))];

const tile: Rule<'tile'> = ({ b, node, dy }) => {
  const rows = b.shape(node.inputs[0])[0];
  const copies = Array.from({ length: node.times }, (_, t) =>
    slice(b, dy, 0, scaleDim(rows, t), scaleDim(rows, t + 1)),
  );
  return [copies.reduce((acc, c) => binary(b, 'add', acc, c))];
};

const stack: Rule<'stack'> = ({ b, node, dy, wants }) =>
  node.inputs.map((input, i) =>
    when(wants[i], () => reshape(b, slice(b, dy, 0, lit(i), lit(i + 1)), b.shape(input))),
  );

/** Per segment: the linear rule on its rows with its weights; dx rows concatenated, dW and db stacked. */
const segmentedLinear: Rule<'segmented_linear'> = ({ b, node, dy, wants }) => {
  const [x, w, bias] = node.inputs;
  const [, outF, inF] = b.shape(w);
  const segments = node.bounds.slice(0, -1).map((start, s) => {
    const end = node.bounds[s + 1];
    const ws = reshape(b, slice(b, w, 0, lit(s), lit(s + 1)), [outF, inF]);
    return linearGrads(b, slice(b, x, 0, start, end), ws, slice(b, dy, 0, start, end), [
      wants[0],
      wants[1],
      bias !== undefined && wants[2],
    ]);
  });
  const gather = (i: number, op: 'concat' | 'stack') =>
    op === 'concat'
      ? b.add(
          { op: 'concat', axis: 0 },
          segments.map((g) => g[i]!),
        )
      : b.add(
          { op: 'stack' },
          segments.map((g) => g[i]!),
        );
  return [
    when(wants[0], () => gather(0, 'concat')),
    when(wants[1], () => gather(1, 'stack')),
    when(bias !== undefined && wants[2], () => gather(2, 'stack')),
  ];
};

/** Child k gets dy on the rows that selected it and zeros elsewhere: row_select over [dy or zeros]. */
const rowSelect: Rule<'row_select'> = ({ b, node, dy, wants }) => {
  const [task, ...children] = node.inputs;
  const zero = zeros(b, node.shape);
  return [
    null,
    ...children.map((_, k) =>
      when(wants[k + 1], () =>
        b.add({ op: 'row_select' }, [task, ...children.map((__, j) => (j === k ? dy : zero))]),
      ),
    ),
  ];
};

const crossEntropy: Rule<'cross_entropy'> = ({ b, node, dy }) => {
  const [logits, labels, mask] = node.inputs;
  return [
    b.add(
      { op: 'cross_entropy_grad' },
      mask === undefined ? [logits, labels, dy] : [logits, labels, dy, mask],
    ),
  ];
};

/** The table's gradient: each dy row added into the row of its id. */
const gather: Rule<'gather'> = ({ b, node, dy }) => [
  b.add({ op: 'gather_grad' }, [...node.inputs, dy]),
  null,
];

const noGradient = (): Gradients => [];

const secondDerivative = (): Gradients => {
  throw new AutodiffError('second derivatives are not supported');
};

const RULES: { readonly [K in Op['op']]: Rule<K> } = {
  input: noGradient,
  param: noGradient,
  const: noGradient,
  mask_bias: noGradient,
  position_ids: noGradient,
  dropout_mask: noGradient,
  gather,
  linear,
  matmul,
  binary: binaryRule,
  unary,
  layernorm,
  softmax,
  mean,
  sum,
  reshape: reshapeRule,
  permute: permuteRule,
  slice: sliceRule,
  concat: concatRule,
  expand,
  tile,
  stack,
  segmented_linear: segmentedLinear,
  row_select: rowSelect,
  cross_entropy: crossEntropy,
  unary_grad: secondDerivative,
  layernorm_grad: secondDerivative,
  cross_entropy_grad: secondDerivative,
  gather_grad: secondDerivative,
};

export function backwardRule(args: RuleArgs): Gradients {
  return (RULES[args.node.op] as Rule<Op['op']>)(args);
}
