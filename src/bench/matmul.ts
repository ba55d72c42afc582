// Matmul micro-benchmark (Node): GFLOP/s of the WGSL matmul over register-tile schedules, against numpy's
// sgemm on the same CPU when python3 + numpy are present. Used to pick DEFAULT_MATMUL_SCHEDULE for llvmpipe.

import { execFileSync } from 'node:child_process';
import { type MatmulDims, type MatmulSchedule, matmulKernel } from '../codegen-wgsl/matmul.ts';
import type { AcquiredDevice } from '../runtime/webgpu/device.ts';
import { acquireNodeDevice } from '../runtime/webgpu/device-node.ts';
import { Executor } from '../runtime/webgpu/executor.ts';
import { measureRoundRobin, type Rates } from './timing.ts';

export interface MatmulBenchOptions {
  readonly M?: number;
  readonly N?: number;
  readonly K?: number;
  readonly schedules?: readonly MatmulSchedule[];
  readonly layouts?: readonly ('B[K,N]' | 'B[N,K]')[];
  /** Dispatches per timed submit. */
  readonly dispatches?: number;
  /** Timed submits per schedule, round-robin over schedules; best and median are reported. */
  readonly repeats?: number;
  /** Device to use; acquired (and released) here when absent. */
  readonly device?: AcquiredDevice;
}

export interface MatmulBenchRow {
  readonly layout: 'B[K,N]' | 'B[N,K]';
  readonly schedule: MatmulSchedule;
  /** GFLOP/s; firstRunMs includes the pipeline compile. */
  readonly rates: Rates;
}

export interface MatmulBenchReport {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly adapter: string;
  readonly rows: readonly MatmulBenchRow[];
  /** numpy float32 matmul (BLAS sgemm) on the same shape, or undefined without python3/numpy. */
  readonly numpyGflops: number | undefined;
}

export const BENCH_SCHEDULES: readonly MatmulSchedule[] = [
  { rows: 4, cols4: 1, workgroupSize: 64 },
  { rows: 4, cols4: 2, workgroupSize: 64 },
  { rows: 4, cols4: 4, workgroupSize: 64 },
  { rows: 8, cols4: 1, workgroupSize: 64 },
  { rows: 8, cols4: 2, workgroupSize: 64 },
  { rows: 8, cols4: 4, workgroupSize: 64 },
  { rows: 8, cols4: 8, workgroupSize: 64 },
  { rows: 16, cols4: 2, workgroupSize: 64 },
];

export async function benchmarkMatmul(options: MatmulBenchOptions = {}): Promise<MatmulBenchReport> {
  const { M = 512, N = 768, K = 768, dispatches = 10, repeats = 5 } = options;
  const acquired = options.device ?? (await acquireNodeDevice());
  const executor = new Executor(acquired.device);
  try {
    const buffers = {
      a: executor.createBuffer(M * K * 4),
      b: executor.createBuffer(K * N * 4),
      c: executor.createBuffer(M * N * 4),
    };
    const cases = (options.layouts ?? ['B[N,K]', 'B[K,N]']).flatMap((layout) =>
      (options.schedules ?? BENCH_SCHEDULES).map((schedule) => ({ layout, schedule })),
    );
    const launches = cases.map(({ layout, schedule }) => ({
      kernel: matmulKernel({ transposeB: layout === 'B[N,K]', alignK: 4, alignN: 4, schedule }),
      dims: { M, N, K } satisfies MatmulDims,
      buffers,
    }));
    const rates = await measureRoundRobin(executor, launches, { work: 2 * M * N * K, dispatches, repeats });
    return {
      M,
      N,
      K,
      adapter: acquired.adapterInfo.description,
      rows: cases.map((c, i) => ({ ...c, rates: rates[i] })),
      numpyGflops: numpySgemmGflops(M, N, K),
    };
  } finally {
    executor.destroy();
    if (!options.device) acquired.release();
  }
}

/** Best of several numpy float32 matmuls, in GFLOP/s; undefined when python3 or numpy is missing. */
export function numpySgemmGflops(M: number, N: number, K: number): number | undefined {
  const script = [
    'import time, numpy as np',
    `a = np.random.rand(${M}, ${K}).astype(np.float32)`,
    `b = np.random.rand(${K}, ${N}).astype(np.float32)`,
    'a @ b',
    'best = float("inf")',
    'for _ in range(20):',
    '    t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)',
    `print(2 * ${M} * ${N} * ${K} / best / 1e9)`,
  ].join('\n');
  try {
    return Number(
      execFileSync('python3', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
  } catch {
    return undefined;
  }
}

export function formatMatmulReport(report: MatmulBenchReport): string {
  const header = `matmul ${report.M}×${report.K} · ${report.K}×${report.N} on ${report.adapter}`;
  const lines = [
    header,
    '| B layout | R×C4 (wg) | GFLOP/s best | GFLOP/s median | first run (compile) ms |',
    '|---|---|---|---|---|',
    ...report.rows.map(
      (r) =>
        `| ${r.layout} | ${r.schedule.rows}×${r.schedule.cols4} (${r.schedule.workgroupSize}) | ${r.rates.best.toFixed(1)} | ${r.rates.median.toFixed(1)} | ${r.rates.firstRunMs.toFixed(0)} |`,
    ),
    `numpy sgemm: ${report.numpyGflops === undefined ? 'unavailable' : `${report.numpyGflops.toFixed(1)} GFLOP/s`}`,
  ];
  return lines.join('\n');
}

/** The fastest schedule by median rate, for one B layout. */
export function bestSchedule(
  report: MatmulBenchReport,
  layout: MatmulBenchRow['layout'],
): MatmulSchedule | undefined {
  const candidates = report.rows.filter((r) => r.layout === layout);
  candidates.sort((x, y) => y.rates.median - x.rates.median);
  return candidates[0]?.schedule;
}

/** Runs the benchmark and prints the table (and the fastest schedule per layout) to stdout. */
export async function printMatmulBenchmark(options: MatmulBenchOptions = {}): Promise<MatmulBenchReport> {
  const report = await benchmarkMatmul(options);
  console.log(formatMatmulReport(report));
  for (const layout of ['B[N,K]', 'B[K,N]'] as const) {
    const best = bestSchedule(report, layout);
    if (best)
      console.log(`fastest (median) for ${layout}: ${best.rows}×${best.cols4} (wg ${best.workgroupSize})`);
  }
  return report;
}
