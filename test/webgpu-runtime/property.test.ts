// WebGPU against the reference interpreter on generated compositions over generated tiny models: the optimized
// graph, fused and one kernel per op, at the generated size and again one token longer (same WGSL, new uniforms).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lowerProgram } from '../../src/lower/bert.ts';
import { runPasses } from '../../src/passes/pass.ts';
import { INFERENCE_PASSES } from '../../src/passes/pipeline.ts';
import { interpret, type Tensor } from '../../src/runtime/reference/interpret.ts';
import { GpuModel, type ModelTensor } from '../../src/runtime/webgpu/model.ts';
import { scenarioArb } from '../../src/testing/arbitraries.ts';
import { randomInputs, randomWeights } from '../../src/testing/model.ts';
import { useGpu } from '../webgpu/gpu.ts';

const gpu = useGpu();

/** max |gpu − reference| / (1 + |reference|) over every output; ∞ on a missing output or shape mismatch. */
function maxRelativeError(
  reference: ReadonlyMap<string, Tensor>,
  got: ReadonlyMap<string, ModelTensor>,
): number {
  let worst = 0;
  for (const [name, t] of reference) {
    const u = got.get(name);
    if (!u || u.shape.join() !== t.shape.join()) return Number.POSITIVE_INFINITY;
    t.data.forEach((v, i) => {
      const error = Math.abs(v - u.data[i]) / (1 + Math.abs(v));
      worst = Number.isNaN(error) ? Number.POSITIVE_INFINITY : Math.max(worst, error);
    });
  }
  return worst;
}

describe('WebGPU computes what the reference interpreter computes', () => {
  it('on generated compositions, fused and unfused, at two sequence lengths', async () => {
    const { acquired } = gpu();
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ model, program, batch, seq, seed }) => {
        const lowered = lowerProgram(program, model);
        const optimized = runPasses(
          { graph: lowered, weights: randomWeights(lowered, seed) },
          INFERENCE_PASSES,
          { B: batch, T: seq },
        );
        const source = { graph: optimized.graph, weights: optimized.weights };
        for (const fuse of [true, false]) {
          const gpuModel = await GpuModel.create(source, acquired, { fuse });
          try {
            for (const length of [seq, seq + 1]) {
              const inputs = randomInputs(batch, length, model.vocabSize, seed + length);
              const expected = interpret(source.graph, (k) => source.weights.get(k), inputs);
              const error = maxRelativeError(expected, (await gpuModel.run(inputs)).outputs);
              expect(error, `fuse=${fuse}, batch ${batch} × sequence ${length}`).toBeLessThanOrEqual(1e-4);
            }
          } finally {
            gpuModel.release();
          }
        }
      }),
      {
        numRuns: Number(process.env.ADAPTC_GPU_PROPERTY_RUNS ?? 25),
        seed: Number(process.env.ADAPTC_PROPERTY_SEED ?? 20261128),
      },
    );
  });
});
