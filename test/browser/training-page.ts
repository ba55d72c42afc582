// Browser-side entry for training: loads training graphs compiled in Node (/models/<id>.json + .bin), computes
// the loss and every gradient on navigator.gpu, then takes a few AdamW steps with the parameters kept on the
// device. Publishes `globalThis.adaptcTrainModels`.
import { GRAD_PREFIX, LOSS_OUTPUT } from '../../src/autodiff/index.ts';
import {
  acquireDevice,
  fetchModel,
  GpuGraphRunner,
  type ModelTensor,
} from '../../src/runtime/webgpu/browser.ts';
import { AdamW } from '../../src/train/optimizer.ts';

export interface TrainingPageCase {
  readonly id: string;
  readonly labels: readonly number[];
}

export interface TrainingPageInputs {
  readonly input_ids: readonly (readonly number[])[];
  readonly attention_mask: readonly (readonly number[])[];
}

export interface TrainingPageRun {
  readonly adapter: { readonly description: string; readonly backend: string };
  readonly results: Readonly<
    Record<
      string,
      {
        readonly loss: number;
        readonly grads: Readonly<Record<string, number[]>>;
        /** The loss after each of the AdamW steps that follow. */
        readonly losses: readonly number[];
      }
    >
  >;
}

const matrix = (rows: readonly (readonly number[])[]): ModelTensor => ({
  shape: [rows.length, rows[0].length],
  data: Int32Array.from(rows.flat()),
});

async function trainModels(
  cases: readonly TrainingPageCase[],
  inputs: TrainingPageInputs,
  steps: number,
): Promise<TrainingPageRun> {
  const device = await acquireDevice();
  try {
    const results: Record<string, TrainingPageRun['results'][string]> = {};
    for (const { id, labels } of cases) {
      const source = await fetchModel(`/models/${id}.json`, `/models/${id}.bin`);
      const keys = source.graph.outputs.flatMap((o) =>
        o.name.startsWith(GRAD_PREFIX) ? [o.name.slice(GRAD_PREFIX.length)] : [],
      );
      const params = new Map(keys.map((k) => [k, Float32Array.from(source.weights.get(k)!.data)]));
      const runner = new GpuGraphRunner(device, source.weights, params);
      const feed = {
        input_ids: matrix(inputs.input_ids),
        attention_mask: matrix(inputs.attention_mask),
        labels: { shape: [labels.length], data: Int32Array.from(labels) },
        fusion_scale: { shape: [], data: Float32Array.of(1 / 50) },
      };
      const optimizer = new AdamW({ ...new AdamW().config, learningRate: 1e-3 });
      let out = (await runner.run(source.graph, feed)).outputs;
      const loss = out.get(LOSS_OUTPUT)!.data[0];
      const grads = Object.fromEntries(keys.map((k) => [k, Array.from(out.get(`${GRAD_PREFIX}${k}`)!.data)]));
      const losses: number[] = [];
      for (let s = 0; s < steps; s++) {
        const g = new Map(keys.map((k) => [k, out.get(`${GRAD_PREFIX}${k}`)!.data as Float32Array]));
        optimizer.step(params, g, optimizer.config.learningRate);
        runner.write(params);
        out = (await runner.run(source.graph, feed)).outputs;
        losses.push(out.get(LOSS_OUTPUT)!.data[0]);
      }
      await runner.release();
      results[id] = { loss, grads, losses };
    }
    return {
      adapter: { description: device.adapterInfo.description, backend: device.adapterInfo.backend },
      results,
    };
  } finally {
    device.release();
  }
}

(globalThis as unknown as { adaptcTrainModels: typeof trainModels }).adaptcTrainModels = trainModels;
