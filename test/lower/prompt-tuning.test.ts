// Prompt tuning: L prompt vectors before the tokens (or after the first), always attended, kept by AdapterDrop.
import { describe, expect, it } from 'vitest';
import { ADAPTER_PRESETS } from '../../src/config/index.ts';
import type { AdapterConfig } from '../../src/config/types.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { interpret } from '../../src/runtime/reference/interpret.ts';
import { programOf, randomInputs, randomWeights, tinyEncoderConfig } from '../../src/testing/model.ts';

const model = tinyEncoderConfig({ hidden: 8, layers: 2, heads: 2, intermediate: 16 });

function run(combine: 'prefix' | 'prefix_after_bos', skipLayers: number[] = []) {
  const prompt = { ...ADAPTER_PRESETS.prompt_tuning(), prompt_length: 3, combine } as AdapterConfig;
  const program = programOf({
    adapters: { p: prompt },
    setup: { type: 'Stack', children: ['p'] },
    skipLayers,
  });
  const graph = lowerProgram(program, model);
  const weights = randomWeights(graph, 2);
  const inputs = randomInputs(2, 4, model.vocabSize, 2);
  return { graph, out: interpret(graph, (k) => weights.get(k), inputs).get('last_hidden_state')! };
}

describe('prompt tuning', () => {
  it('prepends the prompt, or puts it after the first token, growing the sequence by its length', () => {
    expect(run('prefix').out.shape).toEqual([2, 7, 8]);
    expect(run('prefix_after_bos').out.shape).toEqual([2, 7, 8]);
  });

  it('is not removed by AdapterDrop', () => {
    const { graph, out } = run('prefix', [0, 1]);
    expect(out.shape).toEqual([2, 7, 8]);
    expect(
      graph.nodes.some((n) => n.op === 'param' && n.key.endsWith('prompt_tunings.p.prompt_embedding.weight')),
    ).toBe(true);
  });
});
