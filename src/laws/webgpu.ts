// The one law that needs a device: the compiled WebGPU plan (inference passes, fused kernels, memory
// plan) computes what the reference interpreter computes. Browser-safe: the caller brings the device
// (acquireNodeDevice in Node, navigator.gpu in a page), so importing the laws loads no native module.
import fc from 'fast-check';
import { lowerProgram } from '../lower/bert.ts';
import { runPasses } from '../passes/pass.ts';
import { INFERENCE_PASSES } from '../passes/pipeline.ts';
import { bindingsFor, type Inputs } from '../runtime/reference/interpret.ts';
import type { AcquiredDevice } from '../runtime/webgpu/device.ts';
import { GpuModel } from '../runtime/webgpu/model.ts';
import type { LawCase } from '../testing/arbitraries.ts';
import { inputsArb } from '../testing/arbitraries.ts';
import type { LawResult, RunOptions } from './check.ts';
import { type Counterexample, firstDifference, runGraph, type Subject } from './law.ts';

/** A law whose check is asynchronous (it runs on a device). */
export interface AsyncLaw {
  readonly name: string;
  readonly statement: string;
  applies(subject: Subject): boolean;
  check(subject: Subject, inputs: Inputs): Promise<Counterexample | null>;
}

/** The golden tolerance of the WebGPU runtime (f32 kernels with other summation orders than the CPU's). */
export const GPU_TOLERANCE = 1e-4;

export function webgpuMatchesReference(device: AcquiredDevice): AsyncLaw {
  return {
    name: 'webgpu-matches-reference',
    statement: `⟦WebGPU plan of passes(G)⟧ = ⟦G⟧ on the reference interpreter (relative ${GPU_TOLERANCE})`,
    applies: () => true,
    async check(subject, inputs) {
      const graph = lowerProgram(subject.program, subject.model);
      const optimized = runPasses({ graph, weights: subject.weights }, INFERENCE_PASSES, bindingsFor(inputs));
      const model = await GpuModel.create(optimized, device);
      try {
        const { outputs } = await model.run(inputs);
        const message = firstDifference(
          runGraph(graph, subject.weights, inputs),
          outputs,
          'reference interpreter',
          'WebGPU',
          GPU_TOLERANCE,
        );
        return message === null ? null : { law: this.name, subject, inputs, message };
      } finally {
        model.release();
      }
    },
  };
}

async function checkAsyncSafely(
  law: AsyncLaw,
  subject: Subject,
  inputs: Inputs,
): Promise<Counterexample | null> {
  try {
    return await law.check(subject, inputs);
  } catch (e) {
    return { law: law.name, subject, inputs, message: `threw ${(e as Error).message}` };
  }
}

/** checkLaw for an asynchronous law: a fixed subject over generated inputs, a failure shrunk. */
export async function checkAsyncLaw(
  law: AsyncLaw,
  subject: Subject,
  options: RunOptions = {},
): Promise<LawResult> {
  if (!law.applies(subject)) return { law, status: 'not-applicable' };
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const runs = options.runs ?? 20;
  const property = fc.asyncProperty(
    inputsArb(subject.model, subject.program),
    async (inputs) => (await checkAsyncSafely(law, subject, inputs)) === null,
  );
  const result = await fc.check(property, { numRuns: runs, seed });
  if (!result.failed) return { law, status: 'held', runs };
  const counterexample = (await checkAsyncSafely(law, subject, result.counterexample![0]))!;
  return { law, status: 'broken', counterexample, seed };
}

/** lawProperty for an asynchronous law. */
export function asyncLawProperty(
  law: AsyncLaw,
  cases: fc.Arbitrary<LawCase>,
): fc.IAsyncPropertyWithHooks<[LawCase]> {
  return fc.asyncProperty(cases, async ({ subject, inputs }) => {
    if (!law.applies(subject)) return true;
    const found = await checkAsyncSafely(law, subject, inputs);
    if (found) throw new Error(`${law.name} (${law.statement}): ${found.message}`);
    return true;
  });
}
