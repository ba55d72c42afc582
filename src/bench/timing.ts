// Timing helpers for the WebGPU micro-benchmarks. The 2-core VM is shared and noisy, so candidates are timed
// round-robin (noise hits all of them alike) and reported as best and median over the repeats.

import type { Dims } from '../codegen-wgsl/kernel.ts';
import type { Executor, KernelLaunch } from '../runtime/webgpu/executor.ts';

export interface Rates {
  /** First launch alone: pipeline compile plus one dispatch, in ms. */
  readonly firstRunMs: number;
  readonly best: number;
  readonly median: number;
}

export async function timeMs(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * For each launch: one warm-up run (timed as firstRunMs), then `repeats` rounds in which every launch runs
 * `dispatches` times in one submit. `work` is the amount done by one dispatch (e.g. FLOPs); rates are work/ns.
 */
export async function measureRoundRobin(
  executor: Executor,
  launches: readonly KernelLaunch<Dims>[],
  options: { readonly work: number; readonly dispatches: number; readonly repeats: number },
): Promise<Rates[]> {
  const firstRuns: number[] = [];
  for (const launch of launches) firstRuns.push(await timeMs(() => executor.run([launch])));
  const samples: number[][] = launches.map(() => []);
  for (let round = 0; round < options.repeats; round++) {
    for (const [i, launch] of launches.entries()) {
      const ms = await timeMs(() => executor.run(Array.from({ length: options.dispatches }, () => launch)));
      samples[i].push((options.work * options.dispatches) / (ms * 1e6));
    }
  }
  return samples.map((rates, i) => {
    const sorted = [...rates].sort((x, y) => x - y);
    return {
      firstRunMs: firstRuns[i],
      best: sorted[sorted.length - 1],
      median: sorted[Math.floor(sorted.length / 2)],
    };
  });
}
