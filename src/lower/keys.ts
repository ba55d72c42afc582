// Checkpoint keys, in the library's BertAdapterModel state-dict naming. Base-model keys carry the
// `bert.` prefix here whatever the model folder used; loaders reconcile the prefix.

export const BASE = 'bert';

export const layerKey = (layer: number, path: string) => `${BASE}.encoder.layer.${layer}.${path}`;

export type BottleneckLocation = 'mh_adapter' | 'output_adapter';
export type LoraLocation = 'q' | 'k' | 'v' | 'intermediate' | 'output';

const bottleneckModule: Record<BottleneckLocation, string> = {
  mh_adapter: 'attention.output',
  output_adapter: 'output',
};

const loraModule: Record<LoraLocation, string> = {
  q: 'attention.self.query',
  k: 'attention.self.key',
  v: 'attention.self.value',
  intermediate: 'intermediate.dense',
  output: 'output.dense',
};

export const bottleneckKey = (layer: number, loc: BottleneckLocation, name: string, path: string) =>
  layerKey(layer, `${bottleneckModule[loc]}.adapters.${name}.${path}`);

export const fusionKey = (layer: number, loc: BottleneckLocation, fusion: string, path: string) =>
  layerKey(layer, `${bottleneckModule[loc]}.adapter_fusion_layer.${fusion}.${path}`);

export const loraModuleKey = (layer: number, loc: LoraLocation) => layerKey(layer, loraModule[loc]);

export const loraKey = (layer: number, loc: LoraLocation, name: string, path: string) =>
  `${loraModuleKey(layer, loc)}.loras.${name}.${path}`;

export const prefixKey = (name: string, path: string) =>
  `${BASE}.prefix_tuning.prefix_tunings.${name}.self_prefix.${path}`;

export const headKey = (head: string, index: number, path: string) => `heads.${head}.${index}.${path}`;
