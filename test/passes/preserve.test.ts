import fc from 'fast-check';
import { describe, it } from 'vitest';
import { lowerProgram } from '../../src/lower/bert.ts';
import { runPasses } from '../../src/passes/pass.ts';
import { INFERENCE_PASSES } from '../../src/passes/pipeline.ts';
import { interpret, type Tensor } from '../../src/runtime/reference/interpret.ts';
import { scenarioArb } from '../../src/testing/arbitraries.ts';
import { randomInputs, randomWeights } from '../../src/testing/model.ts';

function maxRelativeError(a: ReadonlyMap<string, Tensor>, b: ReadonlyMap<string, Tensor>): number {
  let worst = 0;
  for (const [name, t] of a) {
    const u = b.get(name);
    if (!u || u.shape.join() !== t.shape.join()) return Number.POSITIVE_INFINITY;
    t.data.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - u.data[i]) / (1 + Math.abs(v)));
    });
  }
  return worst;
}

describe('every pass preserves what the reference interpreter computes', () => {
  it('on generated compositions over generated tiny models', () => {
    fc.assert(
      fc.property(scenarioArb, ({ model, program, batch, seq, seed }) => {
        const graph = lowerProgram(program, model);
        const weights = randomWeights(graph, seed);
        const inputs = randomInputs(batch, seq, model.vocabSize, seed);
        const expected = interpret(graph, (k) => weights.get(k), inputs);
        const sizes = { B: batch, T: seq };
        const check = (what: string, out: { graph: typeof graph; weights: typeof weights }) => {
          const error = maxRelativeError(
            expected,
            interpret(out.graph, (k) => out.weights.get(k), inputs),
          );
          if (error > 1e-5) throw new Error(`${what} changed the outputs by ${error}`);
        };
        // Each pass alone on the lowered graph, then the pipeline step by step (its end is the whole pipeline).
        for (const pass of INFERENCE_PASSES)
          check(`pass ${pass.name} alone`, runPasses({ graph, weights }, [pass], sizes));
        let current = { graph, weights };
        for (const [i, pass] of INFERENCE_PASSES.entries()) {
          current = runPasses(current, [pass], sizes);
          check(`the pipeline up to pass ${i + 1} (${pass.name})`, current);
        }
      }),
      {
        numRuns: Number(process.env.ADAPTC_PROPERTY_RUNS ?? 150),
        seed: Number(process.env.ADAPTC_PROPERTY_SEED ?? 20261128),
      },
    );
  });
});
