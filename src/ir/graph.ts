// The IR: a typed tensor dataflow graph. One node type; `op` says what it computes.
// Nodes are stored in topological order and a node's id is its index. Parameters are referenced by
// their checkpoint key and tagged with their owner; their values live outside the graph (a WeightStore),
// so graphs stay small, printable and cheap to rewrite.
import type { Dim, Shape } from './shape.ts';

export type NodeId = number;
export type DType = 'f32' | 'i32';
export type InputName =
  | 'input_ids'
  | 'attention_mask'
  | 'token_type_ids'
  | 'task_ids'
  | 'labels'
  /** Training: the step's dropout seed, an i32 scalar (see `dropout_mask`). */
  | 'dropout_seed'
  /** Training: AdapterFusion's 1/temperature, an f32 scalar that changes every forward call. */
  | 'fusion_scale';

export type ParamOrigin =
  | { readonly kind: 'base' }
  | { readonly kind: 'adapter' | 'fusion' | 'head'; readonly name: string };

export type UnaryFn =
  | 'relu'
  | 'gelu'
  | 'gelu_new'
  | 'silu'
  | 'tanh'
  | 'sigmoid'
  | 'leakyrelu'
  | 'identity'
  | 'exp';
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div';

export type Op =
  | { readonly op: 'input'; readonly name: InputName }
  | { readonly op: 'param'; readonly key: string; readonly origin: ParamOrigin }
  | { readonly op: 'const'; readonly value: number }
  /** inputs [table [V,H], ids [...]] → [..., H] */
  | { readonly op: 'gather' }
  /** inputs [x [..., in], weight [out, in], bias? [out]] → [..., out]: nn.Linear */
  | { readonly op: 'linear' }
  /** inputs [a [..., M, K], b [..., K, N] or [..., N, K] when transB] → [..., M, N] */
  | { readonly op: 'matmul'; readonly transB: boolean }
  /** Elementwise with numpy broadcasting (dimensions aligned from the right). */
  | { readonly op: 'binary'; readonly fn: BinaryFn }
  | { readonly op: 'unary'; readonly fn: UnaryFn }
  /** inputs [x, gamma, beta], normalized over the last dimension. */
  | { readonly op: 'layernorm'; readonly eps: number }
  /** Softmax over the last dimension. */
  | { readonly op: 'softmax' }
  /** Mean over one axis, keeping it with size 1. */
  | { readonly op: 'mean'; readonly axis: number }
  | { readonly op: 'reshape'; readonly to: Shape }
  | { readonly op: 'permute'; readonly perm: readonly number[] }
  | { readonly op: 'slice'; readonly axis: number; readonly start: Dim; readonly end: Dim }
  | { readonly op: 'concat'; readonly axis: number }
  /** Broadcasts to a larger shape (numpy broadcast_to). */
  | { readonly op: 'expand'; readonly to: Shape }
  /** Repeats the whole tensor `times` times along axis 0 (torch `repeat`, not `repeat_interleave`). */
  | { readonly op: 'tile'; readonly times: number }
  /**
   * inputs [input_ids [B,T] i32] → RoBERTa's position ids [B,T] i32: padding + the count of non-padding
   * tokens so far for non-padding tokens, padding itself for padding tokens.
   */
  | { readonly op: 'position_ids'; readonly padding: number }
  /** inputs [attention_mask [B,T] i32] → BERT's additive mask [B,1,1,T]: (1 − m)·finfo(f32).min */
  | { readonly op: 'mask_bias' }
  /** inputs p₀ … pₙ₋₁ of one shape → [n, ...shape]: branch weights packed side by side. */
  | { readonly op: 'stack' }
  /**
   * inputs [x [R, ..., in], weights [n, out, in], bias? [n, out]] → [R, ..., out]: rows
   * [bounds[i], bounds[i+1]) of x use weights[i] (Punica's segmented gather, one op for n branches).
   */
  | { readonly op: 'segmented_linear'; readonly bounds: readonly Dim[] }
  /** inputs [task_ids [B], c₀ … cₙ₋₁ (same shape, batch first)] → row r taken from c_{task_ids[r]} */
  | { readonly op: 'row_select' }
  // Training ops (src/autodiff): losses and the backward pieces the forward ops cannot express.
  /** Sum over one axis, keeping it with size 1. */
  | { readonly op: 'sum'; readonly axis: number }
  /** inputs [x, dy] → dy · fn′(x), elementwise. */
  | { readonly op: 'unary_grad'; readonly fn: UnaryFn }
  /**
   * inputs [x, gamma, dy] of layernorm → wrt 'input': dL/dx; wrt 'scale': dy · x̂ (x normalized,
   * before gamma), which summed over rows is dL/dgamma.
   */
  | { readonly op: 'layernorm_grad'; readonly eps: number; readonly wrt: 'input' | 'scale' }
  /**
   * inputs [logits [..., C], labels [...] i32, mask? [...] i32] → []: torch CrossEntropyLoss, the mean
   * over positions whose label is not -100 (ignore_index) and, given a mask, whose mask is 1.
   */
  | { readonly op: 'cross_entropy' }
  /** inputs [logits, labels, dloss [], mask?] → dL/dlogits of cross_entropy, scaled by dloss. */
  | { readonly op: 'cross_entropy_grad' }
  /** inputs [table [V,H], ids [...], dy [..., H]] → [V,H]: dy rows summed into the rows of their ids. */
  | { readonly op: 'gather_grad' }
  /**
   * inputs [x, seed [] i32] → inverted-dropout mask of x's shape: 1/(1 − p) where the draw for
   * (seed, stream, row-major index) is ≥ p, else 0 (`dropoutKeeps`: counter-based, so every backend
   * draws the same mask in any order). The seed is an input: a new one per training step.
   */
  | { readonly op: 'dropout_mask'; readonly p: number; readonly stream: number };

export type OpKind = Op['op'];

export type Node = Op & {
  readonly id: NodeId;
  readonly inputs: readonly NodeId[];
  readonly shape: Shape;
  readonly dtype: DType;
  /** Where the node came from in the model (e.g. `layer3.output.adapter`), for printing and reports. */
  readonly scope: string;
};

export interface GraphOutput {
  readonly name: string;
  readonly node: NodeId;
}

export interface Graph {
  readonly nodes: readonly Node[];
  readonly outputs: readonly GraphOutput[];
}

export function paramNodes(g: Graph): readonly (Node & { op: 'param' })[] {
  return g.nodes.filter((n): n is Node & { op: 'param' } => n.op === 'param');
}
