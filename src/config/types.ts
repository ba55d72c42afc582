// Normalized AdapterHub configurations. Field names are the library's own (snake_case), so a config
// serializes to exactly the `adapter_config.json` / `head_config.json` / fusion JSON the library writes.
// `architecture` is the discriminant; for the bottleneck family the library's JSON has no such key
// (it is a class attribute there), so it is added on read and dropped on write.

export type ReductionFactor = number | Readonly<Record<string, number>>;

export interface BnConfig {
  readonly architecture: 'bottleneck';
  readonly mh_adapter: boolean;
  readonly output_adapter: boolean;
  readonly reduction_factor: ReductionFactor;
  readonly non_linearity: string;
  readonly original_ln_before: boolean;
  readonly original_ln_after: boolean;
  readonly residual_before_ln: boolean | 'post_add';
  readonly adapter_residual_before_ln: boolean;
  readonly ln_before: boolean;
  readonly ln_after: boolean;
  readonly init_weights: string;
  readonly is_parallel: boolean;
  readonly scaling: number | 'learned' | 'channel';
  readonly use_gating: boolean;
  readonly leave_out: readonly number[];
  readonly dropout: number;
  readonly phm_layer: boolean;
  /** Every other key the library serializes (phm_*, inv_adapter, cross_adapter, stochastic_depth, ...), kept verbatim. */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface LoRAConfig {
  readonly architecture: 'lora';
  readonly selfattn_lora: boolean;
  readonly intermediate_lora: boolean;
  readonly output_lora: boolean;
  readonly leave_out: readonly number[];
  readonly r: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly attn_matrices: readonly ('q' | 'k' | 'v')[];
  /** 'add' is LoRA, 'scale' is IA³. */
  readonly composition_mode: 'add' | 'scale';
  readonly init_weights: string;
  readonly use_gating: boolean;
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface PrefixTuningConfig {
  readonly architecture: 'prefix_tuning';
  readonly encoder_prefix: boolean;
  readonly cross_prefix: boolean;
  readonly leave_out: readonly number[];
  readonly flat: boolean;
  readonly prefix_length: number;
  readonly bottleneck_size: number;
  readonly non_linearity: string;
  readonly dropout: number;
  readonly use_gating: boolean;
  readonly shared_gating: boolean;
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface PromptTuningConfig {
  readonly architecture: 'prompt_tuning';
  readonly prompt_length: number;
  readonly prompt_init: 'random_uniform' | 'from_string';
  readonly prompt_init_text: string | null;
  readonly combine: 'prefix' | 'prefix_after_bos';
  readonly leave_out: readonly number[];
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface UnionConfig {
  readonly architecture: 'union';
  readonly configs: readonly SingleAdapterConfig[];
}

export type SingleAdapterConfig = BnConfig | LoRAConfig | PrefixTuningConfig | PromptTuningConfig;
export type AdapterConfig = SingleAdapterConfig | UnionConfig;

/** The method family that decides which composition blocks an adapter supports (semantics §1.2). */
export type MethodFamily = 'bottleneck' | 'lora' | 'ia3' | 'prefix_tuning' | 'prompt_tuning';

export interface FusionConfig {
  readonly key: boolean;
  readonly query: boolean;
  readonly value: boolean;
  readonly query_before_ln: boolean;
  readonly regularization: boolean;
  readonly residual_before: boolean;
  readonly temperature: boolean;
  readonly value_before_softmax: boolean;
  readonly value_initialized: boolean | string;
  readonly dropout_prob: number | null;
}

export type HeadType =
  | 'classification'
  | 'multilabel_classification'
  | 'tagging'
  | 'multiple_choice'
  | 'question_answering';

export interface HeadConfig {
  readonly head_type: HeadType;
  /** For multiple choice this is the number of choices; the last layer has one output. */
  readonly num_labels: number;
  readonly layers: number;
  readonly activation_function: string | null;
  readonly label2id: Readonly<Record<string, number>> | null;
  readonly use_pooler: boolean;
  readonly bias: boolean;
  readonly dropout_prob: number | null;
  readonly extra: Readonly<Record<string, unknown>>;
}
