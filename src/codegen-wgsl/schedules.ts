// Schedules say how kernels are tiled and launched, never what they compute: the plan takes one set per device.
// The llvmpipe set was measured on this project's machine (each default's comment says how); the GPU set follows
// the usual shape of register-tiled WebGPU kernels (more, smaller tiles; a workgroup per LayerNorm row) and has
// not been measured here, for want of a GPU. Both are checked for correctness on llvmpipe by the tests.
import { DEFAULT_LAYERNORM_SCHEDULE, type LayerNormSchedule } from './layernorm.ts';
import { DEFAULT_LOW_RANK_SCHEDULE, type LowRankSchedule } from './lowrank.ts';
import { DEFAULT_MATMUL_SCHEDULE, type MatmulSchedule } from './matmul.ts';

export interface KernelSchedules {
  readonly matmul: MatmulSchedule;
  readonly lowRank: LowRankSchedule;
  readonly layerNorm: LayerNormSchedule;
}

/** Mesa's llvmpipe: invocations are SIMD lanes of CPU threads, so few large register tiles and no barriers. */
export const LLVMPIPE_SCHEDULES: KernelSchedules = {
  matmul: DEFAULT_MATMUL_SCHEDULE,
  lowRank: DEFAULT_LOW_RANK_SCHEDULE,
  layerNorm: DEFAULT_LAYERNORM_SCHEDULE,
};

/** Hardware GPUs: many small tiles to fill the machine, a workgroup-wide reduction per LayerNorm row. */
export const GPU_SCHEDULES: KernelSchedules = {
  matmul: { rows: 4, cols4: 1, workgroupSize: 64 },
  lowRank: { maxRank: 64, rows: 1, workgroupSize: 64 },
  layerNorm: { kind: 'rowPerWorkgroup', workgroupSize: 64 },
};

const CPU_RASTERIZERS = /llvmpipe|lavapipe|swiftshader/i;

/** The schedules for an adapter, by its description (a CPU rasterizer, or a GPU). */
export function schedulesFor(adapter: { readonly description: string }): KernelSchedules {
  return CPU_RASTERIZERS.test(adapter.description) ? LLVMPIPE_SCHEDULES : GPU_SCHEDULES;
}
