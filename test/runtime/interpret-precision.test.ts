// The reference interpreter's storage precision: f32 by default (every op rounds its result to f32),
// f64 on request (no rounding between ops, weights widened). The two differ only by that rounding.
import { describe, expect, it } from 'vitest';
import { appendBackward, appendLoss, LOSS_OUTPUT } from '../../src/autodiff/index.ts';
import { ADAPTER_PRESETS, resolveHeadConfig } from '../../src/config/index.ts';
import type { HeadConfig } from '../../src/config/types.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { shapeOf } from '../../src/ir/shape.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { type Inputs, interpret, type WeightTensor } from '../../src/runtime/reference/interpret.ts';
import { programOf, randomInputs, randomWeights, tinyEncoderConfig } from '../../src/testing/model.ts';

/** The small graph reads no inputs, so B and T are given. */
const ENV = { B: 1, T: 1 };

/** y = exp(w · 0.1) + w for a parameter w of shape [n]. */
function smallGraph(n: number) {
  const b = new GraphBuilder();
  const w = b.param('w', { kind: 'base' }, shapeOf(n));
  const scaled = b.add({ op: 'binary', fn: 'mul' }, [w, b.add({ op: 'const', value: 0.1 }, [])]);
  const y = b.add({ op: 'binary', fn: 'add' }, [b.add({ op: 'unary', fn: 'exp' }, [scaled]), w]);
  b.output('y', y);
  return b.build();
}

const run = (w: WeightTensor, precision?: 'f32' | 'f64') =>
  interpret(smallGraph(w.data.length), () => w, {}, ENV, { precision }).get('y')!.data;

describe('interpreter precision', () => {
  const values = [0.1, -2.7, 3.3];
  const f = Math.fround;

  it('rounds to f32 after every op by default, as before', () => {
    const w = { shape: [3], data: Float32Array.from(values) };
    const expected = Float32Array.from(w.data, (x) => f(f(Math.exp(f(x * f(0.1)))) + x));
    const byDefault = interpret(smallGraph(3), () => w, {}, ENV).get('y')!.data;
    expect(byDefault).toBeInstanceOf(Float32Array);
    expect(byDefault).toEqual(expected);
    expect(run(w, 'f32')).toEqual(expected);
  });

  it('computes in f64 without rounding in between, widening f32 weights', () => {
    const w32 = { shape: [3], data: Float32Array.from(values) };
    const out = run(w32, 'f64');
    expect(out).toBeInstanceOf(Float64Array);
    expect(out).toEqual(Float64Array.from(w32.data, (x) => Math.exp(x * 0.1) + x));
    // The f64 results are not f32 values: nothing rounded them.
    expect([...out].some((x) => f(x) !== x)).toBe(true);
  });

  it('takes f64 weights exactly in f64 and rounds them to f32 in f32', () => {
    const w64 = { shape: [3], data: Float64Array.from(values) };
    expect(run(w64, 'f64')).toEqual(Float64Array.from(values, (x) => Math.exp(x * 0.1) + x));
    expect(run(w64, 'f32')).toEqual(run({ shape: [3], data: Float32Array.from(values) }, 'f32'));
  });

  it('differs from f32 only by rounding on a training graph (loss and every gradient)', () => {
    const head = resolveHeadConfig('classification', { num_labels: 2 });
    if (!head.ok) throw new Error('head');
    const classification: HeadConfig = head.value;
    const program = programOf({
      adapters: { a: ADAPTER_PRESETS.seq_bn() },
      heads: { h: classification },
      setup: 'a',
      headSetup: { kind: 'single', head: 'h' },
    });
    const model = tinyEncoderConfig({ hidden: 8, layers: 2, heads: 2, intermediate: 16 });
    const forward = lowerProgram(program, model);
    const weights = randomWeights(forward, 3);
    const inputs: Inputs = {
      ...randomInputs(2, 4, model.vocabSize, 3),
      labels: { shape: [2], data: Int32Array.of(1, 0) },
    };
    const graph = appendBackward(
      appendLoss(forward, () => classification),
      { loss: LOSS_OUTPUT, trainable: () => true },
    );
    const lookup = (k: string) => weights.get(k);
    const byDefault = interpret(graph, lookup, inputs);
    const f32 = interpret(graph, lookup, inputs, undefined, { precision: 'f32' });
    const f64 = interpret(graph, lookup, inputs, undefined, { precision: 'f64' });
    expect(graph.outputs.length).toBeGreaterThan(10);
    for (const { name } of graph.outputs) {
      const [d, a, b] = [byDefault.get(name)!.data, f32.get(name)!.data, f64.get(name)!.data];
      expect(d, name).toEqual(a);
      expect(a, name).toBeInstanceOf(Float32Array);
      expect(b, name).toBeInstanceOf(Float64Array);
      // f32 rounding accumulated over the ops: measured ≤ 3.0e-7 of the output's largest magnitude
      // (≈ 2.5 f32 ulps), and 1.5e-10 on the key bias's gradient, which is zero up to cancellation.
      const scale = Math.max(...Array.from(b, Math.abs));
      const worst = Math.max(...Array.from(b, (x, i) => Math.abs(x - a[i])));
      expect(worst, name).toBeLessThanOrEqual(1e-9 + 2e-6 * scale);
    }
    expect(f64.get(LOSS_OUTPUT)!.data[0]).not.toBe(f32.get(LOSS_OUTPUT)!.data[0]);
  });
});
