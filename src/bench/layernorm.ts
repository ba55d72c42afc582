// Layer-norm micro-benchmark (Node): one invocation per row vs one workgroup per row, on BERT-base rows.
// Used to pick DEFAULT_LAYERNORM_SCHEDULE for llvmpipe.

import { type LayerNormSchedule, layerNormKernel } from '../codegen-wgsl/layernorm.ts';
import type { AcquiredDevice } from '../runtime/webgpu/device.ts';
import { acquireNodeDevice } from '../runtime/webgpu/device-node.ts';
import { Executor } from '../runtime/webgpu/executor.ts';
import { measureRoundRobin, type Rates } from './timing.ts';

export const LAYERNORM_BENCH_SCHEDULES: readonly LayerNormSchedule[] = [
  { kind: 'rowPerInvocation', workgroupSize: 64 },
  { kind: 'rowPerInvocation', workgroupSize: 16 },
  { kind: 'rowPerWorkgroup', workgroupSize: 8 },
  { kind: 'rowPerWorkgroup', workgroupSize: 64 },
  { kind: 'rowPerWorkgroup', workgroupSize: 256 },
];

export interface LayerNormBenchRow {
  readonly schedule: LayerNormSchedule;
  /** GB/s of x + residual read and y written. */
  readonly rates: Rates;
}

export async function benchmarkLayerNorm(
  options: { rows?: number; H?: number; repeats?: number; device?: AcquiredDevice } = {},
): Promise<{ rows: number; H: number; results: LayerNormBenchRow[] }> {
  const { rows = 512, H = 768, repeats = 5 } = options;
  const acquired = options.device ?? (await acquireNodeDevice());
  const executor = new Executor(acquired.device);
  try {
    const buffers = {
      x: executor.createBuffer(rows * H * 4),
      residual: executor.createBuffer(rows * H * 4),
      gamma: executor.createBuffer(H * 4),
      beta: executor.createBuffer(H * 4),
      y: executor.createBuffer(rows * H * 4),
    };
    const launches = LAYERNORM_BENCH_SCHEDULES.map((schedule) => ({
      kernel: layerNormKernel({ eps: 1e-12, residual: true, alignH: 4, schedule }),
      dims: { rows, H },
      buffers,
    }));
    const rates = await measureRoundRobin(executor, launches, {
      work: 3 * rows * H * 4,
      dispatches: 10,
      repeats,
    });
    return {
      rows,
      H,
      results: LAYERNORM_BENCH_SCHEDULES.map((schedule, i) => ({ schedule, rates: rates[i] })),
    };
  } finally {
    executor.destroy();
    if (!options.device) acquired.release();
  }
}

export function formatLayerNormReport(report: {
  rows: number;
  H: number;
  results: LayerNormBenchRow[];
}): string {
  return [
    `layernorm(x + residual) ${report.rows}×${report.H}`,
    '| schedule | GB/s best | GB/s median | first run (compile) ms |',
    '|---|---|---|---|',
    ...report.results.map(
      (r) =>
        `| ${r.schedule.kind} (wg ${r.schedule.workgroupSize}) | ${r.rates.best.toFixed(2)} | ${r.rates.median.toFixed(2)} | ${r.rates.firstRunMs.toFixed(0)} |`,
    ),
  ].join('\n');
}
