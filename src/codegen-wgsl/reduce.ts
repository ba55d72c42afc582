// Sum or mean over one axis of a row-major tensor viewed as [outer, len, inner]: one invocation per output
// element, accumulating in order (deterministic, so repeated training steps give identical gradients).

import { type Dims, dispatch1D, type WgslKernel } from './kernel.ts';
import { loop, renderKernel } from './render.ts';

export type ReduceFn = 'sum' | 'mean';

export interface ReduceDims extends Dims {
  readonly outer: number;
  readonly len: number;
  readonly inner: number;
}

export function reduceKernel(reduce: ReduceFn, workgroupSize = 64): WgslKernel<ReduceDims> {
  return renderKernel<ReduceDims>(
    {
      name: `${reduce}_axis`,
      storage: [
        { name: 'x', access: 'read', element: 'f32' },
        { name: 'y', access: 'read_write', element: 'f32' },
      ],
      uniforms: ['outer', 'len', 'inner'].map((name) => ({ name, type: 'u32' })),
      workgroupSize,
      body: [
        'if (index >= p.outer * p.inner) { return; }',
        'let start = (index / p.inner) * p.len * p.inner + index % p.inner;',
        'var total = 0.0;',
        ...loop('l', 'p.len', ['total += x[start + l * p.inner];']),
        reduce === 'mean' ? 'y[index] = total / f32(p.len);' : 'y[index] = total;',
      ],
    },
    (dims) => dispatch1D(dims.outer * dims.inner, workgroupSize),
  );
}
