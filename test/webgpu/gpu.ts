// Shared test plumbing: one llvmpipe (or real GPU) device per test file, seeded data, and a tolerance check.

import { afterAll, beforeAll, expect } from 'vitest';
import type { Dims, WgslKernel } from '../../src/codegen-wgsl/kernel.ts';
import type { AcquiredDevice } from '../../src/runtime/webgpu/device.ts';
import { acquireNodeDevice } from '../../src/runtime/webgpu/device-node.ts';
import { Executor } from '../../src/runtime/webgpu/executor.ts';

export interface TestGpu {
  readonly acquired: AcquiredDevice;
  readonly executor: Executor;
}

/**
 * Acquires a device for the file. Without an adapter every test that calls the accessor FAILS with the
 * acquisition error (a throwing beforeAll would only mark them skipped).
 */
export function useGpu(): () => TestGpu {
  let gpu: TestGpu | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      const acquired = await acquireNodeDevice();
      gpu = { acquired, executor: new Executor(acquired.device) };
    } catch (error) {
      failure = error;
    }
  });
  afterAll(() => {
    gpu?.executor.destroy();
    gpu?.acquired.release();
  });
  return () => {
    if (!gpu) throw failure ?? new Error('no WebGPU device: useGpu() accessor called outside a test');
    return gpu;
  };
}

/** Uploads inputs, runs one launch, reads back the named outputs (lengths in elements). */
export async function runKernel<D extends Dims>(
  gpu: TestGpu,
  kernel: WgslKernel<D>,
  dims: D,
  inputs: Readonly<Record<string, Float32Array | Uint32Array>>,
  outputs: Readonly<Record<string, number>>,
): Promise<Record<string, Float32Array>> {
  const { executor } = gpu;
  const buffers: Record<string, GPUBuffer> = {};
  for (const [name, data] of Object.entries(inputs)) buffers[name] = executor.upload(data, name);
  for (const [name, length] of Object.entries(outputs))
    buffers[name] = executor.createBuffer(length * 4, name);
  await executor.run([{ kernel, dims, buffers }]);
  const results: Record<string, Float32Array> = {};
  for (const [name, length] of Object.entries(outputs))
    results[name] = await executor.readFloat32(buffers[name], length);
  for (const buffer of Object.values(buffers)) executor.release(buffer);
  return results;
}

/** mulberry32: small, seeded, good enough for test data. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(length: number, seed: number, scale = 1): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length }, () => (next() * 2 - 1) * scale);
}

/** max |actual − expected| ≤ tolerance · max(1, max |expected|). */
export function expectClose(actual: Float32Array, expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let magnitude = 1;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    magnitude = Math.max(magnitude, Math.abs(expected[i]));
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= worst)) {
      worst = error;
      worstAt = i;
    }
  }
  const context = worstAt >= 0 ? ` at ${worstAt}: got ${actual[worstAt]}, want ${expected[worstAt]}` : '';
  expect(worst, `max error ${worst} (magnitude ${magnitude})${context}`).toBeLessThanOrEqual(
    tolerance * magnitude,
  );
}
