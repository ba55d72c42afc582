// Gradients against the real library: both records of ../shared/golden/cases.json `gradients`,
// computed by the reference interpreter on the training graph (forward + loss + backward).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRAD_PREFIX, gradientKeys, LOSS_OUTPUT, trainingGraph } from '../../src/autodiff/index.ts';
import { compileFile } from '../../src/compiler.ts';
import { inputsFromJson } from '../../src/runtime/io.ts';
import { interpret } from '../../src/runtime/reference/interpret.ts';

const HERE = dirname(new URL(import.meta.url).pathname);
const golden = JSON.parse(readFileSync(resolve(HERE, '../../../shared/golden/cases.json'), 'utf8'));
const TRAIN = resolve(HERE, '../golden/train');

interface GradientRecord {
  readonly labels: readonly number[];
  readonly loss: number;
  readonly grads: Readonly<Record<string, { shape: number[]; data: number[] }>>;
  readonly trainable_params_without_grad: readonly string[];
}

const CASES = [
  ["train_adapter('seq')", 'train_adapter_seq.adapt'],
  ["train_adapter_fusion(Fuse('seq', 'seq2', 'seq3'))", 'train_fusion_seq_seq2_seq3.adapt'],
] as const;

/** Largest |got − want| − rtol·|want| over the tensor (≤ atol passes). */
function excess(got: ArrayLike<number>, want: readonly number[], rtol: number): number {
  return want.reduce((worst, w, i) => Math.max(worst, Math.abs(got[i] - w) - rtol * Math.abs(w)), 0);
}

describe('gradients equal the library’s (atol 1e-4, rtol 1e-3)', () => {
  it.each(CASES)('%s', (call, file) => {
    const record: GradientRecord = golden.gradients[call];
    const compiled = compileFile(join(TRAIN, file));
    const graph = trainingGraph(compiled.graph, compiled.program);
    const inputs = inputsFromJson({
      input_ids: golden.inputs.input_ids,
      attention_mask: golden.inputs.attention_mask,
    });
    const labels = { shape: [record.labels.length], data: Int32Array.from(record.labels) };
    const out = interpret(graph, (k) => compiled.weights.get(k), { ...inputs, labels });
    expect(Math.abs(out.get(LOSS_OUTPUT)!.data[0] - record.loss)).toBeLessThanOrEqual(1e-4);
    expect([...gradientKeys(graph)].sort()).toEqual(Object.keys(record.grads).sort());
    for (const [key, want] of Object.entries(record.grads)) {
      const got = out.get(`${GRAD_PREFIX}${key}`)!;
      expect(got.shape, key).toEqual(want.shape);
      expect(excess(got.data, want.data, 1e-3), key).toBeLessThanOrEqual(1e-4);
    }
  });
});
