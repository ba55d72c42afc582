// Head losses (semantics §5): tagging counts only attention_mask = 1 positions and labels ≠ -100,
// multiple choice is cross-entropy over the choices of each group, Parallel sums its heads' losses;
// each checked against cross-entropy computed here from the head logits, and its gradient against
// central differences.
import { describe, expect, it } from 'vitest';
import { appendLoss, GRAD_PREFIX, LOSS_OUTPUT, trainingGraph } from '../../src/autodiff/index.ts';
import { ADAPTER_PRESETS, resolveHeadConfig } from '../../src/config/index.ts';
import type { HeadConfig } from '../../src/config/types.ts';
import type { CheckedProgram, Composition, HeadSetup } from '../../src/dsl/checked.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { type Inputs, interpret, type Tensor } from '../../src/runtime/reference/interpret.ts';
import { programOf, randomInputs, randomWeights, tinyEncoderConfig } from '../../src/testing/model.ts';

const MODEL = tinyEncoderConfig({ hidden: 8, layers: 1, heads: 2, intermediate: 16 });

function head(kind: string, args: Record<string, unknown>): HeadConfig {
  const h = resolveHeadConfig(kind, args);
  if (!h.ok) throw new Error(kind);
  return h.value;
}

function program(
  heads: Record<string, HeadConfig>,
  setup: Composition,
  headSetup: HeadSetup,
): CheckedProgram {
  const seq = ADAPTER_PRESETS.seq_bn();
  const p = programOf({ adapters: { a: seq, b: seq }, heads, setup, headSetup });
  return { ...p, training: { target: 'adapter', setup, unfreezeAdapters: false, randomDrop: null } };
}

/** Mean cross-entropy over rows of `logits` whose label counts. */
function crossEntropy(logits: Tensor, labels: readonly number[], counts: (row: number) => boolean): number {
  const c = logits.shape.at(-1)!;
  let sum = 0;
  let n = 0;
  labels.forEach((label, r) => {
    if (!counts(r)) return;
    const row = Array.from(logits.data.slice(r * c, (r + 1) * c));
    const max = Math.max(...row);
    sum += Math.log(row.reduce((acc, x) => acc + Math.exp(x - max), 0)) + max - row[label];
    n++;
  });
  return sum / n;
}

function run(p: CheckedProgram, inputs: Inputs, labels: Tensor) {
  const forward = lowerProgram(p, MODEL);
  const weights = randomWeights(forward, 11);
  const withLabels = { ...inputs, labels };
  const lossGraph = appendLoss(forward, (name) => p.heads.get(name)!.config);
  const out = interpret(trainingGraph(forward, p), (k) => weights.get(k), withLabels);
  /** (L(w + h·e₀) − L(w − h·e₀)) / 2h for the first element of `key`. */
  const finiteDifference = (key: string) => {
    const h = 1e-3;
    const at = (sign: number) => {
      const w = weights.get(key)!;
      const data = Float32Array.from(w.data);
      data[0] += sign * h;
      const shifted = new Map(weights).set(key, { shape: w.shape, data });
      return interpret(lossGraph, (k) => shifted.get(k), withLabels).get(LOSS_OUTPUT)!.data[0];
    };
    return (at(1) - at(-1)) / (2 * h);
  };
  return { out, loss: out.get(LOSS_OUTPUT)!.data[0], finiteDifference };
}

describe('head losses', () => {
  it('tagging: cross-entropy over attention_mask = 1 positions whose label is not -100', () => {
    const inputs = randomInputs(3, 4, MODEL.vocabSize, 5);
    const labels = [0, 2, -100, 1, 1, 0, 2, 2, 2, 1, 0, 1];
    const p = program({ t: head('tagging', { num_labels: 3 }) }, 'a', { kind: 'single', head: 't' });
    const { out, loss, finiteDifference } = run(p, inputs, { shape: [3, 4], data: Int32Array.from(labels) });
    const mask = inputs.attention_mask!.data;
    const want = crossEntropy(out.get('heads.t')!, labels, (r) => mask[r] === 1 && labels[r] !== -100);
    expect(loss).toBeCloseTo(want, 5);
    const key = 'heads.t.1.weight';
    expect(out.get(`${GRAD_PREFIX}${key}`)!.data[0]).toBeCloseTo(finiteDifference(key), 3);
  });

  it('multiple choice: cross-entropy over each group of choices', () => {
    const inputs = randomInputs(4, 3, MODEL.vocabSize, 6);
    const p = program({ mc: head('multiple_choice', { num_choices: 2 }) }, 'a', {
      kind: 'single',
      head: 'mc',
    });
    const { out, loss, finiteDifference } = run(p, inputs, { shape: [2], data: Int32Array.of(1, 0) });
    expect(out.get('heads.mc')!.shape).toEqual([2, 2]);
    expect(loss).toBeCloseTo(
      crossEntropy(out.get('heads.mc')!, [1, 0], () => true),
      5,
    );
    const key = 'heads.mc.4.weight';
    expect(out.get(`${GRAD_PREFIX}${key}`)!.data[0]).toBeCloseTo(finiteDifference(key), 3);
  });

  it('Parallel: the plain sum of the heads’ losses, every head on the unsliced labels', () => {
    const inputs = randomInputs(2, 3, MODEL.vocabSize, 7);
    const cls = head('classification', { num_labels: 2 });
    const p = program(
      { h0: cls, h1: cls },
      { type: 'Parallel', children: ['a', 'b'] },
      { kind: 'parallel', heads: ['h0', 'h1'] },
    );
    const labels = [1, 0];
    const { out, loss, finiteDifference } = run(p, inputs, { shape: [2], data: Int32Array.from(labels) });
    const each = ['heads.h0', 'heads.h1'].map((h) => crossEntropy(out.get(h)!, labels, () => true));
    expect(loss).toBeCloseTo(each[0] + each[1], 5);
    const key = 'bert.encoder.layer.0.output.adapters.b.adapter_up.bias';
    expect(out.get(`${GRAD_PREFIX}${key}`)!.data[0]).toBeCloseTo(finiteDifference(key), 3);
  });
});
