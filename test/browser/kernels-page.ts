// Browser-side entry: runs the matmul and layer-norm emitters on navigator.gpu and compares with the CPU.
// Bundled by harness.ts; publishes `globalThis.adaptcKernelChecks`.

import { layerNormKernel } from '../../src/codegen-wgsl/layernorm.ts';
import { matmulKernel } from '../../src/codegen-wgsl/matmul.ts';
import { acquireDevice } from '../../src/runtime/webgpu/device.ts';
import { Executor } from '../../src/runtime/webgpu/executor.ts';
import { layerNorm, matmul } from '../webgpu/reference.ts';

export interface KernelCheck {
  readonly name: string;
  /** max |gpu − cpu| / max(1, max |cpu|) */
  readonly relativeError: number;
}

export interface KernelChecks {
  readonly adapter: { readonly description: string; readonly backend: string };
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly checks: readonly KernelCheck[];
}

function seeded(length: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

function relativeError(got: Float32Array, want: Float64Array): number {
  let magnitude = 1;
  let worst = 0;
  want.forEach((w, i) => {
    magnitude = Math.max(magnitude, Math.abs(w));
    const error = Math.abs(got[i] - w);
    if (!(error <= worst)) worst = error;
  });
  return worst / magnitude;
}

async function checkMatmul(
  executor: Executor,
  M: number,
  N: number,
  K: number,
  aligned: boolean,
): Promise<KernelCheck> {
  const kernel = matmulKernel({
    transposeB: true,
    alignK: aligned ? 4 : 1,
    alignN: aligned ? 4 : 1,
    epilogue: { bias: true, activation: 'gelu' },
  });
  const a = seeded(M * K, 1);
  const b = seeded(N * K, 2);
  const bias = seeded(N, 3);
  const buffers = {
    a: executor.upload(a),
    b: executor.upload(b),
    bias: executor.upload(bias),
    c: executor.createBuffer(M * N * 4),
  };
  await executor.run([{ kernel, dims: { M, N, K }, buffers }]);
  const c = await executor.readFloat32(buffers.c, M * N);
  const want = matmul({ M, N, K, a, b, transposeB: true, bias, activation: 'gelu' });
  return { name: `matmul ${M}×${N}×${K}${aligned ? ' vec4' : ''}`, relativeError: relativeError(c, want) };
}

async function checkLayerNorm(executor: Executor, rows: number, H: number): Promise<KernelCheck> {
  const kernel = layerNormKernel({ eps: 1e-12, residual: true, alignH: H % 4 === 0 ? 4 : 1 });
  const [x, residual, gamma, beta] = [seeded(rows * H, 4), seeded(rows * H, 5), seeded(H, 6), seeded(H, 7)];
  const buffers = {
    x: executor.upload(x),
    residual: executor.upload(residual),
    gamma: executor.upload(gamma),
    beta: executor.upload(beta),
    y: executor.createBuffer(rows * H * 4),
  };
  await executor.run([{ kernel, dims: { rows, H }, buffers }]);
  const y = await executor.readFloat32(buffers.y, rows * H);
  return {
    name: `layernorm ${rows}×${H}`,
    relativeError: relativeError(y, layerNorm(x, residual, gamma, beta, rows, H, 1e-12)),
  };
}

async function runChecks(): Promise<KernelChecks> {
  const gpu = await acquireDevice();
  const executor = new Executor(gpu.device);
  try {
    const checks = [
      await checkMatmul(executor, 37, 29, 19, false),
      await checkMatmul(executor, 64, 96, 128, true),
      await checkLayerNorm(executor, 9, 13),
      await checkLayerNorm(executor, 16, 768),
    ];
    return {
      adapter: { description: gpu.adapterInfo.description, backend: gpu.adapterInfo.backend },
      maxComputeInvocationsPerWorkgroup: gpu.limits.maxComputeInvocationsPerWorkgroup,
      checks,
    };
  } finally {
    executor.destroy();
    gpu.release();
  }
}

Object.assign(globalThis, { adaptcKernelChecks: runChecks });
