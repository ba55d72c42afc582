// Matmul micro-benchmark (Node): GFLOP/s of the WGSL matmul over register-tile schedules, against numpy's
// sgemm on the same CPU when python3 + numpy are present. Used to pick DEFAULT_MATMUL_SCHEDULE for llvmpipe.

import { execFileSync } from 'node:child_process';
import { type MatmulDims, type MatmulSchedule, matmulKernel } from '../codegen-wgsl/matmul.ts';
import type { AcquiredDevice } from '../runtime/webgpu/device.ts';
import { acquireNodeDevice } from '../runtime/webgpu/device-node.ts';
import { Executor } from '../runtime/webgpu/executor.ts';

export interface MatmulBenchOptions {
  readonly M?: number;
  readonly N?: number;
  readonly K?: number;
  readonly schedules?: readonly MatmulSchedule[];
  readonly layouts?: readonly ('B[K,N]' | 'B[N,K]')[];
  /** Dispatches per timed submit. */
  readonly dispatches?: number;
  /** Timed submits per schedule; the best is reported (the 2-core VM is noisy). */
  readonly repeats?: number;
  /** Device to use; acquired (and released) here when absent. */
  readonly device?: AcquiredDevice;
}

export interface MatmulBenchRow {
  readonly layout: 'B[K,N]' | 'B[N,K]';
  readonly schedule: MatmulSchedule;
  /** First launch: pipeline compile plus one dispatch. */
  readonly firstRunMs: number;
  readonly bestGflops: number;
  readonly medianGflops: number;
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
  const flops = 2 * M * N * K * dispatches;
  const rows: MatmulBenchRow[] = [];
  try {
    const a = executor.createBuffer(M * K * 4);
    const b = executor.createBuffer(K * N * 4);
    const c = executor.createBuffer(M * N * 4);
    for (const layout of options.layouts ?? ['B[N,K]', 'B[K,N]']) {
      for (const schedule of options.schedules ?? BENCH_SCHEDULES) {
        const kernel = matmulKernel({ transposeB: layout === 'B[N,K]', alignK: 4, alignN: 4, schedule });
        const launch = { kernel, dims: { M, N, K } satisfies MatmulDims, buffers: { a, b, c } };
        const firstRunMs = await timeMs(() => executor.run([launch]));
        const rates: number[] = [];
        for (let i = 0; i < repeats; i++) {
          const ms = await timeMs(() => executor.run(Array.from({ length: dispatches }, () => launch)));
          rates.push(flops / (ms * 1e6));
        }
        rates.sort((x, y) => x - y);
        rows.push({
          layout,
          schedule,
          firstRunMs,
          bestGflops: rates[rates.length - 1],
          medianGflops: rates[Math.floor(rates.length / 2)],
        });
      }
    }
  } finally {
    executor.destroy();
    if (!options.device) acquired.release();
  }
  return { M, N, K, adapter: acquired.adapterInfo.description, rows, numpyGflops: numpySgemmGflops(M, N, K) };
}

async function timeMs(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
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
        `| ${r.layout} | ${r.schedule.rows}×${r.schedule.cols4} (${r.schedule.workgroupSize}) | ${r.bestGflops.toFixed(1)} | ${r.medianGflops.toFixed(1)} | ${r.firstRunMs.toFixed(0)} |`,
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
  candidates.sort((x, y) => y.medianGflops - x.medianGflops);
  return candidates[0]?.schedule;
}
