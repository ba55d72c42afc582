// One training step (forward, loss, backward, AdamW update) of a BERT-base-shaped model with one
// seq_bn adapter and a classification head, on the reference interpreter: training the adapter
// (train_adapter: the head trains too) against training every parameter. For `npm run bench`.
import { appendBackward, appendLoss, gradientKeys, LOSS_OUTPUT } from '../autodiff/index.ts';
import { ADAPTER_PRESETS, resolveHeadConfig } from '../config/index.ts';
import type { HeadConfig } from '../config/types.ts';
import type { Graph } from '../ir/graph.ts';
import { lowerProgram } from '../lower/bert.ts';
import { isTrainable } from '../passes/freeze.ts';
import { interpret } from '../runtime/reference/interpret.ts';
import {
  programOf,
  randomInputs,
  randomWeights,
  type TinyModelSpec,
  tinyEncoderConfig,
} from '../testing/model.ts';
import { AdamW } from '../train/optimizer.ts';

export interface TrainStepOptions {
  readonly batch: number;
  readonly seq: number;
  /** Model shape; BERT-base unless given. */
  readonly model?: TinyModelSpec;
  readonly repeats?: number;
}

export interface StepTiming {
  /** Best wall time of one step over the repeats, ms. */
  readonly ms: number;
  readonly trainableTensors: number;
  readonly trainableValues: number;
  /** Ops appended for loss and backward. */
  readonly backwardOps: number;
}

export interface TrainStepBench {
  readonly adapter: StepTiming;
  readonly allParameters: StepTiming;
}

const BERT_BASE: TinyModelSpec = {
  hidden: 768,
  layers: 12,
  heads: 12,
  intermediate: 3072,
  vocab: 30522,
  maxPositions: 512,
};

function classificationHead(): HeadConfig {
  const head = resolveHeadConfig('classification', { num_labels: 2 });
  if (!head.ok) throw new Error('classification head preset');
  return head.value;
}

export function benchTrainStep(options: TrainStepOptions): TrainStepBench {
  const model = tinyEncoderConfig(options.model ?? BERT_BASE);
  const head = classificationHead();
  const program = programOf({
    adapters: { a: ADAPTER_PRESETS.seq_bn() },
    heads: { cls: head },
    setup: 'a',
    headSetup: { kind: 'single', head: 'cls' },
  });
  const training = { target: 'adapter', setup: 'a', unfreezeAdapters: false, randomDrop: null } as const;
  const forward = lowerProgram(program, model);
  const weights = randomWeights(forward, 0);
  const lossGraph = appendLoss(forward, () => head);
  const inputs = {
    ...randomInputs(options.batch, options.seq, model.vocabSize, 0),
    labels: { shape: [options.batch], data: new Int32Array(options.batch) },
  };
  const time = (graph: Graph): StepTiming => {
    const keys = gradientKeys(graph);
    const params = new Map(keys.map((k) => [k, Float32Array.from(weights.get(k)!.data)]));
    const lookup = (k: string) =>
      params.has(k) ? { shape: weights.get(k)!.shape, data: params.get(k)! } : weights.get(k);
    const optimizer = new AdamW();
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < (options.repeats ?? 1); r++) {
      const started = performance.now();
      const out = interpret(graph, lookup, inputs);
      const grads = new Map(keys.map((k) => [k, out.get(`grad.${k}`)!.data as Float32Array]));
      optimizer.step(params, grads, optimizer.config.learningRate);
      best = Math.min(best, performance.now() - started);
    }
    return {
      ms: best,
      trainableTensors: keys.length,
      trainableValues: keys.reduce((acc, k) => acc + weights.get(k)!.data.length, 0),
      backwardOps: graph.nodes.length - forward.nodes.length,
    };
  };
  return {
    adapter: time(
      appendBackward(lossGraph, { loss: LOSS_OUTPUT, trainable: (p) => isTrainable(p.origin, training) }),
    ),
    allParameters: time(appendBackward(lossGraph, { loss: LOSS_OUTPUT, trainable: () => true })),
  };
}
