// The bundled model and store modules in memory: a 12-layer BERT with hidden size 64 ("bert-mini") and
// the seq_bn adapters + classification heads of the examples. Parameter names and shapes come from
// lowering a program over the model, so the files always hold exactly what the compiler reads.
// The base model is random (the initialization below) and stays frozen; the adapters and heads start from
// the library's init and are then trained by adaptc itself on generated tasks (train.ts, write.ts).
import { withoutBasePrefix } from '../checkpoint/adapterhub.ts';
import type { HostTensor, StateDict } from '../checkpoint/tensor.ts';
import { ADAPTER_PRESETS, resolveHeadConfig } from '../config/index.ts';
import type { AdapterConfig, HeadConfig } from '../config/types.ts';
import { type Graph, type ParamOrigin, paramNodes } from '../ir/graph.ts';
import { evalShape } from '../ir/shape.ts';
import { initialValue } from '../load/init.ts';
import { lowerProgram } from '../lower/bert.ts';
import { basePrefixOf } from '../lower/keys.ts';
import { type EncoderConfig, encoderConfigFromJson } from '../lower/model-config.ts';
import { programOf } from '../testing/model.ts';

/** Every random value of the bundled files derives from this seed (salted by parameter key). */
export const BUNDLED_SEED = 2026;

/** The model folder name and the `model_name` the module configs record. */
export const BUNDLED_MODEL_NAME = 'bert-mini';

/** config.json as `BertModel.save_pretrained` writes it (transformers 4.47.1, the golden files' version). */
export function bertMiniConfigJson(vocabSize: number): Record<string, unknown> {
  return {
    architectures: ['BertModel'],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: 64,
    initializer_range: 0.02,
    intermediate_size: 128,
    layer_norm_eps: 1e-12,
    max_position_embeddings: 128,
    model_type: 'bert',
    num_attention_heads: 4,
    num_hidden_layers: 12,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    transformers_version: '4.47.1',
    type_vocab_size: 2,
    use_cache: true,
    vocab_size: vocabSize,
  };
}

/** One store entry: a hub id, the name the adapter (and its head) were saved under, the head's labels. */
export interface BundledTask {
  readonly id: string;
  readonly name: string;
  readonly numLabels: number;
  /** Label names in id order; LABEL_i when absent, as the library names them. */
  readonly labels?: readonly string[];
}

export const BUNDLED_TASKS: readonly BundledTask[] = [
  { id: 'sentiment/sst-2@ukp', name: 'sst-2', numLabels: 2, labels: ['negative', 'positive'] },
  {
    id: 'nli/multinli@ukp',
    name: 'multinli',
    numLabels: 3,
    labels: ['entailment', 'neutral', 'contradiction'],
  },
  { id: 'sts/qqp@ukp', name: 'qqp', numLabels: 2, labels: ['not_duplicate', 'duplicate'] },
  { id: 'nli/qnli@ukp', name: 'qnli', numLabels: 2, labels: ['entailment', 'not_entailment'] },
  { id: 'glue/task1@adaptc', name: 'task1', numLabels: 3, labels: ['negative', 'neutral', 'positive'] },
  {
    id: 'glue/task2@adaptc',
    name: 'task2',
    numLabels: 5,
    labels: ['movies', 'restaurants', 'hotels', 'books', 'music'],
  },
];

/** The bundled adapters' bottleneck: hidden 64 / 4 = 16 (seq_bn's default 16 would leave 4). */
export const TASK_REDUCTION_FACTOR = 4;

export function taskAdapterConfig(): AdapterConfig {
  const seqBn = ADAPTER_PRESETS.seq_bn();
  return { ...seqBn, reduction_factor: TASK_REDUCTION_FACTOR } as AdapterConfig;
}

export function taskHeadConfig(task: BundledTask): HeadConfig {
  const label2id =
    task.labels === undefined ? {} : { label2id: Object.fromEntries(task.labels.map((l, i) => [l, i])) };
  const resolved = resolveHeadConfig('classification', { num_labels: task.numLabels, ...label2id });
  if (!resolved.ok) throw new Error(`bundled head ${task.name}: ${resolved.issues[0].message}`);
  return resolved.value;
}

/**
 * The standard deviation of each base weight by its role: a random BERT whose attention mixes tokens.
 * BERT draws everything at 0.02; at hidden size 64 that leaves [CLS] (what the heads read) almost the
 * same for every sentence, since each attention block adds only ~0.02² of the other tokens' values.
 * Here queries and keys stay at 0.02, so attention is close to uniform averaging over the sentence;
 * value and attention-output matrices are drawn at 1/√hidden (0.125), so each layer adds the sentence's
 * mean token at the residual stream's own scale; the feed-forward block stays at 0.02, small, so the
 * stream keeps token identity; position and segment embeddings are drawn at 0.002, so a token is mostly
 * its word. Word embeddings stay at BERT's 0.02 (LayerNorm rescales them).
 */
export const BASE_INIT_STD: Readonly<Record<string, number>> = {
  'attention.self.query.weight': 0.02,
  'attention.self.key.weight': 0.02,
  'attention.self.value.weight': 0.125,
  'attention.output.dense.weight': 0.125,
  'intermediate.dense.weight': 0.02,
  'output.dense.weight': 0.02,
  'embeddings.position_embeddings.weight': 0.002,
  'embeddings.token_type_embeddings.weight': 0.002,
};

/**
 * BERT's `_init_weights` (normal weights and embeddings, zero biases, LayerNorm scale 1, zero [PAD] row)
 * at the standard deviations of BASE_INIT_STD; 0.02 for any other weight (adapters, heads).
 */
export function pretrainedValue(key: string, shape: readonly number[], seed: number): HostTensor {
  if (key.endsWith('LayerNorm.weight')) return { shape, data: new Float32Array(shape[0]).fill(1) };
  const value = initialValue(key, shape, seed);
  if (key.endsWith('word_embeddings.weight')) value.data.fill(0, 0, shape[1]);
  const role = Object.keys(BASE_INIT_STD).find((r) => key.endsWith(r));
  if (role !== undefined && !key.includes('.adapters.')) {
    const scale = BASE_INIT_STD[role] / 0.02;
    for (let i = 0; i < value.data.length; i++) value.data[i] *= scale;
  }
  return value;
}

const sameOrigin = (a: ParamOrigin, b: ParamOrigin): boolean =>
  a.kind === b.kind && (a.kind === 'base' || (b.kind !== 'base' && a.name === b.name));

/**
 * The parameters of one owner in module registration order, as torch's state_dict lists them:
 * modules in the order the graph first reads them, `weight` before `bias` within a module.
 */
export function ownedWeights(graph: Graph, owner: ParamOrigin, seed: number): StateDict {
  const nodes = paramNodes(graph).filter((n) => sameOrigin(n.origin, owner));
  const moduleOf = (key: string) => key.slice(0, key.lastIndexOf('.'));
  const modules = [...new Set(nodes.map((n) => moduleOf(n.key)))];
  const rank = (key: string) => modules.indexOf(moduleOf(key)) * 2 + (key.endsWith('.bias') ? 1 : 0);
  const sorted = [...new Map(nodes.map((n) => [n.key, n])).values()].sort(
    (a, b) => rank(a.key) - rank(b.key),
  );
  return new Map(
    sorted.map((n) => [n.key, pretrainedValue(n.key, evalShape(n.shape, { B: 0, T: 0 }), seed)]),
  );
}

/** The lowered graph of `task` alone with its head: its parameters are the adapter's and head's files. */
function taskGraph(model: EncoderConfig, task: BundledTask): Graph {
  return lowerProgram(
    programOf({
      adapters: { [task.name]: taskAdapterConfig() },
      heads: { [task.name]: taskHeadConfig(task) },
      setup: task.name,
      headSetup: { kind: 'single', head: task.name },
    }),
    model,
  );
}

/** Encoder weights under BertModel names (no `bert.` prefix), as save_pretrained writes them. */
export function baseModelWeights(configJson: Record<string, unknown>, seed: number): StateDict {
  const model = encoderConfigFromJson(configJson);
  const graph = lowerProgram(programOf({ adapters: {}, setup: null }), model);
  return withoutBasePrefix(ownedWeights(graph, { kind: 'base' }, seed), `${basePrefixOf(model.modelType)}.`);
}

/** The adapter's and the head's state dicts as `save_adapter(dir, name, with_head=True)` writes them. */
export function taskWeights(
  configJson: Record<string, unknown>,
  task: BundledTask,
  seed: number,
): { adapter: StateDict; head: StateDict } {
  const graph = taskGraph(encoderConfigFromJson(configJson), task);
  return {
    adapter: ownedWeights(graph, { kind: 'adapter', name: task.name }, seed),
    head: ownedWeights(graph, { kind: 'head', name: task.name }, seed),
  };
}
