// The backward of an embedding gather without float atomics (WGSL has none): one invocation per (position,
// column) where the position is the first holding its id sums dy over every position with that id, in order, and
// writes the table row; a preceding zero fill covers rows no position names. Deterministic, O(positions²·H).

import { type Dims, dispatch1D, type WgslKernel } from './kernel.ts';
import { block, loop, renderKernel } from './render.ts';

export interface GatherGradDims extends Dims {
  /** Positions (ids). */
  readonly positions: number;
  /** Row width. */
  readonly H: number;
}

export function gatherGradKernel(workgroupSize = 64): WgslKernel<GatherGradDims> {
  return renderKernel<GatherGradDims>(
    {
      name: 'gather_grad',
      storage: [
        { name: 'ids', access: 'read', element: 'i32' },
        { name: 'dy', access: 'read', element: 'f32' },
        { name: 'out', access: 'read_write', element: 'f32' },
      ],
      uniforms: [
        { name: 'positions', type: 'u32' },
        { name: 'H', type: 'u32' },
      ],
      workgroupSize,
      body: [
        'if (index >= p.positions * p.H) { return; }',
        'let n = index / p.H;',
        'let h = index % p.H;',
        'let id = ids[n];',
        ...loop('e', 'n', ['if (ids[e] == id) { return; }']),
        'var total = 0.0;',
        ...loop('e', 'p.positions', [...block('if (ids[e] == id)', 'total += dy[e * p.H + h];')], 'n'),
        'out[u32(id) * p.H + h] = total;',
      ],
    },
    (dims) => dispatch1D(dims.positions * dims.H, workgroupSize),
  );
}
