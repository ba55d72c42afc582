// Counted effects of the optimizer on a 12-layer model: what Parallel merging and AdapterDrop save.
import { describe, expect, it } from 'vitest';
import { ADAPTER_PRESETS, resolveHeadConfig } from '../../src/config/index.ts';
import type { Composition } from '../../src/dsl/checked.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { graphStats, scopeFlops } from '../../src/ir/stats.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { runPasses } from '../../src/passes/pass.ts';
import { INFERENCE_PASSES } from '../../src/passes/pipeline.ts';
import { programOf, randomWeights, tinyEncoderConfig } from '../../src/testing/model.ts';

const model = tinyEncoderConfig({ hidden: 32, layers: 12, heads: 4, intermediate: 64 });
const head = resolveHeadConfig('classification', { num_labels: 2 });
const sizes = { B: 8, T: 128 };

function optimized(channels: number, drop: readonly number[]): Graph {
  const names = Array.from({ length: channels }, (_, i) => `task${i}`);
  const setup: Composition | null = channels === 0 ? null : { type: 'Parallel', children: names };
  const program = programOf({
    adapters: Object.fromEntries(names.map((n) => [n, ADAPTER_PRESETS.seq_bn()])),
    heads: head.ok ? Object.fromEntries(names.map((n) => [n, head.value])) : {},
    setup,
    headSetup: channels === 0 ? null : { kind: 'parallel', heads: names },
    skipLayers: drop,
  });
  const graph = lowerProgram(program, model);
  return runPasses({ graph, weights: randomWeights(graph, 1) }, INFERENCE_PASSES, sizes).graph;
}

const DROP_0_4 = [0, 1, 2, 3, 4];

describe('Parallel merging and AdapterDrop on a 12-layer model', () => {
  it('computes the dropped layers 0..4 (and layer 5 up to its adapter) once for a Parallel of 8, on the original batch', () => {
    const parallel = optimized(8, DROP_0_4);
    const bare = lowerProgram(programOf({ adapters: {}, setup: null }), model);
    for (let layer = 0; layer < 5; layer++) {
      expect(scopeFlops(parallel, sizes, `layer${layer}.`)).toBe(scopeFlops(bare, sizes, `layer${layer}.`));
    }
    // Layer 5's attention and feed-forward still run once; its output adapters are the first to differ.
    for (const part of ['layer5.attention', 'layer5.ffn']) {
      expect(scopeFlops(parallel, sizes, part)).toBe(scopeFlops(bare, sizes, part));
    }
    // Layer 5's output adapter is the first that differs; from layer 6 on each channel has its own rows.
    expect(scopeFlops(parallel, sizes, 'layer6.')).toBeGreaterThan(7.9 * scopeFlops(bare, sizes, 'layer6.'));
  });

  it('keeps the op count of a Parallel of 8 within 10% of a Parallel of 2', () => {
    const eight = graphStats(optimized(8, DROP_0_4), sizes).ops;
    const two = graphStats(optimized(2, DROP_0_4), sizes).ops;
    expect(eight).toBeLessThanOrEqual(two * 1.1);
  });

  it('reads no weights of a dropped adapter', () => {
    const program = programOf({
      adapters: {
        kept: ADAPTER_PRESETS.seq_bn(),
        dropped: { ...ADAPTER_PRESETS.seq_bn(), leave_out: [5, 6, 7, 8, 9, 10, 11] } as never,
      },
      setup: { type: 'Stack', children: ['dropped', 'kept'] },
      skipLayers: DROP_0_4,
    });
    const graph = lowerProgram(program, model);
    const owners = graph.nodes.flatMap((n) =>
      n.op === 'param' && n.origin.kind === 'adapter' ? [n.origin.name] : [],
    );
    expect(new Set(owners)).toEqual(new Set(['kept']));
  });
});
