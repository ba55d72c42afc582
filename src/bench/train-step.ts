// (f) One training step (forward, loss, backward, gradients read back, AdamW update) of a BERT-base-shaped
// model with one seq_bn adapter and a classification head: training the adapter (train_adapter: the head
// trains too) against training every parameter, on a training backend (WebGPU in `npm run bench`).
import { appendBackward, appendLoss, GRAD_PREFIX, gradientKeys, LOSS_OUTPUT } from '../autodiff/index.ts';
import { ADAPTER_PRESETS, resolveHeadConfig } from '../config/index.ts';
import type { Graph } from '../ir/graph.ts';
import { graphStats } from '../ir/stats.ts';
import { lowerProgram } from '../lower/bert.ts';
import { isTrainable } from '../passes/freeze.ts';
import {
  programOf,
  randomInputs,
  randomWeights,
  type TinyModelSpec,
  tinyEncoderConfig,
} from '../testing/model.ts';
import type { BackendFactory } from '../train/backend.ts';
import { AdamW } from '../train/optimizer.ts';

export interface TrainStepOptions {
  readonly backend: BackendFactory;
  readonly model: TinyModelSpec;
  readonly batch: number;
  readonly seq: number;
  /** Timed steps after one warm-up step (which plans and compiles). */
  readonly repeats: number;
}

export interface StepTiming {
  /** Median wall time of one step, ms. */
  readonly ms: number;
  readonly trainableTensors: number;
  readonly trainableValues: number;
  /** FLOPs of the whole step graph (forward, loss and backward). */
  readonly flops: number;
}

export interface TrainStepBench {
  readonly adapter: StepTiming;
  readonly allParameters: StepTiming;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchTrainStep(options: TrainStepOptions): Promise<TrainStepBench> {
  const model = tinyEncoderConfig(options.model);
  const head = resolveHeadConfig('classification', { num_labels: 2 });
  if (!head.ok) throw new Error('classification head preset');
  const program = programOf({
    adapters: { a: ADAPTER_PRESETS.seq_bn() },
    heads: { cls: head.value },
    setup: 'a',
    headSetup: { kind: 'single', head: 'cls' },
  });
  const training = { target: 'adapter', setup: 'a', unfreezeAdapters: false, randomDrop: null } as const;
  const forward = lowerProgram(program, model);
  const weights = randomWeights(forward, 0);
  const lossGraph = appendLoss(forward, () => head.value);
  const inputs = {
    ...randomInputs(options.batch, options.seq, model.vocabSize, 0),
    labels: { shape: [options.batch], data: new Int32Array(options.batch) },
  };
  const time = async (graph: Graph): Promise<StepTiming> => {
    const keys = gradientKeys(graph);
    const params = new Map(keys.map((k) => [k, Float32Array.from(weights.get(k)!.data)]));
    const backend = await options.backend(weights, params);
    const optimizer = new AdamW();
    const step = async () => {
      const started = performance.now();
      const out = await backend.run(graph, inputs);
      const grads = new Map(keys.map((k) => [k, out.get(`${GRAD_PREFIX}${k}`)!.data as Float32Array]));
      optimizer.step(params, grads, optimizer.config.learningRate);
      backend.update(params);
      return performance.now() - started;
    };
    try {
      await step();
      const times: number[] = [];
      for (let r = 0; r < options.repeats; r++) times.push(await step());
      return {
        ms: median(times),
        trainableTensors: keys.length,
        trainableValues: keys.reduce((acc, k) => acc + weights.get(k)!.data.length, 0),
        flops: graphStats(graph, { B: options.batch, T: options.seq }).flops,
      };
    } finally {
      await backend.release();
    }
  };
  return {
    adapter: await time(
      appendBackward(lossGraph, { loss: LOSS_OUTPUT, trainable: (p) => isTrainable(p.origin, training) }),
    ),
    allParameters: await time(appendBackward(lossGraph, { loss: LOSS_OUTPUT, trainable: () => true })),
  };
}
