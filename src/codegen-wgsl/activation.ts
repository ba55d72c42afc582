// Elementwise activations as WGSL helpers over vec4f, emitted only into kernels that use them.

import { fn } from './render.ts';

export type Activation =
  | 'identity'
  | 'gelu'
  | 'gelu_new'
  | 'relu'
  | 'leakyrelu'
  | 'silu'
  | 'tanh'
  | 'sigmoid';

/**
 * erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7 in exact arithmetic). WGSL has no erf; BERT's GELU is the
 * erf form, so the tanh approximation would not match checkpoints bit-for-bit closely enough.
 */
const ERF = fn(
  'erf4(x: vec4f) -> vec4f',
  'let z = abs(x);',
  'let t = 1.0 / (1.0 + 0.3275911 * z);',
  'let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));',
  'return sign(x) * (1.0 - poly * exp(-z * z));',
);

const GELU = fn('gelu4(x: vec4f) -> vec4f', 'return 0.5 * x * (1.0 + erf4(x * 0.7071067811865476));');

/** Some drivers compute tanh through exp(2x) and return NaN past |x| ≈ 44; tanh(±15) is ±1 in f32 anyway. */
const TANH = fn('tanh4(x: vec4f) -> vec4f', 'return tanh(clamp(x, vec4f(-15.0), vec4f(15.0)));');

/** HF's `gelu_new` (GPT-2's tanh approximation); not to be confused with BERT's erf GELU. */
const GELU_NEW = fn(
  'gelu_new4(x: vec4f) -> vec4f',
  'return 0.5 * x * (1.0 + tanh4(0.7978845608028654 * (x + 0.044715 * x * x * x)));',
);

const SIGMOID = fn('sigmoid4(x: vec4f) -> vec4f', 'return 1.0 / (1.0 + exp(-x));');

const SILU = fn('silu4(x: vec4f) -> vec4f', 'return x * sigmoid4(x);');

const RELU = fn('relu4(x: vec4f) -> vec4f', 'return max(x, vec4f(0.0));');

/** torch.nn.LeakyReLU's default slope, which AdapterHub's 'leakyrelu' uses. */
const LEAKY_RELU = fn('leakyrelu4(x: vec4f) -> vec4f', 'return select(0.01 * x, x, x >= vec4f(0.0));');

const HELPERS: Record<Activation, readonly string[]> = {
  identity: [],
  gelu: [ERF, GELU],
  gelu_new: [TANH, GELU_NEW],
  relu: [RELU],
  leakyrelu: [LEAKY_RELU],
  silu: [SIGMOID, SILU],
  tanh: [TANH],
  sigmoid: [SIGMOID],
};

const RELU_GRAD = fn(
  'relu_grad4(x: vec4f) -> vec4f',
  'return select(vec4f(0.0), vec4f(1.0), x > vec4f(0.0));',
);

const LEAKY_RELU_GRAD = fn(
  'leakyrelu_grad4(x: vec4f) -> vec4f',
  'return select(vec4f(0.01), vec4f(1.0), x > vec4f(0.0));',
);

const GELU_GRAD = fn(
  'gelu_grad4(x: vec4f) -> vec4f',
  'return 0.5 * (1.0 + erf4(x * 0.7071067811865476)) + x * 0.3989422804014327 * exp(-0.5 * x * x);',
);

const GELU_NEW_GRAD = fn(
  'gelu_new_grad4(x: vec4f) -> vec4f',
  'let t = tanh4(0.7978845608028654 * (x + 0.044715 * x * x * x));',
  'return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 0.134145 * x * x);',
);

const SIGMOID_GRAD = fn('sigmoid_grad4(x: vec4f) -> vec4f', 'let s = sigmoid4(x);', 'return s * (1.0 - s);');

const SILU_GRAD = fn(
  'silu_grad4(x: vec4f) -> vec4f',
  'let s = sigmoid4(x);',
  'return s * (1.0 + x * (1.0 - s));',
);

const TANH_GRAD = fn('tanh_grad4(x: vec4f) -> vec4f', 'let t = tanh4(x);', 'return 1.0 - t * t;');

const DERIVATIVE_HELPERS: Record<Activation, readonly string[]> = {
  identity: [],
  gelu: [ERF, GELU_GRAD],
  gelu_new: [TANH, GELU_NEW_GRAD],
  relu: [RELU_GRAD],
  leakyrelu: [LEAKY_RELU_GRAD],
  silu: [SIGMOID, SILU_GRAD],
  tanh: [TANH, TANH_GRAD],
  sigmoid: [SIGMOID, SIGMOID_GRAD],
};

/** Helper functions an activation's derivative needs, in dependency order. */
export function derivativeFunctions(activation: Activation): readonly string[] {
  return DERIVATIVE_HELPERS[activation];
}

/** WGSL expression for the activation's derivative at a vec4f expression (autodiff/derivatives.ts). */
export function applyDerivative(activation: Activation, vec4Expr: string): string {
  return activation === 'identity' ? 'vec4f(1.0)' : `${activation}_grad4(${vec4Expr})`;
}

/** Helper functions an activation needs, in dependency order. */
export function activationFunctions(activation: Activation): readonly string[] {
  return HELPERS[activation];
}

/** WGSL expression applying the activation to a vec4f expression. */
export function applyActivation(activation: Activation, vec4Expr: string): string {
  return activation === 'identity' ? vec4Expr : `${activation}4(${vec4Expr})`;
}
