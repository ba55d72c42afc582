// Gradients against the real library: both records of ../shared/golden/cases.json `gradients`,
// computed by the reference interpreter on the training graph (forward + loss + backward).
import { describe, expect, it } from 'vitest';
import { GRAD_PREFIX, gradientKeys, LOSS_OUTPUT, trainingGraph } from '../../src/autodiff/index.ts';
import { compileFile } from '../../src/compiler.ts';
import { inputsFromJson } from '../../src/runtime/io.ts';
import { interpret } from '../../src/runtime/reference/interpret.ts';
import { excess, goldenInputJson, gradientCases } from '../golden/cases.ts';

describe('gradients equal the library’s (atol 1e-4, rtol 1e-3)', () => {
  it.each(gradientCases)('%s', (_call, file, record) => {
    const compiled = compileFile(file);
    const graph = trainingGraph(compiled.graph, compiled.program);
    const labels = { shape: [record.labels.length], data: Int32Array.from(record.labels) };
    const out = interpret(graph, (k) => compiled.weights.get(k), {
      ...inputsFromJson(goldenInputJson),
      labels,
    });
    expect(Math.abs(out.get(LOSS_OUTPUT)!.data[0] - record.loss)).toBeLessThanOrEqual(1e-4);
    expect([...gradientKeys(graph)].sort()).toEqual(Object.keys(record.grads).sort());
    for (const [key, want] of Object.entries(record.grads)) {
      const got = out.get(`${GRAD_PREFIX}${key}`)!;
      expect(got.shape, key).toEqual(want.shape);
      expect(excess(got.data, want.data, 1e-3), key).toBeLessThanOrEqual(1e-4);
    }
  });
});
