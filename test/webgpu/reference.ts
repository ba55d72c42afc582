// Plain-TypeScript references with f64 accumulation, the ground truth for every WGSL kernel test.

import type { Activation } from '../../src/codegen-wgsl/activation.ts';

/** erf to ~1e-15: Maclaurin series below 3, Lentz's continued fraction for erfc above. */
export function erf(x: number): number {
  const z = Math.abs(x);
  if (z < 3) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * sum * (2 / Math.sqrt(Math.PI));
  }
  // erfc(z) = exp(-z²)/sqrt(pi) · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...))))
  let f = z;
  for (let n = 60; n >= 1; n--) f = z + n / 2 / f;
  const erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function activate(activation: Activation, x: number): number {
  switch (activation) {
    case 'identity':
      return x;
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'relu':
      return Math.max(x, 0);
    case 'leakyrelu':
      return x >= 0 ? x : 0.01 * x;
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
  }
}

export interface MatmulReference {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly transposeB: boolean;
  readonly bias?: Float32Array;
  readonly scale?: number;
  readonly activation?: Activation;
  readonly residual?: Float32Array;
  readonly columnScale?: Float32Array;
}

export function matmul(r: MatmulReference): Float64Array {
  const c = new Float64Array(r.M * r.N);
  for (let i = 0; i < r.M; i++) {
    for (let j = 0; j < r.N; j++) {
      let sum = 0;
      for (let k = 0; k < r.K; k++)
        sum += r.a[i * r.K + k] * (r.transposeB ? r.b[j * r.K + k] : r.b[k * r.N + j]);
      if (r.bias) sum += r.bias[j];
      if (r.scale !== undefined) sum *= r.scale;
      sum = activate(r.activation ?? 'identity', sum);
      if (r.residual) sum += r.residual[i * r.N + j];
      if (r.columnScale) sum *= r.columnScale[j];
      c[i * r.N + j] = sum;
    }
  }
  return c;
}

export function layerNorm(
  x: Float32Array,
  residual: Float32Array | undefined,
  gamma: Float32Array,
  beta: Float32Array,
  rows: number,
  H: number,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * H);
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: H }, (_, h) => x[r * H + h] + (residual ? residual[r * H + h] : 0));
    const mean = row.reduce((s, v) => s + v, 0) / H;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / H;
    const inv = 1 / Math.sqrt(variance + eps);
    row.forEach((v, h) => {
      y[r * H + h] = (v - mean) * inv * gamma[h] + beta[h];
    });
  }
  return y;
}

export function attentionSoftmax(
  scores: Float32Array,
  mask: Float32Array | undefined,
  dims: { rows: number; rowsPerBatch: number; Tk: number; prefix: number },
  scale = 1,
): Float64Array {
  const { rows, rowsPerBatch, Tk, prefix } = dims;
  const out = new Float64Array(rows * Tk);
  for (let r = 0; r < rows; r++) {
    const b = Math.floor(r / rowsPerBatch);
    const logits = Array.from(
      { length: Tk },
      (_, j) => scores[r * Tk + j] * scale + (mask && j >= prefix ? mask[b * (Tk - prefix) + j - prefix] : 0),
    );
    const highest = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - highest));
    const total = exps.reduce((s, e) => s + e, 0);
    exps.forEach((e, j) => {
      out[r * Tk + j] = e / total;
    });
  }
  return out;
}

export interface LowRankReference {
  readonly x: Float32Array;
  readonly rows: number;
  readonly inDim: number;
  readonly outDim: number;
  readonly down: Float32Array;
  readonly downBias?: Float32Array;
  readonly up: Float32Array;
  readonly upBias?: Float32Array;
  readonly activation: Activation;
  readonly scale: number;
  readonly residual?: Float32Array;
}

/** out[row] = residual[row] + scale · (up · act(down · x[row] + downBias) + upBias), for the given rows. */
export function lowRank(r: LowRankReference, rowRange: [number, number], out: Float64Array): void {
  const rank = r.down.length / r.inDim;
  for (let row = rowRange[0]; row < rowRange[1]; row++) {
    const hidden = Array.from({ length: rank }, (_, j) => {
      let sum = r.downBias ? r.downBias[j] : 0;
      for (let k = 0; k < r.inDim; k++) sum += r.down[j * r.inDim + k] * r.x[row * r.inDim + k];
      return activate(r.activation, sum);
    });
    for (let n = 0; n < r.outDim; n++) {
      let sum = r.upBias ? r.upBias[n] : 0;
      for (let j = 0; j < rank; j++) sum += r.up[n * rank + j] * hidden[j];
      out[row * r.outDim + n] = (r.residual ? r.residual[row * r.outDim + n] : 0) + r.scale * sum;
    }
  }
}

export function fusionAttention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  rows: number,
  adapters: number,
  H: number,
  temperature: number,
): { ctx: Float64Array; probs: Float64Array } {
  const ctx = new Float64Array(rows * H);
  const probs = new Float64Array(rows * adapters);
  for (let r = 0; r < rows; r++) {
    const scores = Array.from({ length: adapters }, (_, a) => {
      let s = 0;
      for (let h = 0; h < H; h++) s += q[r * H + h] * k[(r * adapters + a) * H + h];
      return s / temperature;
    });
    const highest = Math.max(...scores);
    const exps = scores.map((s) => Math.exp(s - highest));
    const total = exps.reduce((s, e) => s + e, 0);
    exps.forEach((e, a) => {
      probs[r * adapters + a] = e / total;
      for (let h = 0; h < H; h++) ctx[r * H + h] += (e / total) * v[(r * adapters + a) * H + h];
    });
  }
  return { ctx, probs };
}
