// Runs emitted kernels: pipelines cached by WGSL text, buffers from a reuse pool, any number of launches
// recorded into one command buffer, results read back with mapAsync.

import type { Dims, KernelBinding, WgslKernel } from '../../codegen-wgsl/kernel.ts';
import { GpuKernelError, withErrorScopes } from './device.ts';

// Spec-defined flag values: Dawn-in-Node does not put GPUBufferUsage & co. on globalThis.
const USAGE_MAP_READ = 0x1;
const USAGE_COPY_SRC = 0x4;
const USAGE_COPY_DST = 0x8;
const USAGE_UNIFORM = 0x40;
const USAGE_STORAGE = 0x80;
const MAP_MODE_READ = 0x1;
const STAGE_COMPUTE = 0x4;

export const STORAGE_USAGE = USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST;

/** Time spent in one kernel over a profiled run. */
export interface KernelTime {
  readonly ms: number;
  readonly launches: number;
}

export interface KernelLaunch<D extends Dims = Dims> {
  readonly kernel: WgslKernel<D>;
  readonly dims: D;
  /** One buffer per storage binding, by binding name. */
  readonly buffers: Readonly<Record<string, GPUBuffer>>;
}

interface CompiledKernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** Buffers grouped by (usage, size); sizes are rounded up so that near sizes share buffers. */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();

  constructor(private readonly device: GPUDevice) {}

  acquire(byteLength: number, usage: number, label?: string): GPUBuffer {
    const size = poolSize(byteLength);
    const reused = this.free.get(poolKey(size, usage))?.pop();
    return reused ?? this.device.createBuffer({ size, usage, label });
  }

  release(buffer: GPUBuffer): void {
    const key = poolKey(buffer.size, buffer.usage);
    const list = this.free.get(key);
    if (list) list.push(buffer);
    else this.free.set(key, [buffer]);
  }

  destroy(): void {
    for (const list of this.free.values()) for (const buffer of list) buffer.destroy();
    this.free.clear();
  }
}

/** At least 16 bytes (one vec4), rounded up to 256 B below 64 KiB and to 1/16 of the power of two above. */
export function poolSize(byteLength: number): number {
  const size = Math.max(16, byteLength);
  if (size <= 65536) return Math.ceil(size / 256) * 256;
  const step = 2 ** Math.floor(Math.log2(size)) / 16;
  return Math.ceil(size / step) * step;
}

function poolKey(size: number, usage: number): string {
  return `${usage}:${size}`;
}

export class Executor {
  readonly pool: BufferPool;
  private readonly compiled = new Map<string, Promise<CompiledKernel>>();

  constructor(readonly device: GPUDevice) {
    this.pool = new BufferPool(device);
  }

  /**
   * A storage buffer (also a copy source and destination) of at least `byteLength` bytes, from the pool: its
   * contents are undefined (a reused buffer keeps old data).
   */
  createBuffer(byteLength: number, label?: string): GPUBuffer {
    return this.pool.acquire(byteLength, STORAGE_USAGE, label);
  }

  upload(data: Float32Array | Uint32Array | Int32Array, label?: string): GPUBuffer {
    const buffer = this.createBuffer(data.byteLength, label);
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** Returns a buffer to the pool; the caller must not use it again. */
  release(buffer: GPUBuffer): void {
    this.pool.release(buffer);
  }

  /** The cached pipeline for a kernel's WGSL, compiling it on first use. */
  compile(kernel: WgslKernel<Dims>): Promise<CompiledKernel> {
    let compiled = this.compiled.get(kernel.wgsl);
    if (!compiled) {
      compiled = compileKernel(this.device, kernel);
      compiled.catch(() => this.compiled.delete(kernel.wgsl));
      this.compiled.set(kernel.wgsl, compiled);
    }
    return compiled;
  }

  /**
   * When set, `run` submits each launch alone and adds its wall time here, by kernel name: a profile (slower
   * than a real run, which records every launch into one command buffer).
   */
  profile: Map<string, KernelTime> | null = null;

  /**
   * Records every launch, in order, into one compute pass of one command buffer, submits it and resolves when
   * the GPU has finished. Validation and out-of-memory errors name the kernels.
   */
  async run(launches: readonly KernelLaunch<Dims>[]): Promise<void> {
    const profile = this.profile;
    if (profile === null) return this.submit(launches);
    for (const launch of launches) {
      const started = performance.now();
      await this.submit([launch]);
      const known = profile.get(launch.kernel.name) ?? { ms: 0, launches: 0 };
      profile.set(launch.kernel.name, {
        ms: known.ms + performance.now() - started,
        launches: known.launches + 1,
      });
    }
  }

  private async submit(launches: readonly KernelLaunch<Dims>[]): Promise<void> {
    const compiled = await Promise.all(launches.map((launch) => this.compile(launch.kernel)));
    const label = [...new Set(launches.map((launch) => launch.kernel.name))].join(', ');
    const uniforms: GPUBuffer[] = [];
    try {
      await withErrorScopes(this.device, label, () => {
        const encoder = this.device.createCommandEncoder({ label });
        const pass = encoder.beginComputePass({ label });
        launches.forEach((launch, i) => {
          const workgroups = launch.kernel.dispatch(launch.dims);
          if (workgroups.some((n) => n === 0)) return;
          const uniform = this.uniformBuffer(launch);
          if (uniform) uniforms.push(uniform);
          pass.setPipeline(compiled[i].pipeline);
          pass.setBindGroup(0, this.bindGroup(launch, compiled[i].layout, uniform));
          pass.dispatchWorkgroups(...workgroups);
        });
        pass.end();
        this.device.queue.submit([encoder.finish()]);
      });
      await this.device.queue.onSubmittedWorkDone();
    } finally {
      for (const buffer of uniforms) this.pool.release(buffer);
    }
  }

  /** Copies `byteLength` bytes (default: the whole buffer) back to the host. */
  async read(buffer: GPUBuffer, byteLength = buffer.size): Promise<ArrayBuffer> {
    const size = Math.ceil(byteLength / 4) * 4;
    const staging = this.pool.acquire(size, USAGE_MAP_READ | USAGE_COPY_DST, 'readback');
    const encoder = this.device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_MODE_READ, 0, size);
    const copy = staging.getMappedRange(0, size).slice(0, byteLength);
    staging.unmap();
    this.pool.release(staging);
    return copy;
  }

  async readFloat32(buffer: GPUBuffer, length: number): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, length * 4));
  }

  destroy(): void {
    this.pool.destroy();
    this.compiled.clear();
  }

  private uniformBuffer(launch: KernelLaunch<Dims>): GPUBuffer | undefined {
    if (launch.kernel.uniforms.length === 0) return undefined;
    const data = packUniforms(launch.kernel, launch.dims);
    const buffer = this.pool.acquire(data.byteLength, USAGE_UNIFORM | USAGE_COPY_DST, 'params');
    this.device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  }

  private bindGroup(
    launch: KernelLaunch<Dims>,
    layout: GPUBindGroupLayout,
    uniform?: GPUBuffer,
  ): GPUBindGroup {
    const entries = launch.kernel.bindings.map((binding) => {
      const buffer = binding.kind === 'uniform' ? uniform : launch.buffers[binding.name];
      if (!buffer) throw new GpuKernelError(launch.kernel.name, `no buffer for binding '${binding.name}'`);
      return { binding: binding.binding, resource: { buffer } };
    });
    return this.device.createBindGroup({ label: launch.kernel.name, layout, entries });
  }
}

/** The `params` struct: every field is a 4-byte u32 or f32, in order; the size is padded to 16 bytes. */
export function packUniforms(kernel: WgslKernel<Dims>, dims: Dims): ArrayBuffer {
  const data = new ArrayBuffer(Math.ceil((kernel.uniforms.length * 4) / 16) * 16);
  const view = new DataView(data);
  kernel.uniforms.forEach((field, i) => {
    const value = dims[field.name];
    if (value === undefined) throw new GpuKernelError(kernel.name, `missing uniform '${field.name}'`);
    if (field.type === 'f32') view.setFloat32(i * 4, value, true);
    else if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) view.setUint32(i * 4, value, true);
    else throw new GpuKernelError(kernel.name, `uniform '${field.name}' = ${value} is not a u32`);
  });
  return data;
}

async function compileKernel(device: GPUDevice, kernel: WgslKernel<Dims>): Promise<CompiledKernel> {
  return withErrorScopes(device, kernel.name, async () => {
    const module = device.createShaderModule({ label: kernel.name, code: kernel.wgsl });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) {
      const lines = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
      throw new GpuKernelError(kernel.name, `WGSL does not compile:\n${lines.join('\n')}`);
    }
    const layout = device.createBindGroupLayout({
      label: kernel.name,
      entries: kernel.bindings.map(layoutEntry),
    });
    const pipeline = await device.createComputePipelineAsync({
      label: kernel.name,
      layout: device.createPipelineLayout({ label: kernel.name, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    return { pipeline, layout };
  });
}

function layoutEntry(binding: KernelBinding): GPUBindGroupLayoutEntry {
  const type: GPUBufferBindingType =
    binding.kind === 'uniform' ? 'uniform' : binding.access === 'read' ? 'read-only-storage' : 'storage';
  return { binding: binding.binding, visibility: STAGE_COMPUTE, buffer: { type } };
}
