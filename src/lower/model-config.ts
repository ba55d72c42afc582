// The base model's config.json, reduced to what the encoder needs.

export interface EncoderConfig {
  readonly modelType: 'bert' | 'roberta' | 'xlm-roberta';
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly hiddenAct: string;
  readonly layerNormEps: number;
  readonly maxPositions: number;
  readonly typeVocabSize: number;
  readonly padTokenId: number;
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

function num(json: Record<string, unknown>, key: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ModelConfigError(`config.json: '${key}' must be a number`);
  return v;
}

export function encoderConfigFromJson(json: Record<string, unknown>): EncoderConfig {
  const modelType = json.model_type;
  if (modelType !== 'bert' && modelType !== 'roberta' && modelType !== 'xlm-roberta') {
    throw new ModelConfigError(
      `config.json: model_type '${String(modelType)}' is not supported (bert, roberta, xlm-roberta)`,
    );
  }
  const cfg: EncoderConfig = {
    modelType,
    vocabSize: num(json, 'vocab_size'),
    hiddenSize: num(json, 'hidden_size'),
    numLayers: num(json, 'num_hidden_layers'),
    numHeads: num(json, 'num_attention_heads'),
    intermediateSize: num(json, 'intermediate_size'),
    hiddenAct: typeof json.hidden_act === 'string' ? json.hidden_act : 'gelu',
    layerNormEps: num(json, 'layer_norm_eps', 1e-12),
    maxPositions: num(json, 'max_position_embeddings'),
    typeVocabSize: num(json, 'type_vocab_size', 2),
    padTokenId: num(json, 'pad_token_id', 0),
  };
  if (cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new ModelConfigError(
      `config.json: hidden_size ${cfg.hiddenSize} is not divisible by num_attention_heads ${cfg.numHeads}`,
    );
  }
  if (json.position_embedding_type !== undefined && json.position_embedding_type !== 'absolute') {
    throw new ModelConfigError(
      `config.json: position_embedding_type '${String(json.position_embedding_type)}' is not supported`,
    );
  }
  return cfg;
}
