import { describe, it } from 'vitest';
import { type LayerNormSchedule, layerNormKernel } from '../../src/codegen-wgsl/layernorm.ts';
import { expectClose, randomArray, runKernel, useGpu } from './gpu.ts';
import { layerNorm } from './reference.ts';

const gpu = useGpu();

const SCHEDULES: LayerNormSchedule[] = [
  { kind: 'rowPerInvocation', workgroupSize: 64 },
  { kind: 'rowPerWorkgroup', workgroupSize: 64 },
  { kind: 'rowPerWorkgroup', workgroupSize: 4 },
];

async function checkLayerNorm(rows: number, H: number, residual: boolean, schedule: LayerNormSchedule) {
  const eps = 1e-12;
  const kernel = layerNormKernel({ eps, residual, alignH: H % 4 === 0 ? 4 : 1, schedule });
  // An offset mean and a large magnitude catch one-pass variance cancellation.
  const x = randomArray(rows * H, 11, 3).map((v) => v + 5);
  const r = randomArray(rows * H, 12);
  const gamma = randomArray(H, 13);
  const beta = randomArray(H, 14);
  const inputs: Record<string, Float32Array> = residual
    ? { x, residual: r, gamma, beta }
    : { x, gamma, beta };
  const { y } = await runKernel(gpu(), kernel, { rows, H }, inputs, { y: rows * H });
  expectClose(y, layerNorm(x, residual ? r : undefined, gamma, beta, rows, H, eps));
}

describe('layer norm', () => {
  for (const schedule of SCHEDULES) {
    const label = `${schedule.kind} (wg ${schedule.workgroupSize})`;
    for (const [rows, H] of [
      [1, 1],
      [7, 13],
      [33, 768],
      [5, 1030],
    ]) {
      it(`${label}: ${rows}×${H}, with and without a folded residual`, async () => {
        await checkLayerNorm(rows, H, false, schedule);
        await checkLayerNorm(rows, H, true, schedule);
      });
    }
  }
});
