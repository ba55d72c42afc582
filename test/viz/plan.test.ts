// The plan read off the lowered IR, and its SVG text (snapshots of the four examples).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES_DIR } from '../../src/bundled/paths.ts';
import { checkProgram, lower } from '../../src/compiler.ts';
import { ADAPTER_PRESETS } from '../../src/config/index.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { programOf, tinyEncoderConfig } from '../../src/testing/model.ts';
import { type CompositionPlan, compositionPlan, hookPoint, setupText } from '../../src/viz/plan.ts';
import { escapeXml, renderPlanSvg } from '../../src/viz/svg.ts';

const EXAMPLES = ['sst2', 'seed-fusion', 'parallel', 'adapterdrop'];

function examplePlan(name: string): CompositionPlan {
  const program = checkProgram(join(EXAMPLES_DIR, `${name}.adapt`));
  const { model, graph } = lower(program);
  return compositionPlan(program, graph, model.numLayers, `examples/${name}.adapt`, setupText(program));
}

const activeLayers = (plan: CompositionPlan, column: number) =>
  plan.cells.filter((c) => c.column === column).map((c) => c.layer);

describe('composition plan', () => {
  it('seed-fusion: three adapters and their fusion in layer 11 only, one head on all rows', () => {
    const plan = examplePlan('seed-fusion');
    expect(plan.setup).toBe('setup Stack(Fuse(multinli, qqp, qnli), head cb) drop 0..10');
    expect(plan.columns.map((c) => c.label)).toEqual([
      'multinli',
      'qqp',
      'qnli',
      'Fuse(multinli, qqp, qnli)',
    ]);
    expect(plan.dropped).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(plan.cells).toEqual([
      { layer: 11, column: 0, locations: ['output_adapter'] },
      { layer: 11, column: 1, locations: ['output_adapter'] },
      { layer: 11, column: 2, locations: ['output_adapter'] },
      { layer: 11, column: 3, locations: ['fusion'] },
    ]);
    expect(plan.replication).toBeNull();
    expect(plan.heads).toEqual([
      { name: 'cb', labels: ['entailment', 'contradiction', 'neutral'], channel: null },
    ]);
  });

  it('parallel: the batch is replicated ×2 from the first adapter, one head per channel', () => {
    const plan = examplePlan('parallel');
    expect(plan.replication).toEqual({ layer: 0, scope: 'layer0.output', channels: 2 });
    expect(activeLayers(plan, 0)).toHaveLength(12);
    expect(plan.heads.map((h) => [h.name, h.channel, h.labels.length])).toEqual([
      ['task1', 0, 3],
      ['task2', 1, 5],
    ]);
  });

  it('adapterdrop: layers 0..4 dropped, the adapter in 5..11, its head with named labels', () => {
    const plan = examplePlan('adapterdrop');
    expect(plan.dropped).toEqual([0, 1, 2, 3, 4]);
    expect(activeLayers(plan, 0)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(plan.heads[0].labels).toEqual(['negative', 'positive']);
  });

  it('names every hook point: prefix, LoRA q/v, mh_adapter and output_adapter', () => {
    const program = programOf({
      adapters: {
        p: ADAPTER_PRESETS.prefix_tuning(),
        l: ADAPTER_PRESETS.lora(),
        h: ADAPTER_PRESETS.double_seq_bn(),
      },
      setup: { type: 'Stack', children: ['p', 'l', 'h'] },
      skipLayers: [0],
    });
    const graph = lowerProgram(
      program,
      tinyEncoderConfig({ hidden: 32, layers: 3, heads: 4, intermediate: 64 }),
    );
    const plan = compositionPlan(program, graph, 3, 'memory', 'setup Stack(p, l, h) drop 0');
    expect(plan.cells.filter((c) => c.layer === 1).map((c) => c.locations)).toEqual([
      ['prefix'],
      ['LoRA q', 'LoRA v'],
      ['mh_adapter', 'output_adapter'],
    ]);
    expect(plan.cells.some((c) => c.layer === 0)).toBe(false);
    expect(hookPoint('bert.encoder.layer.2.output.dense.loras.x.lora_A')).toBe('LoRA output');
    expect(hookPoint('bert.encoder.layer.2.attention.output.adapter_fusion_layer.a,b.query.weight')).toBe(
      'fusion (mh)',
    );
  });
});

describe('plan SVG', () => {
  it.each(EXAMPLES)('%s.adapt matches its snapshot', async (name) => {
    await expect(renderPlanSvg(examplePlan(name))).toMatchFileSnapshot(`__snapshots__/${name}.svg`);
  });

  it('escapes names and draws overlays after the grid', () => {
    const plan = { ...examplePlan('sst2'), title: 'a <b> & "c"' };
    const svg = renderPlanSvg(plan, [(_, layout) => `<g id="kernels" data-top="${layout.rowTop(0)}"/>`]);
    expect(svg).toContain(escapeXml('a <b> & "c"'));
    expect(svg).not.toContain('<b>');
    expect(svg.indexOf('id="kernels"')).toBeGreaterThan(svg.lastIndexOf('head sst2'));
  });
});
