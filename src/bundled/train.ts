// Training the bundled modules with adaptc's own training loop: each store adapter with its head on its
// generated task, then the seed-fusion example's fusion and `cb` head with the adapters frozen.
// Programs are .adapt files over the folder being generated, compiled as `adaptc train` compiles them.
// Steps run on the backend given (npm run assets uses WebGPU when a device is found, else the reference
// interpreter), so the trained bytes may differ between machines; the tests check behaviour instead.
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { StateDict } from '../checkpoint/tensor.ts';
import { type Compiled, compileFile } from '../compiler.ts';
import type { CheckedProgram } from '../dsl/checked.ts';
import type { WeightStore } from '../load/weights.ts';
import { loadTokenizer } from '../tokenizer/index.ts';
import type { BackendFactory } from '../train/backend.ts';
import type { Example } from '../train/data.ts';
import { evaluate, TRAIN_DEFAULTS, type TrainOptions, train } from '../train/loop.ts';
import { type BundledTask, TASK_REDUCTION_FACTOR } from './model.ts';
import { CB_TASK, type GeneratedTask, generate, STORE_TASKS } from './tasks.ts';

/** How a module is trained: sizes of the generated splits and the optimizer's settings. */
export interface TrainingPlan {
  readonly trainSize: number;
  readonly evalSize: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly warmupSteps: number;
  /** Robust AdapterDrop (`train adapter … drop random a..b`): each step drops layers 0..k-1, k drawn from a..b. */
  readonly randomDrop?: { readonly from: number; readonly to: number };
}

/** One epoch over 4096 fresh rows (256 steps of 16), AdamW at 3e-3 with a short warmup, linear decay. */
export const DEFAULT_PLAN: TrainingPlan = {
  trainSize: 4096,
  evalSize: 256,
  epochs: 1,
  batchSize: 16,
  learningRate: 3e-3,
  warmupSteps: 16,
};

/** Per-module plans where the default is not enough. */
export const PLANS: Readonly<Record<string, TrainingPlan>> = {
  // examples/adapterdrop.adapt runs this adapter without layers 0..4: robust AdapterDrop (Rücklé et al.)
  // trains it with the lowest k layers skipped, k uniform in 0..5, so it works with and without the drop.
  // Steps with k = 5 learn slowly (the adapters left see tokens already averaged), hence four times the rows.
  'sst-2': { ...DEFAULT_PLAN, trainSize: 16384, randomDrop: { from: 0, to: 5 } },
  // The fusion and cb head see layer 11 only (drop 0..10): the head reads a bag-of-words [CLS], whose
  // differences between labels are small. At 3e-3 the loss barely moves in 256 steps (1.10 to 1.00,
  // gradient norm under 1, so clipping is not the limit); 1e-2 over 1024 steps gets it down to ~0.45.
  cb: { ...DEFAULT_PLAN, trainSize: 16384, learningRate: 1e-2 },
};

export const planOf = (name: string): TrainingPlan => PLANS[name] ?? DEFAULT_PLAN;

/** Seeds of the generated splits: training rows, and the held-out rows the generator reports on. */
export const TRAIN_SEED = 1;
export const EVAL_SEED = 2;

export interface TrainedModules {
  readonly compiled: Compiled;
  readonly weights: WeightStore;
  readonly accuracy: number;
  readonly seconds: number;
  readonly steps: number;
  readonly losses: readonly number[];
}

/** Tokenized rows of `task` (the model folder's tokenizer, as `adaptc train` reads text rows). */
export function examplesOf(compiled: Compiled, task: GeneratedTask, count: number, seed: number): Example[] {
  const tokenizer = loadTokenizer(compiled.program.model);
  return generate(task, count, seed).map((row) => ({
    ids: tokenizer.encode([row.text]).input_ids[0],
    label: row.label,
  }));
}

/** Compiles `source` as the file `<root>/<name>.adapt` (written for the compile, then removed). */
export function compileSource(root: string, name: string, source: string): Compiled {
  const file = join(root, `${name}.adapt`);
  fs.writeFileSync(file, source);
  try {
    return compileFile(file);
  } finally {
    fs.rmSync(file);
  }
}

/** Trains `source`'s program on `task`; returns the trained weights and the held-out accuracy. */
export async function trainProgram(
  root: string,
  name: string,
  source: string,
  task: GeneratedTask,
  plan: TrainingPlan,
  backend?: BackendFactory,
): Promise<TrainedModules> {
  const compiled = compileSource(root, name, source);
  const options: TrainOptions = {
    ...TRAIN_DEFAULTS,
    epochs: plan.epochs,
    batchSize: plan.batchSize,
    optimizer: { ...TRAIN_DEFAULTS.optimizer, learningRate: plan.learningRate },
    warmupSteps: plan.warmupSteps,
    seed: TRAIN_SEED,
    dropout: null,
    backend,
  };
  const started = performance.now();
  const result = await train(compiled, examplesOf(compiled, task, plan.trainSize, TRAIN_SEED), options);
  const seconds = (performance.now() - started) / 1000;
  const { accuracy } = await evaluate(
    { ...compiled, weights: result.weights },
    examplesOf(compiled, task, plan.evalSize, EVAL_SEED),
    32,
  );
  return {
    compiled,
    weights: result.weights,
    accuracy,
    seconds,
    steps: result.losses.length,
    losses: result.losses,
  };
}

/** The name a store adapter and its head have in its training program (store names need not be identifiers). */
const TRAINED = 'trained';

/** A new seq_bn adapter and classification head for `task`, both trained, the base model frozen. */
export function storeTaskSource(task: BundledTask, plan: TrainingPlan = planOf(task.name)): string {
  const drop = plan.randomDrop;
  return [
    'model "bert-mini"',
    `adapter ${TRAINED} = seq_bn(reduction_factor: ${TASK_REDUCTION_FACTOR})`,
    `head ${TRAINED} = classification(num_labels: ${task.numLabels})`,
    `setup ${TRAINED}`,
    `train adapter ${TRAINED}${drop === undefined ? '' : ` drop random ${drop.from}..${drop.to}`}`,
    '',
  ].join('\n');
}

/**
 * Trains the store adapter + head of `task` and returns `initial` (the state dicts in the files' key order,
 * keys named after the task) with the trained values.
 */
export async function trainStoreTask(
  root: string,
  task: BundledTask,
  initial: { adapter: StateDict; head: StateDict },
  backend?: BackendFactory,
): Promise<{ adapter: StateDict; head: StateDict; trained: TrainedModules }> {
  const generated = STORE_TASKS.get(task.name);
  if (generated === undefined) throw new Error(`no generated task for ${task.name}`);
  const trained = await trainProgram(
    root,
    `train-${task.name}`,
    storeTaskSource(task),
    generated,
    planOf(task.name),
    backend,
  );
  const renamed = (dict: StateDict): StateDict =>
    new Map(
      [...dict].map(([key, value]) => {
        const source = trained.weights.get(key.split(`.${task.name}.`).join(`.${TRAINED}.`));
        if (source === undefined || source.data.length !== value.data.length)
          throw new Error(`trained weights lack ${key}`);
        return [key, { shape: value.shape, data: Float32Array.from(source.data) }];
      }),
    );
  return { adapter: renamed(initial.adapter), head: renamed(initial.head), trained };
}

/** Where the seed-fusion example's trained fusion and head are saved, under the assets folder. */
export const SEED_FUSION_DIR = 'seed-fusion';

/** The seed-fusion example's program with a new fusion and head: what npm run assets trains. */
export const SEED_FUSION_TRAINING = `model "bert-mini"
store "store"

adapter multinli = load "nli/multinli@ukp" without head
adapter qqp = load "sts/qqp@ukp" without head
adapter qnli = load "nli/qnli@ukp" without head

fusion Fuse(multinli, qqp, qnli) = dynamic
head cb = classification(num_labels: 3)

setup Stack(Fuse(multinli,qqp,qnli), head cb) drop 0..10

train fusion Fuse(multinli, qqp, qnli)
`;

/** The program with the cb head's labels named (the DSL has no dict literal for label2id). */
export function withCbLabels(program: CheckedProgram): CheckedProgram {
  const head = program.heads.get(CB_TASK.name)!;
  const label2id = Object.fromEntries(CB_TASK.labels.map((label, id) => [label, id]));
  const heads = new Map(program.heads);
  heads.set(CB_TASK.name, { ...head, config: { ...head.config, label2id } });
  return { ...program, heads };
}

/** Trains the fusion and cb head of examples/seed-fusion.adapt over the store under `root`. */
export function trainSeedFusion(root: string, backend?: BackendFactory): Promise<TrainedModules> {
  return trainProgram(
    root,
    'train-seed-fusion',
    SEED_FUSION_TRAINING,
    CB_TASK,
    planOf(CB_TASK.name),
    backend,
  );
}
