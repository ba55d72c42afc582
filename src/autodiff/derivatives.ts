// Derivatives of the reference interpreter's scalar functions (runtime/reference/math.ts), in f64.
import type { UnaryFn } from '../ir/graph.ts';
import { erf, unaryFns } from '../runtime/reference/math.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export const unaryDerivatives: Readonly<Record<UnaryFn, (x: number) => number>> = {
  relu: (x) => (x > 0 ? 1 : 0),
  gelu: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  gelu_new: (x) => {
    const t = Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
  },
  silu: (x) => {
    const s = unaryFns.sigmoid(x);
    return s * (1 + x * (1 - s));
  },
  tanh: (x) => 1 - Math.tanh(x) ** 2,
  sigmoid: (x) => {
    const s = unaryFns.sigmoid(x);
    return s * (1 - s);
  },
  leakyrelu: (x) => (x > 0 ? 1 : 0.01),
  identity: () => 1,
  exp: Math.exp,
};
