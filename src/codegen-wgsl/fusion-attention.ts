// AdapterFusion's attention, one invocation per token: with q [rows,H] and the N adapters' keys and values
// k, v [rows, N, H], scores[n] = q·k[n] (AdapterFusion uses no 1/sqrt(d)), probs = softmax(scores / temperature),
// ctx = Σ_n probs[n]·v[n]. Writes ctx [rows,H] and probs [rows,N]. N is small and fixed by the composition, so
// the scores live in registers.

import { type Dims, dispatch1D, requireMultipleOf, type WgslKernel } from './kernel.ts';
import { loop, plus, renderKernel, rowOffset, u32, unroll } from './render.ts';
import { renderLoad4, renderStore4, vectorElement } from './vector-access.ts';

export interface FusionAttentionSpec {
  readonly name?: string;
  /** Number of fused adapters N. */
  readonly adapters: number;
  readonly alignH: 1 | 4;
  readonly workgroupSize?: number;
}

export interface FusionAttentionDims extends Dims {
  readonly rows: number;
  readonly H: number;
  /** Softmax temperature T (f32). */
  readonly temperature: number;
}

export function fusionAttentionKernel(spec: FusionAttentionSpec): WgslKernel<FusionAttentionDims> {
  const workgroupSize = spec.workgroupSize ?? 64;
  const name = spec.name ?? 'fusion_attention';
  const vec = spec.alignH === 4;
  const element = vectorElement(vec);
  const n = spec.adapters;
  const load = (fnName: string, buffer: string) =>
    renderLoad4({ name: fnName, buffer, vectorized: vec, bound: 'p.H' });
  return renderKernel<FusionAttentionDims>(
    {
      name,
      storage: [
        { name: 'q', access: 'read', element },
        { name: 'k', access: 'read', element },
        { name: 'v', access: 'read', element },
        { name: 'ctx', access: 'read_write', element },
        { name: 'probs', access: 'read_write', element: 'f32' },
      ],
      uniforms: [
        { name: 'rows', type: 'u32' },
        { name: 'H', type: 'u32' },
        { name: 'temperature', type: 'f32' },
      ],
      constants: [['ADAPTERS', u32(n)]],
      functions: [
        load('loadQ', 'q'),
        load('loadK', 'k'),
        load('loadV', 'v'),
        renderStore4({ name: 'storeCtx', buffer: 'ctx', vectorized: vec, bound: 'p.H' }),
      ],
      workgroupSize,
      body: [
        'if (index >= p.rows) { return; }',
        'let qStart = index * p.H;',
        'let kvStart = index * ADAPTERS * p.H;',
        'var scores: array<f32, ADAPTERS>;',
        ...loop(
          'h',
          'p.H',
          [
            'let qv = loadQ(qStart, h);',
            ...unroll(n, (a) => [`scores[${a}] += dot(qv, loadK(${rowOffset('kvStart', a, 'p.H')}, h));`]),
          ],
          '0u',
          '4u',
        ),
        'var highest = scores[0] / p.temperature;',
        ...unroll(n, (a) => [`highest = max(highest, scores[${a}] / p.temperature);`]),
        'var total = 0.0;',
        ...unroll(n, (a) => [
          `scores[${a}] = exp(scores[${a}] / p.temperature - highest);`,
          `total += scores[${a}];`,
        ]),
        ...unroll(n, (a) => [
          `scores[${a}] /= total;`,
          `probs[${plus('index * ADAPTERS', a)}] = scores[${a}];`,
        ]),
        ...loop(
          'h',
          'p.H',
          [
            'var c = vec4f(0.0);',
            ...unroll(n, (a) => [`c += scores[${a}] * loadV(${rowOffset('kvStart', a, 'p.H')}, h);`]),
            'storeCtx(qStart, h, c);',
          ],
          '0u',
          '4u',
        ),
      ],
    },
    (dims) => {
      if (vec) requireMultipleOf(name, 'H', dims.H, 4);
      return dispatch1D(dims.rows, workgroupSize);
    },
  );
}
