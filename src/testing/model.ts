// Tiny models, programs, weights and inputs built in memory, for property tests (ours and users').
import type { HostTensor } from '../checkpoint/tensor.ts';
import type { AdapterConfig, FusionConfig, HeadConfig } from '../config/types.ts';
import type { Span } from '../dsl/ast.ts';
import type { CheckedProgram, CheckedTraining, Composition, HeadSetup } from '../dsl/checked.ts';
import type { Graph } from '../ir/graph.ts';
import { evalShape } from '../ir/shape.ts';
import { seededUniform } from '../load/init.ts';
import type { WeightStore } from '../load/weights.ts';
import type { EncoderConfig } from '../lower/model-config.ts';
import type { Inputs, Tensor } from '../runtime/reference/interpret.ts';

export interface TinyModelSpec {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediate: number;
  readonly vocab?: number;
  readonly maxPositions?: number;
}

export function tinyEncoderConfig(spec: TinyModelSpec): EncoderConfig {
  return {
    modelType: 'bert',
    vocabSize: spec.vocab ?? 32,
    hiddenSize: spec.hidden,
    numLayers: spec.layers,
    numHeads: spec.heads,
    intermediateSize: spec.intermediate,
    hiddenAct: 'gelu',
    layerNormEps: 1e-12,
    maxPositions: spec.maxPositions ?? 32,
    typeVocabSize: 2,
    padTokenId: 0,
  };
}

export interface ProgramSpec {
  readonly adapters: Readonly<Record<string, AdapterConfig>>;
  readonly fusions?: readonly { readonly adapters: readonly string[]; readonly config: FusionConfig }[];
  readonly heads?: Readonly<Record<string, HeadConfig>>;
  readonly setup: Composition | null;
  readonly headSetup?: HeadSetup;
  readonly skipLayers?: readonly number[];
}

const NOWHERE: Span = { file: '<memory>', start: 0, end: 0, line: 1, column: 1 };

/** A checked program over modules that exist only in memory (every module is `new`). */
export function programOf(spec: ProgramSpec): CheckedProgram {
  return {
    file: '<memory>',
    model: '<memory>',
    store: null,
    adapters: new Map(
      Object.entries(spec.adapters).map(([name, config]) => [
        name,
        { name, origin: 'new', config, span: NOWHERE },
      ]),
    ),
    heads: new Map(
      Object.entries(spec.heads ?? {}).map(([name, config]) => [
        name,
        { name, origin: 'new', config, span: NOWHERE },
      ]),
    ),
    fusions: new Map(
      (spec.fusions ?? []).map((f) => {
        const name = f.adapters.join(',');
        return [name, { name, adapters: f.adapters, origin: 'new', config: f.config, span: NOWHERE }];
      }),
    ),
    setup: spec.setup,
    headSetup: spec.headSetup ?? null,
    skipLayers: spec.skipLayers ?? [],
    training: null,
  };
}

/**
 * Random values for every parameter the graph reads, scaled as the golden fixtures are: LayerNorm and
 * IA³ scales 1 + 0.1·N(0,1), biases 0.1·N(0,1), everything else 0.2·N(0,1). Zero-initialized
 * up-projections would make adapters no-ops, so nothing here is zero.
 */
export function randomWeights(graph: Graph, seed: number): WeightStore {
  const store = new Map<string, HostTensor>();
  for (const n of graph.nodes) {
    if (n.op !== 'param' || store.has(n.key)) continue;
    const shape = evalShape(n.shape, { B: 0, T: 0 });
    const uniform = seededUniform(seed, n.key);
    const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    const isScale =
      /LayerNorm\.weight$|norm[^.]*\.weight$/.test(n.key) || (n.key.endsWith('.lora_B') && shape[1] === 1);
    const [offset, std] = isScale ? [1, 0.1] : n.key.endsWith('.bias') ? [0, 0.1] : [0, 0.2];
    const size = shape.reduce((a, b) => a * b, 1);
    store.set(n.key, { shape, data: Float32Array.from({ length: size }, () => offset + std * normal()) });
  }
  return store;
}

/** Random class labels [batch] in 0..classes-1: the `labels` input of a training graph. */
export function randomLabels(batch: number, classes: number, seed: number): Tensor {
  const uniform = seededUniform(seed, 'labels');
  return { shape: [batch], data: Int32Array.from({ length: batch }, () => Math.floor(uniform() * classes)) };
}

/** What a program can train: its adapters (train_adapter), and its fusion too when it declares one. */
export function trainingTargets(program: CheckedProgram): CheckedTraining[] {
  const setup = program.setup!;
  const adapter: CheckedTraining = { target: 'adapter', setup, unfreezeAdapters: false, randomDrop: null };
  return program.fusions.size === 0 ? [adapter] : [adapter, { ...adapter, target: 'fusion' }];
}

/** Random token ids with right padding (every row keeps at least its first token). */
export function randomInputs(batch: number, seq: number, vocab: number, seed: number): Inputs {
  const uniform = seededUniform(seed, 'inputs');
  const ids = new Int32Array(batch * seq);
  const mask = new Int32Array(batch * seq);
  for (let r = 0; r < batch; r++) {
    const length = 1 + Math.floor(uniform() * seq);
    for (let t = 0; t < seq; t++) {
      mask[r * seq + t] = t < length ? 1 : 0;
      ids[r * seq + t] = t < length ? 1 + Math.floor(uniform() * (vocab - 1)) : 0;
    }
  }
  return {
    input_ids: { shape: [batch, seq], data: ids },
    attention_mask: { shape: [batch, seq], data: mask },
    token_type_ids: { shape: [batch, seq], data: new Int32Array(batch * seq) },
  };
}
