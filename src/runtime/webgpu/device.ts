// WebGPU device acquisition that works the same in browsers and in Node. This module never imports the `webgpu`
// package: Node callers pass the sources from device-node.ts, browsers get navigator.gpu by default.

export type GpuBackend = 'default' | 'opengl-compat' | 'browser';

/** One way of getting an adapter, tried in order by `acquireDevice`. */
export interface GpuSource {
  readonly backend: GpuBackend;
  /** Returns the GPU object, or undefined when this environment has none. */
  open(): GPU | undefined;
  readonly adapterOptions?: GPURequestAdapterOptions;
}

export interface AcquireOptions {
  /** Sources tried in order; defaults to navigator.gpu (default, then compatibility feature level). */
  readonly sources?: readonly GpuSource[];
  /** Added to the error when no source yields an adapter (e.g. which system packages to install). */
  readonly missingAdapterHint?: string;
}

export interface GpuAdapterSummary {
  /** A human-readable adapter name; never empty. Contains 'llvmpipe' on Mesa's software rasterizer. */
  readonly description: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly backend: GpuBackend;
}

export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapterInfo: GpuAdapterSummary;
  readonly limits: GPUSupportedLimits;
  /** Errors no error scope caught (also logged); a kernel error normally surfaces through `withErrorScopes`. */
  readonly uncapturedErrors: readonly GPUError[];
  /** Destroys the device and drops the GPU object so that Node can exit. Idempotent. */
  release(): void;
}

/** Limits raised to what the adapter offers; compatibility-mode defaults (128 invocations) are too small. */
export const REQUESTED_LIMITS = [
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxUniformBufferBindingSize',
] as const;

export function browserGpuSources(): GpuSource[] {
  const open = () => (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  return [
    { backend: 'browser', open },
    { backend: 'browser', open, adapterOptions: { featureLevel: 'compatibility' } },
  ];
}

export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const sources = options.sources ?? browserGpuSources();
  for (const source of sources) {
    const gpu = source.open();
    const adapter = await gpu?.requestAdapter(source.adapterOptions);
    if (adapter) return openDevice(gpu as GPU, adapter, source.backend);
  }
  const tried = sources.map(
    (s) => `${s.backend}${s.adapterOptions?.featureLevel === 'compatibility' ? ' (compatibility)' : ''}`,
  );
  throw new Error(
    `No WebGPU adapter found (tried: ${tried.join(', ') || 'nothing'}).${options.missingAdapterHint ? ` ${options.missingAdapterHint}` : ''}`,
  );
}

async function openDevice(gpu: GPU, adapter: GPUAdapter, backend: GpuBackend): Promise<AcquiredDevice> {
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredLimits, label: 'adaptc' });
  const uncapturedErrors: GPUError[] = [];
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    uncapturedErrors.push(error);
    console.error(`adaptc: uncaptured WebGPU error: ${error.message}`);
  });
  let released = false;
  // The device keeps working without it, but Node cannot exit while a `create()` result is reachable.
  const held: { gpu?: GPU } = { gpu };
  void device.lost.then((info) => {
    if (!released) console.error(`adaptc: WebGPU device lost (${info.reason}): ${info.message}`);
  });
  return {
    device,
    adapterInfo: summarizeAdapter(adapter.info, backend),
    limits: device.limits,
    uncapturedErrors,
    release() {
      if (released) return;
      released = true;
      device.destroy();
      held.gpu = undefined;
    },
  };
}

/**
 * A useful adapter name from whatever the implementation fills in, led by "llvmpipe" when any field names it
 * (Mesa's software rasterizer). Dawn-in-Node leaves vendor/architecture
 * empty on Mesa and puts "llvmpipe-llvm-15-…" in `device` and the GL version in `description`.
 */
export function summarizeAdapter(info: GPUAdapterInfo, backend: GpuBackend): GpuAdapterSummary {
  const extra = info as GPUAdapterInfo & { readonly device?: string };
  const parts = [info.description, extra.device, info.vendor, info.architecture]
    .map((s) => (s ?? '').trim())
    .filter((s, i, all) => s !== '' && all.indexOf(s) === i);
  const joined = parts.join(', ');
  const named =
    /llvmpipe/i.test(joined) && !/llvmpipe/i.test(info.description ?? '') ? `llvmpipe (${joined})` : joined;
  return {
    description: named === '' ? `unnamed ${backend} adapter` : named,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    backend,
  };
}

/** A WebGPU validation or out-of-memory error, named after the kernel(s) involved. */
export class GpuKernelError extends Error {
  constructor(
    readonly kernel: string,
    readonly detail: string,
  ) {
    super(`${kernel}: ${detail}`);
    this.name = 'GpuKernelError';
  }
}

/**
 * Runs `work` inside validation and out-of-memory error scopes and throws a GpuKernelError naming `label` if
 * either caught something (errors from asynchronous work like createComputePipelineAsync included).
 */
export async function withErrorScopes<T>(
  device: GPUDevice,
  label: string,
  work: () => T | Promise<T>,
): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T | undefined;
  let thrown: unknown;
  try {
    result = await work();
  } catch (error) {
    thrown = error;
  }
  const validation = await device.popErrorScope();
  const outOfMemory = await device.popErrorScope();
  if (thrown !== undefined) {
    throw thrown instanceof GpuKernelError ? thrown : new GpuKernelError(label, errorMessage(thrown));
  }
  const error = validation ?? outOfMemory;
  if (error) throw new GpuKernelError(label, `${error.constructor.name}: ${error.message}`);
  return result as T;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
