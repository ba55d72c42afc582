// Mean over one axis of a row-major tensor viewed as [outer, len, inner]: one invocation per output element.

import { type Dims, dispatch1D, type WgslKernel } from './kernel.ts';
import { loop, renderKernel } from './render.ts';

export interface MeanDims extends Dims {
  readonly outer: number;
  readonly len: number;
  readonly inner: number;
}

export function meanKernel(workgroupSize = 64): WgslKernel<MeanDims> {
  return renderKernel<MeanDims>(
    {
      name: 'mean_axis',
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
        'y[index] = total / f32(p.len);',
      ],
    },
    (dims) => dispatch1D(dims.outer * dims.inner, workgroupSize),
  );
}
