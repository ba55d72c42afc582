// The WebGPU law on generated models and compositions (llvmpipe here, or a real GPU), seeded like the
// reference laws: ADAPTC_LAW_SEED, ADAPTC_GPU_LAW_RUNS.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { asyncLawProperty, lawCaseArb, webgpuMatchesReference } from '../../src/testing/index.ts';
import { useGpu } from '../webgpu/gpu.ts';

const RUNS = Number(process.env.ADAPTC_GPU_LAW_RUNS ?? 60);
const SEED = Number(process.env.ADAPTC_LAW_SEED ?? 20261128);
const gpu = useGpu();

describe(`the WebGPU law (seed ${SEED}, ${RUNS} runs)`, () => {
  it('webgpu-matches-reference: the compiled plan computes what the reference interpreter computes', async () => {
    const law = webgpuMatchesReference(gpu().acquired);
    await fc.assert(asyncLawProperty(law, lawCaseArb), { numRuns: RUNS, seed: SEED });
  }, 120_000);
});
