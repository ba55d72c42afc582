// The reference interpreter: runs any IR graph on the CPU in plain TypeScript. Clear over fast; it
// defines correct for every pass, kernel and backend. Storage is f32 (values are rounded to f32 after
// every op, as PyTorch does); reductions accumulate in f64. With `{ precision: 'f64' }` every float
// value is held in f64 instead (no rounding between ops), for finite differences; i32 stays i32.

import { unaryDerivatives } from '../../autodiff/derivatives.ts';
import type { HostTensor } from '../../checkpoint/tensor.ts';
import { dropoutKeeps, dropoutKey, dropoutThreshold } from '../../ir/dropout.ts';
import type { Graph, InputName, Node } from '../../ir/graph.ts';
import { type Bindings, evalDim, evalShape, formatShape } from '../../ir/shape.ts';
import { binaryFns, F32_MIN, unaryFns } from './math.ts';

/** How float values are stored: 'f32' (the default, as PyTorch) or 'f64'. */
export type Precision = 'f32' | 'f64';

/** A precision's float array type. */
export type FloatArrayOf<P extends Precision> = { f32: Float32Array; f64: Float64Array }[P];
type FloatArray = FloatArrayOf<Precision>;

/** A value: float data in storage precision P (f32 unless said otherwise), or i32 data. */
export interface Tensor<P extends Precision = 'f32'> {
  readonly shape: readonly number[];
  readonly data: FloatArrayOf<P> | Int32Array;
}

/** A value inside the interpreter, of either precision. */
type Value = Tensor<Precision>;

export type Inputs = Partial<Record<InputName, Tensor>>;
/** A parameter's value: a checkpoint tensor, or f64 data (say θ ± h·v for finite differences). */
export type WeightTensor = HostTensor | { readonly shape: readonly number[]; readonly data: Float64Array };
export type WeightLookup = (key: string) => WeightTensor | undefined;

export interface InterpretOptions<P extends Precision = Precision> {
  readonly precision?: P;
}

/** The constructor of a precision's float storage; every op allocates its float results with it. */
type FloatStorage = new (length: number) => FloatArray;

const STORAGE: Record<Precision, FloatStorage> = { f32: Float32Array, f64: Float64Array };

/** A new float array of length n whose element i is f(i). */
function generate(F: FloatStorage, n: number, f: (i: number) => number): FloatArray {
  const out = new F(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

/** A leaf value in storage F: float data of another precision is converted, i32 data is kept. */
function stored(t: Value, F: FloatStorage): Value {
  if (t.data instanceof Int32Array || t.data instanceof F) return t;
  const data = t.data;
  return { shape: t.shape, data: generate(F, data.length, (i) => data[i]) };
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Strides of `shape` seen through broadcasting into `outShape` (0 where broadcast). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const j = i - offset;
    if (j < 0 || shape[j] === 1) return 0;
    return own[j];
  });
}

/** Calls fn(outIndex, aIndex, bIndex) for every element of outShape. */
function forEachBroadcast(
  outShape: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
  fn: (o: number, a: number, b: number) => void,
): void {
  const rank = outShape.length;
  const idx = new Array<number>(rank).fill(0);
  const n = size(outShape);
  let a = 0;
  let b = 0;
  for (let o = 0; o < n; o++) {
    fn(o, a, b);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      a += aStrides[d];
      b += bStrides[d];
      if (idx[d] < outShape[d]) break;
      a -= aStrides[d] * outShape[d];
      b -= bStrides[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** f(x, y) element by element over numpy broadcasting of x and y into outShape. */
function zipBroadcast(
  x: Value,
  y: Value,
  outShape: readonly number[],
  f: (a: number, b: number) => number,
  F: FloatStorage,
): FloatArray {
  const out = new F(size(outShape));
  forEachBroadcast(
    outShape,
    broadcastStrides(x.shape, outShape),
    broadcastStrides(y.shape, outShape),
    (o, a, b) => {
      out[o] = f(x.data[a], y.data[b]);
    },
  );
  return out;
}

/** A possibly negative axis of x as an index. */
const axisOf = (axis: number, x: Value) => (axis < 0 ? axis + x.shape.length : axis);

function linear(
  x: Value,
  w: Value,
  bias: Value | undefined,
  outShape: number[],
  F: FloatStorage,
): FloatArray {
  const [outF, inF] = w.shape;
  const rows = size(x.shape) / inF;
  const out = new F(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let acc = bias ? bias.data[o] : 0;
      for (let i = 0; i < inF; i++) acc += x.data[r * inF + i] * w.data[o * inF + i];
      out[r * outF + o] = acc;
    }
  }
  if (out.length !== size(outShape)) throw new Error('linear: size mismatch');
  return out;
}

function matmul(a: Value, b: Value, transB: boolean, outShape: number[], F: FloatStorage): FloatArray {
  const rank = outShape.length;
  const [m, n] = [outShape[rank - 2], outShape[rank - 1]];
  const k = a.shape[rank - 1];
  const batchShape = outShape.slice(0, -2);
  const aBatch = broadcastStrides(a.shape.slice(0, -2), batchShape);
  const bBatch = broadcastStrides(b.shape.slice(0, -2), batchShape);
  const out = new F(size(outShape));
  forEachBroadcast(batchShape, aBatch, bBatch, (o, ai, bi) => {
    const aOff = ai * m * k;
    const bOff = bi * k * n;
    const oOff = o * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          acc += a.data[aOff + i * k + p] * b.data[bOff + (transB ? j * k + p : p * n + j)];
        }
        out[oOff + i * n + j] = acc;
      }
    }
  });
  return out;
}

/** Mean and 1/√(variance + eps) of row r (length h), in f64, as LayerNorm normalizes it. */
function rowMoments(x: Value, r: number, h: number, eps: number): { mean: number; inv: number } {
  let mean = 0;
  for (let i = 0; i < h; i++) mean += x.data[r * h + i];
  mean /= h;
  let variance = 0;
  for (let i = 0; i < h; i++) variance += (x.data[r * h + i] - mean) ** 2;
  variance /= h;
  return { mean, inv: 1 / Math.sqrt(variance + eps) };
}

function layernorm(x: Value, gamma: Value, beta: Value, eps: number, F: FloatStorage): FloatArray {
  const h = x.shape[x.shape.length - 1];
  const out = new F(x.data.length);
  for (let r = 0; r < x.data.length / h; r++) {
    const { mean, inv } = rowMoments(x, r, h, eps);
    for (let i = 0; i < h; i++)
      out[r * h + i] = (x.data[r * h + i] - mean) * inv * gamma.data[i] + beta.data[i];
  }
  return out;
}

function softmax(x: Value, F: FloatStorage): FloatArray {
  const n = x.shape[x.shape.length - 1];
  const out = new F(x.data.length);
  for (let r = 0; r < x.data.length / n; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) max = Math.max(max, x.data[r * n + i]);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(x.data[r * n + i] - max);
    for (let i = 0; i < n; i++) out[r * n + i] = Math.exp(x.data[r * n + i] - max) / sum;
  }
  return out;
}

function meanAxis(x: Value, axis: number, F: FloatStorage): FloatArray {
  const outer = size(x.shape.slice(0, axis));
  const len = x.shape[axis];
  const inner = size(x.shape.slice(axis + 1));
  const out = new F(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = 0;
      for (let l = 0; l < len; l++) acc += x.data[(o * len + l) * inner + i];
      out[o * inner + i] = acc / len;
    }
  }
  return out;
}

/** A new array of length n of x's kind: i32 for i32 data, else storage F. */
const like = (x: Value, n: number, F: FloatStorage) =>
  x.data instanceof Int32Array ? new Int32Array(n) : new F(n);

function permute(x: Value, perm: readonly number[], outShape: number[], F: FloatStorage): Value['data'] {
  const inStrides = stridesOf(x.shape);
  const permuted = perm.map((p) => inStrides[p]);
  const out = like(x, x.data.length, F);
  forEachBroadcast(outShape, permuted, permuted, (o, a) => {
    out[o] = x.data[a];
  });
  return out;
}

function sliceAxis(x: Value, axis: number, start: number, end: number, F: FloatStorage): Value['data'] {
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const len = x.shape[axis];
  const out = like(x, outer * (end - start) * inner, F);
  for (let o = 0; o < outer; o++) {
    out.set(x.data.subarray((o * len + start) * inner, (o * len + end) * inner), o * (end - start) * inner);
  }
  return out;
}

function concatAxis(parts: readonly Value[], axis: number, outShape: number[], F: FloatStorage): FloatArray {
  const outer = size(outShape.slice(0, axis));
  const inner = size(outShape.slice(axis + 1));
  const out = new F(size(outShape));
  let offset = 0;
  for (const p of parts) {
    const chunk = p.shape[axis] * inner;
    for (let o = 0; o < outer; o++) {
      out.set(p.data.subarray(o * chunk, (o + 1) * chunk), o * outShape[axis] * inner + offset);
    }
    offset += chunk;
  }
  return out;
}

function sumAxis(x: Value, axis: number, F: FloatStorage): FloatArray {
  const len = x.shape[axis];
  const mean = meanAxis(x, axis, F);
  return generate(F, mean.length, (i) => mean[i] * len);
}

/** dL/dx (wrt 'input') or dy·x̂ (wrt 'scale') of layernorm, row by row. */
function layernormGrad(
  x: Value,
  gamma: Value,
  dy: Value,
  eps: number,
  wrt: 'input' | 'scale',
  F: FloatStorage,
): FloatArray {
  const h = x.shape[x.shape.length - 1];
  const out = new F(x.data.length);
  const xhat = new Float64Array(h);
  for (let r = 0; r < x.data.length / h; r++) {
    const { mean, inv } = rowMoments(x, r, h, eps);
    let meanG = 0;
    let meanGX = 0;
    for (let i = 0; i < h; i++) {
      xhat[i] = (x.data[r * h + i] - mean) * inv;
      const g = dy.data[r * h + i] * gamma.data[i];
      meanG += g;
      meanGX += g * xhat[i];
    }
    meanG /= h;
    meanGX /= h;
    for (let i = 0; i < h; i++) {
      out[r * h + i] =
        wrt === 'scale'
          ? dy.data[r * h + i] * xhat[i]
          : inv * (dy.data[r * h + i] * gamma.data[i] - meanG - xhat[i] * meanGX);
    }
  }
  return out;
}

/** Rows of cross-entropy that count: label ≠ -100 (ignore_index) and, with a mask, mask = 1. */
function countedRows(logits: Value, labels: Value, mask: Value | undefined): boolean[] {
  const classes = logits.shape[logits.shape.length - 1];
  return Array.from(labels.data, (label, r) => {
    if (label === -100 || (mask !== undefined && mask.data[r] !== 1)) return false;
    if (label < 0 || label >= classes)
      throw new InterpreterError(`label ${label} outside the ${classes} classes (ignore index: -100)`);
    return true;
  });
}

/** Softmax of each counted row minus its one-hot label, scaled by `scale` / (rows counted). */
function crossEntropy(
  logits: Value,
  labels: Value,
  mask: Value | undefined,
  gradScale: number | null,
  F: FloatStorage,
): FloatArray {
  const c = logits.shape[logits.shape.length - 1];
  const counted = countedRows(logits, labels, mask);
  const count = counted.filter(Boolean).length;
  const grad = new F(gradScale === null ? 0 : logits.data.length);
  let loss = 0;
  counted.forEach((use, r) => {
    if (!use) return;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < c; i++) max = Math.max(max, logits.data[r * c + i]);
    let sum = 0;
    for (let i = 0; i < c; i++) sum += Math.exp(logits.data[r * c + i] - max);
    const label = labels.data[r];
    loss += Math.log(sum) + max - logits.data[r * c + label];
    if (gradScale === null) return;
    for (let i = 0; i < c; i++) {
      const p = Math.exp(logits.data[r * c + i] - max) / sum;
      grad[r * c + i] = ((p - (i === label ? 1 : 0)) * gradScale) / count;
    }
  });
  return gradScale === null ? generate(F, 1, () => loss / count) : grad;
}

export class InterpreterError extends Error {
  override name = 'InterpreterError';
}

function evaluate(
  n: Node,
  args: readonly Value[],
  outShape: number[],
  env: Bindings,
  F: FloatStorage,
): Value['data'] {
  const [x, y, z] = args;
  switch (n.op) {
    case 'input':
    case 'param':
      throw new InterpreterError('leaf nodes are bound, not evaluated');
    case 'const':
      return generate(F, 1, () => n.value);
    case 'gather': {
      const h = x.shape[1];
      const out = new F(y.data.length * h);
      y.data.forEach((id, i) => {
        if (id < 0 || id >= x.shape[0])
          throw new InterpreterError(`token id ${id} outside the vocabulary of ${x.shape[0]}`);
        out.set(x.data.subarray(id * h, (id + 1) * h), i * h);
      });
      return out;
    }
    case 'linear':
      return linear(x, y, z, outShape, F);
    case 'matmul':
      return matmul(x, y, n.transB, outShape, F);
    case 'binary': {
      const fn = binaryFns[n.fn];
      return zipBroadcast(x, y, outShape, fn, F);
    }
    case 'unary': {
      const fn = unaryFns[n.fn];
      return generate(F, x.data.length, (i) => fn(x.data[i]));
    }
    case 'layernorm':
      return layernorm(x, y, z, n.eps, F);
    case 'softmax':
      return softmax(x, F);
    case 'mean':
      return meanAxis(x, axisOf(n.axis, x), F);
    case 'reshape':
      return x.data;
    case 'permute':
      return permute(x, n.perm, outShape, F);
    case 'slice': {
      const axis = axisOf(n.axis, x);
      return sliceAxis(x, axis, evalDim(n.start, env), evalDim(n.end, env), F);
    }
    case 'concat':
      return concatAxis(args, axisOf(n.axis, x), outShape, F);
    case 'expand': {
      const out = new F(size(outShape));
      const strides = broadcastStrides(x.shape, outShape);
      forEachBroadcast(outShape, strides, strides, (o, a) => {
        out[o] = x.data[a];
      });
      return out;
    }
    case 'tile': {
      const out = new F(x.data.length * n.times);
      for (let t = 0; t < n.times; t++) out.set(x.data, t * x.data.length);
      return out;
    }
    case 'stack': {
      const out = new F(size(outShape));
      args.forEach((t, i) => {
        out.set(t.data, i * t.data.length);
      });
      return out;
    }
    case 'segmented_linear': {
      const [outF, inF] = [y.shape[1], y.shape[2]];
      const rowsPerBatch = size(x.shape.slice(1, -1));
      const out = new F(size(outShape));
      const bounds = n.bounds.map((d) => evalDim(d, env));
      for (let s = 0; s + 1 < bounds.length; s++) {
        const w = { shape: [outF, inF], data: y.data.subarray(s * outF * inF, (s + 1) * outF * inF) };
        const b = z ? { shape: [outF], data: z.data.subarray(s * outF, (s + 1) * outF) } : undefined;
        const rows = bounds[s + 1] - bounds[s];
        const xs = {
          shape: [rows * rowsPerBatch, inF],
          data: x.data.subarray(bounds[s] * rowsPerBatch * inF, bounds[s + 1] * rowsPerBatch * inF),
        };
        out.set(linear(xs, w, b, [rows * rowsPerBatch, outF], F), bounds[s] * rowsPerBatch * outF);
      }
      return out;
    }
    case 'position_ids': {
      const [rows, seq] = x.shape;
      const out = new Int32Array(rows * seq);
      for (let r = 0; r < rows; r++) {
        let count = 0;
        for (let t = 0; t < seq; t++) {
          const real = x.data[r * seq + t] !== n.padding;
          if (real) count++;
          out[r * seq + t] = real ? n.padding + count : n.padding;
        }
      }
      return out;
    }
    case 'mask_bias':
      return generate(F, x.data.length, (i) => (1 - x.data[i]) * F32_MIN);
    case 'row_select': {
      const rowSize = size(outShape) / outShape[0];
      const out = new F(size(outShape));
      x.data.forEach((task, r) => {
        const source = args[1 + task];
        if (!source) throw new InterpreterError(`task id ${task} has no MultiTask child`);
        out.set(source.data.subarray(r * rowSize, (r + 1) * rowSize), r * rowSize);
      });
      return out;
    }
    case 'sum':
      return sumAxis(x, axisOf(n.axis, x), F);
    case 'unary_grad': {
      const derivative = unaryDerivatives[n.fn];
      return zipBroadcast(x, y, outShape, (v, dy) => derivative(v) * dy, F);
    }
    case 'layernorm_grad':
      return layernormGrad(x, y, z, n.eps, n.wrt, F);
    case 'cross_entropy':
      return crossEntropy(x, y, z, null, F);
    case 'cross_entropy_grad':
      return crossEntropy(x, y, args[3], z.data[0], F);
    case 'dropout_mask': {
      const key = dropoutKey(y.data[0], n.stream);
      const threshold = dropoutThreshold(n.p);
      const keep = 1 / (1 - n.p);
      return generate(F, x.data.length, (i) => (dropoutKeeps(key, i, threshold) ? keep : 0));
    }
    case 'gather_grad': {
      const h = x.shape[1];
      const out = new F(x.data.length);
      y.data.forEach((id, i) => {
        for (let j = 0; j < h; j++) out[id * h + j] += z.data[i * h + j];
      });
      return out;
    }
  }
}

/** Binds B and T from the inputs the graph reads. */
export function bindingsFor(inputs: Inputs): Bindings {
  const ids = inputs.input_ids;
  if (ids?.shape.length !== 2) throw new InterpreterError('input_ids must be a [batch, sequence] tensor');
  return { B: ids.shape[0], T: ids.shape[1] };
}

/**
 * Runs the graph; returns every graph output by name. Sizes come from the inputs unless given.
 * Float inputs and weights are converted to the storage precision (f32 unless options say 'f64').
 */
export function interpret<P extends Precision = 'f32'>(
  g: Graph,
  weights: WeightLookup,
  inputs: Inputs,
  env: Bindings = bindingsFor(inputs),
  options: InterpretOptions<P> = {},
): Map<string, Tensor<P>> {
  const F = STORAGE[options.precision ?? 'f32'];
  const values: Value[] = new Array(g.nodes.length);
  for (const n of g.nodes) {
    const shape = evalShape(n.shape, env);
    if (n.op === 'input') {
      const given = inputs[n.name];
      if (!given) throw new InterpreterError(`missing input '${n.name}'`);
      if (given.shape.join() !== shape.join()) {
        throw new InterpreterError(
          `input '${n.name}' has shape [${given.shape}], expected ${formatShape(n.shape)} = [${shape}]`,
        );
      }
      values[n.id] = stored(given, F);
    } else if (n.op === 'param') {
      const w = weights(n.key);
      if (!w) throw new InterpreterError(`no weights for parameter '${n.key}'`);
      if (w.shape.join() !== shape.join()) {
        throw new InterpreterError(
          `parameter '${n.key}' has shape [${w.shape}], the graph expects [${shape}]`,
        );
      }
      values[n.id] = stored(w, F);
    } else {
      values[n.id] = {
        shape,
        data: evaluate(
          n,
          n.inputs.map((i) => values[i]),
          shape,
          env,
          F,
        ),
      };
    }
  }
  // Every float value was allocated with STORAGE[P] (leaves converted by `stored`): its data is P's.
  return new Map(g.outputs.map((o) => [o.name, values[o.node] as Tensor<P>]));
}
