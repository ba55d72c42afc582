// Host tensors as checkpoints hold them: f32 data (F16/BF16 are widened on read), row-major.

export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A flat state dict: checkpoint key → tensor, in file order. */
export type StateDict = ReadonlyMap<string, HostTensor>;

/** A bad or hostile checkpoint: names the file and, where known, the tensor or key. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly tensor?: string,
  ) {
    super(`${file}: ${tensor !== undefined ? `tensor '${tensor}': ` : ''}${detail}`);
    this.name = 'CheckpointError';
  }
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
