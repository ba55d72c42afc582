// Training-mode dropout: where it goes, what the masks hold, that backward reuses the forward's mask
// (finite differences at a fixed seed), and that each step draws new masks.
import { describe, expect, it } from 'vitest';
import {
  appendBackward,
  appendLoss,
  GRAD_PREFIX,
  gradientKeys,
  LOSS_OUTPUT,
} from '../../src/autodiff/index.ts';
import { ADAPTER_PRESETS, resolveHeadConfig } from '../../src/config/index.ts';
import type { HeadConfig } from '../../src/config/types.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { type Inputs, interpret } from '../../src/runtime/reference/interpret.ts';
import { programOf, randomInputs, randomWeights, tinyEncoderConfig } from '../../src/testing/model.ts';
import { BERT_DROPOUT, dropoutRatesOf, dropoutSeedInput, withDropout } from '../../src/train/dropout.ts';

/** The dropout masks of a graph. */
const dropoutMasks = (g: Graph): number[] => g.nodes.filter((n) => n.op === 'dropout_mask').map((n) => n.id);

const MODEL = tinyEncoderConfig({ hidden: 8, layers: 2, heads: 2, intermediate: 16 });

function classification(): HeadConfig {
  const head = resolveHeadConfig('classification', { num_labels: 2 });
  if (!head.ok) throw new Error('head');
  return head.value;
}

const program = programOf({
  adapters: { a: ADAPTER_PRESETS.seq_bn() },
  heads: { h: classification() },
  setup: 'a',
  headSetup: { kind: 'single', head: 'h' },
});
const forward = lowerProgram(program, MODEL);
const weights = randomWeights(forward, 2);
const inputs: Inputs = {
  ...randomInputs(3, 5, MODEL.vocabSize, 2),
  labels: { shape: [3], data: Int32Array.of(0, 1, 1) },
};

describe('training-mode dropout', () => {
  const dropped = withDropout(forward, BERT_DROPOUT, () => null);

  it('reads the rates from config.json, BertConfig defaults otherwise', () => {
    expect(dropoutRatesOf({})).toEqual(BERT_DROPOUT);
    expect(
      dropoutRatesOf({ hidden_dropout_prob: 0.2, attention_probs_dropout_prob: 0, classifier_dropout: 0.3 }),
    ).toEqual({
      hidden: 0.2,
      attention: 0,
      classifier: 0.3,
    });
  });

  it('drops after the embeddings, the attention and FFN outputs, the attention probabilities and before each head layer', () => {
    const scopes = dropoutMasks(dropped).map((id) => dropped.nodes[id].scope);
    expect(scopes).toEqual([
      'embeddings',
      ...[0, 1].flatMap((l) => [`layer${l}.attention`, `layer${l}.attention`, `layer${l}.ffn`]),
      'heads',
      'heads',
    ]);
  });

  it('keeps each value with probability 1 − p, scaled by 1/(1 − p)', () => {
    const g = { nodes: [...dropped.nodes], outputs: [{ name: 'mask', node: dropoutMasks(dropped)[0] }] };
    const mask = interpret(g, (k) => weights.get(k), { ...inputs, dropout_seed: dropoutSeedInput(9) }).get(
      'mask',
    )!.data;
    const kept = Array.from(mask).filter((x) => x !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.9)]));
    expect(kept.length / mask.length).toBeGreaterThan(0.8);
    expect(kept.length / mask.length).toBeLessThan(0.98);
  });

  it('differentiates through the step’s masks, and draws new ones each step', () => {
    const lossGraph = appendLoss(dropped, () => classification());
    const graph = appendBackward(lossGraph, {
      loss: LOSS_OUTPUT,
      trainable: (p) => p.origin.kind !== 'base',
    });
    const seeded = { ...inputs, dropout_seed: dropoutSeedInput(5) };
    const out = interpret(graph, (k) => weights.get(k), seeded);
    for (const key of gradientKeys(graph).filter((k) => k.endsWith('bias'))) {
      const w = weights.get(key)!;
      const at = (sign: number) => {
        const data = Float32Array.from(w.data);
        data[0] += sign * 1e-3;
        const shifted = new Map(weights).set(key, { shape: w.shape, data });
        return interpret(lossGraph, (k) => shifted.get(k), seeded).get(LOSS_OUTPUT)!.data[0];
      };
      expect(out.get(`${GRAD_PREFIX}${key}`)!.data[0], key).toBeCloseTo((at(1) - at(-1)) / 2e-3, 3);
    }
    const lossAt = (seed: number) =>
      interpret(lossGraph, (k) => weights.get(k), { ...inputs, dropout_seed: dropoutSeedInput(seed) }).get(
        LOSS_OUTPUT,
      )!.data[0];
    expect(lossAt(5)).toBe(out.get(LOSS_OUTPUT)!.data[0]);
    expect(lossAt(6)).not.toBe(lossAt(5));
  });
});
