// Scalar functions of the reference interpreter, in f64. They define what the kernels must compute.

/** erf to ~1e-13: Taylor series near 0, continued fraction for erfc in the tails. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  if (ax > 9) return Math.sign(x);
  let frac = 0;
  for (let n = 60; n >= 1; n--) frac = n / 2 / (ax + frac);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + frac);
  return Math.sign(x) * (1 - erfc);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export const unaryFns = {
  relu: (x: number) => Math.max(x, 0),
  /** BERT's "gelu": the exact erf form. */
  gelu: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  /** "gelu_new": the tanh approximation. */
  gelu_new: (x: number) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
  silu: (x: number) => x / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
  leakyrelu: (x: number) => (x > 0 ? x : 0.01 * x),
  identity: (x: number) => x,
  exp: Math.exp,
} as const;

export const binaryFns = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
} as const;

/** torch.finfo(torch.float32).min: BERT's additive mask value for padded keys. */
export const F32_MIN = -3.4028234663852886e38;
