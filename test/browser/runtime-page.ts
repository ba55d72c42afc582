// Browser-side entry: loads models compiled in Node from /models/<id>.json + .bin, runs each on navigator.gpu with
// the golden inputs and returns the outputs as plain arrays. Publishes `globalThis.adaptcRunModels`.
import { acquireDevice, loadModel, type ModelTensor } from '../../src/runtime/webgpu/browser.ts';

export interface PageInputs {
  readonly input_ids: readonly (readonly number[])[];
  readonly attention_mask: readonly (readonly number[])[];
}

export interface PageRun {
  readonly adapter: { readonly description: string; readonly backend: string };
  readonly results: Readonly<
    Record<string, Readonly<Record<string, { shape: readonly number[]; data: number[] }>>>
  >;
}

const matrix = (rows: readonly (readonly number[])[]): ModelTensor => ({
  shape: [rows.length, rows[0].length],
  data: Int32Array.from(rows.flat()),
});

async function runModels(ids: readonly string[], inputs: PageInputs): Promise<PageRun> {
  const device = await acquireDevice();
  try {
    const results: Record<string, Record<string, { shape: readonly number[]; data: number[] }>> = {};
    for (const id of ids) {
      const model = await loadModel(`/models/${id}.json`, `/models/${id}.bin`, { device });
      const run = await model.run({
        input_ids: matrix(inputs.input_ids),
        attention_mask: matrix(inputs.attention_mask),
      });
      results[id] = Object.fromEntries(
        [...run.outputs].map(([name, t]) => [name, { shape: t.shape, data: Array.from(t.data) }]),
      );
      model.release();
    }
    return {
      adapter: { description: device.adapterInfo.description, backend: device.adapterInfo.backend },
      results,
    };
  } finally {
    device.release();
  }
}

(globalThis as unknown as { adaptcRunModels: typeof runModels }).adaptcRunModels = runModels;
