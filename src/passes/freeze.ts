// Freeze analysis: the parameters AdapterHub leaves trainable after train_adapter / train_adapter_fusion
// (semantics §4). The base model and every adapter module are frozen, then the trained adapters (or the
// trained fusion layers) are unfrozen. Heads are never frozen, active or not.
import type { CheckedTraining, Composition } from '../dsl/checked.ts';
import type { Graph, ParamOrigin } from '../ir/graph.ts';
import type { WeightStore } from '../load/weights.ts';

const ADAPTER_SEGMENT =
  /(?:_adapters|\.adapters|\.prefix_tunings|\.prefix_gates|\.loras|\.refts|\.prompt_tunings|\.shared_parameters)\.([^.]+)\./;
const FUSION_SEGMENT = /adapter_fusion_layer\.([^.]+)\./;
const HEAD_SEGMENT = /^heads\.([^.]+)\./;

/** Which module a checkpoint key belongs to, by the library's key filters. */
export function ownerOfKey(key: string): ParamOrigin {
  const head = HEAD_SEGMENT.exec(key);
  if (head) return { kind: 'head', name: head[1] };
  const fusion = FUSION_SEGMENT.exec(key);
  if (fusion) return { kind: 'fusion', name: fusion[1] };
  const adapter = ADAPTER_SEGMENT.exec(key);
  if (adapter) return { kind: 'adapter', name: adapter[1] };
  return { kind: 'base' };
}

function flatten(c: Composition): string[] {
  return typeof c === 'string' ? [c] : c.children.flatMap(flatten);
}

/** Fusion names unfrozen by train_adapter_fusion: the setup itself if a Fuse, and its direct Fuse children. */
function trainedFusions(setup: Composition): Set<string> {
  if (typeof setup === 'string') return new Set();
  const fuses = [setup, ...setup.children].filter((c) => typeof c !== 'string' && c.type === 'Fuse');
  return new Set(fuses.map((f) => flatten(f).join(',')));
}

export function isTrainable(origin: ParamOrigin, training: CheckedTraining): boolean {
  const adapters = new Set(flatten(training.setup));
  switch (origin.kind) {
    case 'base':
      return false;
    case 'head':
      return true;
    case 'adapter':
      return (training.target === 'adapter' || training.unfreezeAdapters) && adapters.has(origin.name);
    case 'fusion':
      return training.target === 'fusion' && trainedFusions(training.setup).has(origin.name);
  }
}

export interface TrainableReport {
  readonly names: readonly string[];
  readonly count: number;
  readonly numel: number;
}

/** The trainable parameters among all loaded and created ones, sorted by name as PyTorch lists them. */
export function trainableParameters(weights: WeightStore, training: CheckedTraining): TrainableReport {
  const names = [...weights.keys()].filter((k) => isTrainable(ownerOfKey(k), training)).sort();
  const numel = names.reduce((acc, k) => acc + weights.get(k)!.data.length, 0);
  return { names, count: names.length, numel };
}

export interface ModuleShare {
  readonly owner: string;
  readonly tensors: number;
  readonly values: number;
  readonly bytes: number;
}

export interface FreezeReport extends TrainableReport {
  readonly byModule: readonly ModuleShare[];
  /** The lowest encoder layer that reads a trainable parameter, or null (only heads train). */
  readonly lowestTrainableLayer: number | null;
  /** Layers below it: no activation gradient is needed there, so their backward is skipped. */
  readonly layersWithoutBackward: number;
}

const LAYER_SCOPE = /^layer(\d+)\./;

/** The trainable set with its shares per module, and how much of the backward pass it can skip. */
export function freezeReport(
  graph: Graph,
  weights: WeightStore,
  training: CheckedTraining,
  numLayers: number,
): FreezeReport {
  const trainable = trainableParameters(weights, training);
  const shares = new Map<string, ModuleShare>();
  for (const key of trainable.names) {
    const o = ownerOfKey(key);
    const owner = o.kind === 'base' ? 'base' : `${o.kind} ${o.name}`;
    const values = weights.get(key)!.data.length;
    const s = shares.get(owner) ?? { owner, tensors: 0, values: 0, bytes: 0 };
    shares.set(owner, {
      owner,
      tensors: s.tensors + 1,
      values: s.values + values,
      bytes: s.bytes + 4 * values,
    });
  }
  const names = new Set(trainable.names);
  const layers = graph.nodes
    .filter((n) => n.op === 'param' && names.has(n.key))
    .flatMap((p) => graph.nodes.filter((m) => m.inputs.includes(p.id)).map((m) => LAYER_SCOPE.exec(m.scope)))
    .flatMap((m) => (m ? [Number(m[1])] : []));
  const lowest = layers.length > 0 ? Math.min(...layers) : null;
  return {
    ...trainable,
    byModule: [...shares.values()],
    lowestTrainableLayer: lowest,
    layersWithoutBackward: lowest ?? numLayers,
  };
}
