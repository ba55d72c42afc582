// The contract between WGSL emitters and the runtime: a kernel is WGSL text plus what the runtime needs to bind
// and launch it. Runtime sizes (M/N/K, batch, sequence length) travel in a uniform struct, so a new batch size or
// sequence length reuses the same WGSL and the same cached pipeline.

/** Runtime sizes and scalars of one launch, keyed by uniform field name. */
export type Dims = Readonly<Record<string, number>>;

export type Access = 'read' | 'read_write';

export interface KernelBinding {
  readonly name: string;
  /** @binding index in @group(0). */
  readonly binding: number;
  readonly kind: 'storage' | 'uniform';
  readonly access: Access;
  /** WGSL type of the binding, e.g. `array<vec4f>` or `Params`. */
  readonly wgslType: string;
}

export interface UniformField {
  readonly name: string;
  readonly type: 'u32' | 'f32';
}

export interface WgslKernel<D extends Dims = Dims> {
  readonly name: string;
  readonly wgsl: string;
  /** Storage bindings in @binding order, then the `params` uniform (absent when the kernel has no uniforms). */
  readonly bindings: readonly KernelBinding[];
  /** Fields of the `params` uniform struct, in declaration order; each is 4 bytes. */
  readonly uniforms: readonly UniformField[];
  /** Invocations per workgroup (all kernels are 1-D). */
  readonly workgroupSize: number;
  /** Workgroup counts for these dims; throws when the dims break a promise the WGSL was specialised on. */
  dispatch(dims: D): [number, number, number];
}

/** The most workgroups WebGPU allows per dispatch dimension. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/**
 * Workgroup counts for `invocations` 1-D invocations. Counts past the per-dimension limit spill into y; the
 * kernel recovers its linear index from `num_workgroups` (see `renderEntryPoint`).
 */
export function dispatch1D(invocations: number, workgroupSize: number): [number, number, number] {
  const groups = Math.ceil(invocations / workgroupSize);
  if (groups <= MAX_WORKGROUPS_PER_DIMENSION) return [groups, 1, 1];
  return [MAX_WORKGROUPS_PER_DIMENSION, Math.ceil(groups / MAX_WORKGROUPS_PER_DIMENSION), 1];
}

/** Throws a kernel-named error when a runtime size breaks an alignment the WGSL was specialised on. */
export function requireMultipleOf(kernel: string, what: string, value: number, multiple: number): void {
  if (value % multiple !== 0) {
    throw new RangeError(
      `${kernel}: ${what} = ${value} must be a multiple of ${multiple} for this kernel variant`,
    );
  }
}
