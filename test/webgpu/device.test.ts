import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dispatch1D } from '../../src/codegen-wgsl/kernel.ts';
import { renderKernel } from '../../src/codegen-wgsl/render.ts';
import { acquireDevice, GpuKernelError, summarizeAdapter } from '../../src/runtime/webgpu/device.ts';
import { MESA_PACKAGES_HINT } from '../../src/runtime/webgpu/device-node.ts';
import { packUniforms, poolSize } from '../../src/runtime/webgpu/executor.ts';
import { runKernel, useGpu } from './gpu.ts';

const gpu = useGpu();
const GPU_MAP_READ = 0x1;
const GPU_COPY_DST = 0x8;

/** Writes each invocation's linear index, to check the y spill of wide dispatches. */
const indexKernel = (workgroupSize: number) =>
  renderKernel<{ count: number }>(
    {
      name: 'write_index',
      storage: [{ name: 'out', access: 'read_write', element: 'u32' }],
      uniforms: [{ name: 'count', type: 'u32' }],
      workgroupSize,
      body: ['if (index >= p.count) { return; }', 'out[index] = index;'],
    },
    (dims) => dispatch1D(dims.count, workgroupSize),
  );

describe('WebGPU device', () => {
  it('finds an adapter (llvmpipe here) with compute limits raised past the compatibility defaults', () => {
    const { adapterInfo, limits } = gpu().acquired;
    expect(adapterInfo.description).not.toBe('');
    if (adapterInfo.backend === 'opengl-compat') expect(adapterInfo.description).toMatch(/llvmpipe/);
    expect(limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
  });

  it('names the system packages when no source yields an adapter', async () => {
    const none = { backend: 'default' as const, open: () => undefined };
    await expect(acquireDevice({ sources: [none], missingAdapterHint: MESA_PACKAGES_HINT })).rejects.toThrow(
      /No WebGPU adapter found \(tried: default\).*libegl1 libegl-mesa0 libgl1-mesa-dri/,
    );
  });

  it('summarizes Dawn-in-Node adapter info into a name that says llvmpipe', () => {
    const info = {
      vendor: '',
      architecture: '',
      description: 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6',
      device: 'llvmpipe-llvm-15-0-6-256-bits-',
    };
    const summary = summarizeAdapter(info as unknown as GPUAdapterInfo, 'opengl-compat');
    expect(summary.description).toBe(
      'llvmpipe (OpenGL version 4.5 (Core Profile) Mesa 22.3.6, llvmpipe-llvm-15-0-6-256-bits-)',
    );
    expect(
      summarizeAdapter({ vendor: '', architecture: '', description: '' } as GPUAdapterInfo, 'browser')
        .description,
    ).toBe('unnamed browser adapter');
  });

  it('reports WGSL that does not compile as an error naming the kernel', async () => {
    const broken = { ...indexKernel(64), name: 'broken_kernel', wgsl: 'fn main( {' };
    await expect(gpu().executor.compile(broken)).rejects.toThrow(GpuKernelError);
    await expect(gpu().executor.compile(broken)).rejects.toThrow(/^broken_kernel: /);
  });

  it('reports a validation error at submit as an error naming the kernel', async () => {
    const { executor } = gpu();
    // A map-read buffer cannot be bound as storage: createBindGroup fails validation inside the submit scope.
    const mapped = executor.pool.acquire(64, GPU_MAP_READ | GPU_COPY_DST);
    const launch = { kernel: indexKernel(64), dims: { count: 4 }, buffers: { out: mapped } };
    await expect(executor.run([launch])).rejects.toThrow(/^write_index: GPUValidationError/);
    executor.pool.release(mapped);
  });

  it('caches pipelines by WGSL text', async () => {
    const { executor } = gpu();
    const first = await executor.compile(indexKernel(64));
    expect(await executor.compile(indexKernel(64))).toBe(first);
    expect(await executor.compile(indexKernel(32))).not.toBe(first);
  });

  it('spills dispatches past 65535 workgroups into y and recovers the linear index', async () => {
    const count = 70_001;
    expect(dispatch1D(count, 1)).toEqual([65535, 2, 1]);
    const { out } = await runKernel(gpu(), indexKernel(1), { count }, {}, { out: count });
    const indices = new Uint32Array(out.buffer);
    expect(indices.every((value, i) => value === i)).toBe(true);
  });

  it('reuses pooled buffers of the same size class', () => {
    const { executor } = gpu();
    const buffer = executor.createBuffer(1000);
    executor.release(buffer);
    expect(executor.createBuffer(900)).toBe(buffer);
    expect(poolSize(1)).toBe(256);
    expect(poolSize(100_000)).toBe(102_400);
  });

  it('packs uniforms as u32 and f32 and rejects values that are not u32', () => {
    const kernel = {
      ...indexKernel(64),
      uniforms: [
        { name: 'n', type: 'u32' },
        { name: 't', type: 'f32' },
      ] as const,
    };
    const view = new DataView(packUniforms(kernel, { n: 7, t: 0.5 }));
    expect(view.byteLength).toBe(16);
    expect([view.getUint32(0, true), view.getFloat32(4, true)]).toEqual([7, 0.5]);
    expect(() => packUniforms(kernel, { n: -1, t: 0 })).toThrow(/'n' = -1 is not a u32/);
    expect(() => packUniforms(kernel, { t: 0 })).toThrow(/missing uniform 'n'/);
  });

  it('release() lets Node exit', () => {
    const script = [
      "import { acquireNodeDevice } from './src/runtime/webgpu/device-node.ts';",
      'const gpu = await acquireNodeDevice();',
      'gpu.release();',
      "console.log('released', gpu.adapterInfo.backend);",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stdout).toMatch(/released/);
    expect(child.status).toBe(0);
  });
});
