// The backward of LayerNorm, one invocation per row (no barriers; see layernorm.ts for why llvmpipe prefers it):
// with x̂ = (x − μ)·σ⁻¹ and g = dy·γ, dL/dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)); the scale gradient's rows
// are dy·x̂ (summed over rows by a reduction kernel).

import { type Dims, dispatch1D, type WgslKernel } from './kernel.ts';
import { f32, loop, renderKernel } from './render.ts';

export interface LayerNormGradSpec {
  readonly eps: number;
  readonly wrt: 'input' | 'scale';
}

export interface LayerNormGradDims extends Dims {
  readonly rows: number;
  readonly H: number;
}

export function layerNormGradKernel(
  spec: LayerNormGradSpec,
  workgroupSize = 64,
): WgslKernel<LayerNormGradDims> {
  const overRow = (body: string[]) => loop('h', 'p.H', body);
  const xhat = '(x[start + h] - mean) * invStd';
  const write =
    spec.wrt === 'scale'
      ? overRow([`out[start + h] = dy[start + h] * ${xhat};`])
      : [
          'var sumG = 0.0;',
          'var sumGX = 0.0;',
          ...overRow(['let g = dy[start + h] * gamma[h];', 'sumG += g;', `sumGX += g * ${xhat};`]),
          'let meanG = sumG / f32(p.H);',
          'let meanGX = sumGX / f32(p.H);',
          ...overRow([`out[start + h] = invStd * (dy[start + h] * gamma[h] - meanG - ${xhat} * meanGX);`]),
        ];
  return renderKernel<LayerNormGradDims>(
    {
      name: `layernorm_grad_${spec.wrt}`,
      storage: [
        { name: 'x', access: 'read', element: 'f32' },
        { name: 'gamma', access: 'read', element: 'f32' },
        { name: 'dy', access: 'read', element: 'f32' },
        { name: 'out', access: 'read_write', element: 'f32' },
      ],
      uniforms: [
        { name: 'rows', type: 'u32' },
        { name: 'H', type: 'u32' },
      ],
      constants: [['EPS', f32(spec.eps)]],
      workgroupSize,
      body: [
        'if (index >= p.rows) { return; }',
        'let start = index * p.H;',
        'var sum = 0.0;',
        ...overRow(['sum += x[start + h];']),
        'let mean = sum / f32(p.H);',
        'var squares = 0.0;',
        ...overRow(['let d = x[start + h] - mean;', 'squares += d * d;']),
        'let invStd = inverseSqrt(squares / f32(p.H) + EPS);',
        ...write,
      ],
    },
    (dims) => dispatch1D(dims.rows, workgroupSize),
  );
}
