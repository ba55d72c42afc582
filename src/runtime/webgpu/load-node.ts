// Node's front door to the WebGPU runtime: `const model = await loadModel('file.adapt')`, then
// `await model.run({ input_ids, attention_mask })`. Compiles, optimizes, acquires a Dawn device unless given one.
import { type Compiled, compileFile } from '../../compiler.ts';
import { runPasses } from '../../passes/pass.ts';
import { INFERENCE_PASSES } from '../../passes/pipeline.ts';
import type { AcquiredDevice } from './device.ts';
import { acquireNodeDevice } from './device-node.ts';
import { GpuModel, type ModelOptions, type ModelSource } from './model.ts';

/** The optimized graph and its weights for a .adapt file. */
export function compileForGpu(path: string): ModelSource {
  return optimizeForGpu(compileFile(path));
}

/** The inference passes over a compiled program (statistics measured at batch 1 × sequence 8). */
export function optimizeForGpu(compiled: Compiled): ModelSource {
  const { graph, weights } = runPasses(
    { graph: compiled.graph, weights: compiled.weights },
    INFERENCE_PASSES,
    { B: 1, T: 8 },
  );
  return { graph, weights };
}

export interface LoadOptions extends Omit<ModelOptions, 'ownsDevice'> {
  /** A device to share (its weight cache and pipelines too); otherwise one is acquired and owned by the model. */
  readonly device?: AcquiredDevice;
}

export async function loadModel(source: string | ModelSource, options: LoadOptions = {}): Promise<GpuModel> {
  const compiled = typeof source === 'string' ? compileForGpu(source) : source;
  const device = options.device ?? (await acquireNodeDevice());
  try {
    return await GpuModel.create(compiled, device, { ...options, ownsDevice: options.device === undefined });
  } catch (error) {
    if (options.device === undefined) device.release();
    throw error;
  }
}
