// Checkpoint keys, in the library's flex-head model naming (BertAdapterModel, RobertaAdapterModel):
// base-model parameters under `bert.` or `roberta.`, heads under `heads.`. Loaders reconcile folders
// saved with or without the prefix.

export type BottleneckLocation = 'mh_adapter' | 'output_adapter';
export type LoraLocation = 'q' | 'k' | 'v' | 'intermediate' | 'output';

const BOTTLENECK_MODULE: Record<BottleneckLocation, string> = {
  mh_adapter: 'attention.output',
  output_adapter: 'output',
};

const LORA_MODULE: Record<LoraLocation, string> = {
  q: 'attention.self.query',
  k: 'attention.self.key',
  v: 'attention.self.value',
  intermediate: 'intermediate.dense',
  output: 'output.dense',
};

/** The attribute holding the base model: `bert` for BERT, `roberta` for RoBERTa and XLM-R. */
export function basePrefixOf(modelType: string): string {
  return modelType === 'bert' ? 'bert' : 'roberta';
}

export class CheckpointKeys {
  constructor(readonly base: string) {}

  /** A base-model parameter outside the layers: `embeddings.…`, `pooler.…`. */
  model(path: string): string {
    return `${this.base}.${path}`;
  }

  layer(layer: number, path: string): string {
    return `${this.base}.encoder.layer.${layer}.${path}`;
  }

  bottleneck(layer: number, loc: BottleneckLocation, name: string, path: string): string {
    return this.layer(layer, `${BOTTLENECK_MODULE[loc]}.adapters.${name}.${path}`);
  }

  fusion(layer: number, loc: BottleneckLocation, fusion: string, path: string): string {
    return this.layer(layer, `${BOTTLENECK_MODULE[loc]}.adapter_fusion_layer.${fusion}.${path}`);
  }

  /** The nn.Linear a LoRA/IA³ module wraps. */
  linear(layer: number, loc: LoraLocation): string {
    return this.layer(layer, LORA_MODULE[loc]);
  }

  lora(layer: number, loc: LoraLocation, name: string, path: string): string {
    return `${this.linear(layer, loc)}.loras.${name}.${path}`;
  }

  prefix(name: string, path: string): string {
    return `${this.base}.prefix_tuning.prefix_tunings.${name}.self_prefix.${path}`;
  }

  prompt(name: string): string {
    return `${this.base}.prompt_tuning.prompt_tunings.${name}.prompt_embedding.weight`;
  }

  head(head: string, index: number, path: string): string {
    return `heads.${head}.${index}.${path}`;
  }
}
