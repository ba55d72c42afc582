import { describe, expect, it } from 'vitest';
import { type Activation, activationFunctions, applyActivation } from '../../src/codegen-wgsl/activation.ts';
import { dispatch1D } from '../../src/codegen-wgsl/kernel.ts';
import { loop, renderKernel } from '../../src/codegen-wgsl/render.ts';
import { runKernel, useGpu } from './gpu.ts';
import { activate, erf } from './reference.ts';

const gpu = useGpu();

/** Applies one activation (or erf itself) elementwise, four values per invocation. */
function elementwise(name: string, functions: readonly string[], expression: string) {
  return renderKernel<{ count: number }>(
    {
      name,
      storage: [
        { name: 'input', access: 'read', element: 'vec4f' },
        { name: 'output', access: 'read_write', element: 'vec4f' },
      ],
      uniforms: [{ name: 'count', type: 'u32' }],
      functions,
      workgroupSize: 64,
      body: ['if (index >= p.count) { return; }', `output[index] = ${expression};`],
    },
    (dims) => dispatch1D(dims.count, 64),
  );
}

async function evaluate(name: string, functions: readonly string[], expression: string, xs: Float32Array) {
  const kernel = elementwise(name, functions, expression);
  const { output } = await runKernel(
    gpu(),
    kernel,
    { count: xs.length / 4 },
    { input: xs },
    { output: xs.length },
  );
  return output;
}

function grid(from: number, to: number, count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));
}

function maxError(xs: Float32Array, got: Float32Array, want: (x: number) => number): number {
  let worst = 0;
  xs.forEach((x, i) => {
    const error = Math.abs(got[i] - want(x));
    if (!(error <= worst)) worst = error;
  });
  return worst;
}

describe('activations', () => {
  it('erf: max abs error < 1e-6 on [-6, 6] against a double-precision reference', async () => {
    const xs = grid(-6, 6, 24000);
    const got = await evaluate('erf_probe', activationFunctions('gelu'), 'erf4(input[index])', xs);
    const error = maxError(xs, got, erf);
    expect(error).toBeLessThan(1e-6);
  });

  it('the double-precision erf reference matches known values', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(-2.5)).toBeCloseTo(-0.999593047982555, 14);
    expect(1 - erf(4)).toBeCloseTo(1.541725790028002e-8, 16);
  });

  for (const activation of [
    'gelu',
    'gelu_new',
    'relu',
    'leakyrelu',
    'silu',
    'tanh',
    'sigmoid',
  ] as Activation[]) {
    it(`${activation}: abs error < 1e-6 · max(1, |y|) on [-12, 12], finite at ±1e4`, async () => {
      const xs = Float32Array.from([...grid(-12, 12, 4000), -1e4, 1e4, -100, 100]);
      const got = await evaluate(
        `${activation}_probe`,
        activationFunctions(activation),
        applyActivation(activation, 'input[index]'),
        xs,
      );
      xs.forEach((x, i) => {
        const want = activate(activation, x);
        expect(Math.abs(got[i] - want), `${activation}(${x}) = ${got[i]}, want ${want}`).toBeLessThanOrEqual(
          1e-6 * Math.max(1, Math.abs(want)),
        );
      });
    });
  }

  it('renders nothing for identity', () => {
    expect(activationFunctions('identity')).toEqual([]);
    expect(applyActivation('identity', 'v')).toBe('v');
    expect(loop('i', 'n', ['x();'])).toEqual(['for (var i = 0u; i < n; i++) {', ['x();'], '}']);
  });
});
