// A compiled model as two files a page can fetch: a JSON manifest (the optimized graph and where each parameter
// lies) and one binary of little-endian f32 weights. The compiler runs in Node; browsers only load and run.
import type { HostTensor } from '../../checkpoint/tensor.ts';
import type { Graph } from '../../ir/graph.ts';
import type { ModelSource } from './model.ts';

export interface ManifestTensor {
  readonly key: string;
  readonly shape: readonly number[];
  /** Offset in f32 elements into the weights file. */
  readonly offset: number;
}

export interface ModelManifest {
  readonly format: 'adaptc-model/1';
  readonly graph: Graph;
  readonly tensors: readonly ManifestTensor[];
}

export function serializeModel(source: ModelSource): { manifest: ModelManifest; weights: Float32Array } {
  const keys = [...new Set(source.graph.nodes.flatMap((n) => (n.op === 'param' ? [n.key] : [])))];
  const tensors: ManifestTensor[] = [];
  let offset = 0;
  for (const key of keys) {
    const tensor = source.weights.get(key);
    if (!tensor) throw new Error(`no weights for parameter '${key}'`);
    tensors.push({ key, shape: tensor.shape, offset });
    offset += tensor.data.length;
  }
  const weights = new Float32Array(offset);
  tensors.forEach((t) => {
    weights.set(source.weights.get(t.key)!.data, t.offset);
  });
  return { manifest: { format: 'adaptc-model/1', graph: source.graph, tensors }, weights };
}

export function deserializeModel(manifest: ModelManifest, weights: ArrayBuffer): ModelSource {
  if (manifest.format !== 'adaptc-model/1') throw new Error(`unknown model format '${manifest.format}'`);
  const all = new Float32Array(weights);
  const store = new Map<string, HostTensor>(
    manifest.tensors.map((t) => {
      const length = t.shape.reduce((a, b) => a * b, 1);
      return [t.key, { shape: t.shape, data: all.subarray(t.offset, t.offset + length) }];
    }),
  );
  return { graph: manifest.graph, weights: store };
}
