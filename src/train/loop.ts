// The training loop: seeded shuffling, batches, forward + backward on a backend (the reference interpreter
// or a WebGPU device), the value regularization of fusion training, gradient clipping, AdamW with a linear warmup/decay
// schedule, robust AdapterDrop (`train … drop random a..b`) and per-epoch evaluation without drops.
import { appendLoss, GRAD_PREFIX, headOutputs, LOSS_OUTPUT, trainingGraph } from '../autodiff/index.ts';
import type { CheckedProgram, CheckedTraining } from '../dsl/checked.ts';
import type { Graph } from '../ir/graph.ts';
import { seededUniform } from '../load/init.ts';
import type { WeightStore } from '../load/weights.ts';
import { lowerProgram } from '../lower/bert.ts';
import type { EncoderConfig } from '../lower/model-config.ts';
import { trainableParameters } from '../passes/freeze.ts';
import type { Inputs, Tensor } from '../runtime/reference/interpret.ts';
import { type BackendFactory, referenceBackend, type TrainBackend } from './backend.ts';
import { type Batch, batchesOf, collate, type Example, IGNORE_INDEX, shuffledIndices } from './data.ts';
import { type DropoutRates, dropoutSeedInput, withDropout } from './dropout.ts';
import { fusionScaleInput, temperatureAsInput, valueRegularizationGrads } from './fusion.ts';
import { ADAMW_DEFAULTS, AdamW, type AdamWConfig } from './optimizer.ts';
import { clipGradNorm, linearWarmupDecay } from './schedule.ts';

export interface Trainee {
  readonly program: CheckedProgram;
  readonly model: EncoderConfig;
  /** Every parameter the program reads, new modules already initialized (compileFile's weights). */
  readonly weights: WeightStore;
}

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: AdamWConfig;
  readonly warmupSteps: number;
  readonly maxGradNorm: number;
  readonly seed: number;
  /** Training-mode dropout at these rates, or none (eval mode, as the golden gradients were taken). */
  readonly dropout: DropoutRates | null;
  /** Where steps run (default: the reference interpreter). */
  readonly backend?: BackendFactory;
}

/** Hugging Face Trainer defaults (batch size 8, 3 epochs, no warmup, clipping at 1.0). */
export const TRAIN_DEFAULTS: TrainOptions = {
  epochs: 3,
  batchSize: 8,
  optimizer: ADAMW_DEFAULTS,
  warmupSteps: 0,
  maxGradNorm: 1,
  seed: 42,
  dropout: null,
};

export interface StepReport {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  readonly loss: number;
  readonly gradNorm: number;
  readonly learningRate: number;
  readonly examples: number;
  /** Layers dropped this step by robust AdapterDrop. */
  readonly dropped: number;
}

export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number;
}

export interface EpochReport {
  readonly epoch: number;
  readonly meanLoss: number;
  readonly eval: Evaluation | null;
}

export interface TrainResult {
  readonly weights: WeightStore;
  readonly losses: readonly number[];
  readonly epochs: readonly EpochReport[];
}

export interface TrainCallbacks {
  readonly onStep?: (report: StepReport) => void;
  readonly onEpoch?: (report: EpochReport) => void;
}

function requireTraining(program: CheckedProgram): CheckedTraining {
  if (program.training === null) throw new Error('the program has no train statement');
  return program.training;
}

/** Layers 0..k-1 off: the program as robust AdapterDrop runs one step. */
const dropping = (program: CheckedProgram, k: number): CheckedProgram => ({
  ...program,
  skipLayers: Array.from({ length: k }, (_, i) => i),
});

/**
 * Counts forward calls: each one lowers the fusion temperature (semantics §1.5) and redraws dropout. Both
 * reach the graph as scalar inputs, so one compiled graph serves every step.
 */
class ForwardClock {
  calls = 0;
  constructor(private readonly seed: number) {}
  inputs(): Inputs {
    const calls = this.calls++;
    return {
      fusion_scale: fusionScaleInput(calls),
      dropout_seed: dropoutSeedInput((Math.imul(this.seed, 0x9e3779b1) + calls) | 0),
    };
  }
}

/** The training graph of a step that drops layers 0..k-1, with dropout when asked. */
function compileStep(
  program: CheckedProgram,
  model: EncoderConfig,
  k: number,
  dropout: DropoutRates | null,
): Graph {
  const p = k === 0 ? program : dropping(program, k);
  const forward = lowerProgram(p, model);
  const trainingMode =
    dropout === null
      ? forward
      : withDropout(forward, dropout, (h) => p.heads.get(h)?.config.dropout_prob ?? null);
  return temperatureAsInput(trainingGraph(trainingMode, p));
}

/** Adds the gradients carried over from the previous step (the fusion regularizer) into `grads`. */
function addCarried(grads: Map<string, Float32Array>, carried: ReadonlyMap<string, Float32Array>): void {
  for (const [key, g] of carried) {
    const known = grads.get(key);
    grads.set(key, known ? known.map((x, i) => x + g[i]) : g);
  }
}

export async function train(
  trainee: Trainee,
  data: readonly Example[],
  options: TrainOptions,
  evalData: readonly Example[] | null = null,
  callbacks: TrainCallbacks = {},
): Promise<TrainResult> {
  const { weights } = trainee;
  const training = requireTraining(trainee.program);
  const params = new Map(
    trainableParameters(weights, training).names.map((k) => [k, Float32Array.from(weights.get(k)!.data)]),
  );
  const backend = await (options.backend ?? referenceBackend)(weights, params);
  try {
    return await trainOn(backend, trainee, data, options, evalData, callbacks, params);
  } finally {
    await backend.release();
  }
}

async function trainOn(
  backend: TrainBackend,
  trainee: Trainee,
  data: readonly Example[],
  options: TrainOptions,
  evalData: readonly Example[] | null,
  callbacks: TrainCallbacks,
  params: Map<string, Float32Array>,
): Promise<TrainResult> {
  const { program, model, weights } = trainee;
  const training = requireTraining(program);
  const padId = model.padTokenId;
  const steps = new Map<number, Graph>();
  const stepFor = (k: number) => {
    let s = steps.get(k);
    if (!s) {
      s = compileStep(program, model, k, options.dropout);
      steps.set(k, s);
    }
    return s;
  };
  const evalStep = evaluationGraph(program, model);
  const clock = new ForwardClock(options.seed);
  const random = seededUniform(options.seed, 'train');
  const optimizer = new AdamW(options.optimizer);
  const perEpoch = Math.ceil(data.length / options.batchSize);
  const totalSteps = options.epochs * perEpoch;
  let carried = new Map<string, Float32Array>();
  const losses: number[] = [];
  const epochs: EpochReport[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = shuffledIndices(data.length, random);
    const epochLosses: number[] = [];
    for (const indices of batchesOf(order, options.batchSize)) {
      const batch = collate(
        indices.map((i) => data[i]),
        padId,
      );
      const drop = training.randomDrop;
      const k = drop === null ? 0 : drop.from + Math.floor(random() * (drop.to - drop.from + 1));
      const out = await backend.run(stepFor(k), { ...batch.inputs, labels: batch.labels, ...clock.inputs() });
      const grads = gradientsOf(out);
      addCarried(grads, carried);
      const gradNorm = clipGradNorm(grads, options.maxGradNorm);
      const learningRate =
        options.optimizer.learningRate *
        linearWarmupDecay(optimizer.stepCount, totalSteps, options.warmupSteps);
      optimizer.step(params, grads, learningRate);
      backend.update(params);
      carried = valueRegularizationGrads(params);
      const loss = out.get(LOSS_OUTPUT)!.data[0];
      losses.push(loss);
      epochLosses.push(loss);
      callbacks.onStep?.({
        step: optimizer.stepCount,
        totalSteps,
        epoch,
        loss,
        gradNorm,
        learningRate,
        examples: indices.length,
        dropped: k,
      });
    }
    const report: EpochReport = {
      epoch,
      meanLoss: epochLosses.reduce((a, b) => a + b, 0) / epochLosses.length,
      eval:
        evalData === null
          ? null
          : await evaluateWith(backend, evalStep, clock, evalData, options.batchSize, padId),
    };
    epochs.push(report);
    callbacks.onEpoch?.(report);
  }
  const trained = new Map(weights);
  for (const [key, data] of params) trained.set(key, { shape: weights.get(key)!.shape, data });
  return { weights: trained, losses, epochs };
}

function gradientsOf(out: ReadonlyMap<string, Tensor>): Map<string, Float32Array> {
  const grads = new Map<string, Float32Array>();
  for (const [name, t] of out) {
    if (name.startsWith(GRAD_PREFIX)) grads.set(name.slice(GRAD_PREFIX.length), Float32Array.from(t.data));
  }
  return grads;
}

/** The forward graph with its loss; the program's own drop set (no random drops in evaluation). */
export function evaluationGraph(program: CheckedProgram, model: EncoderConfig): Graph {
  return temperatureAsInput(
    appendLoss(lowerProgram(program, model), (name) => program.heads.get(name)!.config),
  );
}

/** Correct predictions and counted labels of one head's logits: argmax over the last axis. */
function correctCount(logits: Tensor, labels: Tensor, mask: Tensor | undefined): [number, number] {
  const c = logits.shape[logits.shape.length - 1];
  let correct = 0;
  let counted = 0;
  labels.data.forEach((label, r) => {
    if (label === IGNORE_INDEX || (mask !== undefined && labels.shape.length > 1 && mask.data[r] !== 1))
      return;
    let best = 0;
    for (let i = 1; i < c; i++) if (logits.data[r * c + i] > logits.data[r * c + best]) best = i;
    counted++;
    if (best === label) correct++;
  });
  return [correct, counted];
}

async function evaluateWith(
  backend: TrainBackend,
  step: Graph,
  clock: ForwardClock,
  data: readonly Example[],
  batchSize: number,
  padId: number,
): Promise<Evaluation> {
  let lossSum = 0;
  let correct = 0;
  let counted = 0;
  const heads = [...headOutputs(step).keys()];
  for (const examples of batchesOf(data, batchSize)) {
    const batch: Batch = collate(examples, padId);
    const out = await backend.run(step, { ...batch.inputs, labels: batch.labels, ...clock.inputs() });
    lossSum += out.get(LOSS_OUTPUT)!.data[0] * examples.length;
    for (const head of heads) {
      const [c, n] = correctCount(out.get(`heads.${head}`)!, batch.labels, batch.inputs.attention_mask);
      correct += c;
      counted += n;
    }
  }
  return { loss: lossSum / data.length, accuracy: counted === 0 ? 0 : correct / counted };
}

/** Loss and accuracy of `weights` on `data` (a fresh fusion temperature, as after reloading). */
export async function evaluate(
  trainee: Trainee,
  data: readonly Example[],
  batchSize = TRAIN_DEFAULTS.batchSize,
  backendFactory: BackendFactory = referenceBackend,
): Promise<Evaluation> {
  const backend = await backendFactory(trainee.weights, new Map());
  try {
    const step = evaluationGraph(trainee.program, trainee.model);
    return await evaluateWith(backend, step, new ForwardClock(0), data, batchSize, trainee.model.padTokenId);
  } finally {
    await backend.release();
  }
}
