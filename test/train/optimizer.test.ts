// The pieces of the training loop: AdamW, the schedule, clipping, the fusion temperature and value
// regularization, and robust AdapterDrop.
import { describe, expect, it } from 'vitest';
import { ADAPTER_PRESETS, FUSION_PRESETS, resolveHeadConfig } from '../../src/config/index.ts';
import type { CheckedProgram } from '../../src/dsl/checked.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { programOf, randomWeights, tinyEncoderConfig } from '../../src/testing/model.ts';
import type { Example } from '../../src/train/data.ts';
import {
  fusionScaleInput,
  fusionTemperature,
  temperatureAsInput,
  valueRegularizationGrads,
} from '../../src/train/fusion.ts';
import { TRAIN_DEFAULTS, train } from '../../src/train/loop.ts';
import { AdamW, decays } from '../../src/train/optimizer.ts';
import { clipGradNorm, linearWarmupDecay } from '../../src/train/schedule.ts';

describe('AdamW', () => {
  it('computes torch.optim.AdamW (decoupled decay, bias correction)', () => {
    // Two steps of torch's update rule for p = 1, grads 0.5 then −0.25, lr 0.1, weight decay 0.01.
    const p = Float32Array.of(1);
    const opt = new AdamW({ learningRate: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    const params = new Map([['w', p]]);
    opt.step(params, new Map([['w', Float32Array.of(0.5)]]), 0.1);
    expect(p[0]).toBeCloseTo(0.899000002, 6);
    opt.step(params, new Map([['w', Float32Array.of(-0.25)]]), 0.1);
    expect(p[0]).toBeCloseTo(0.8714672987058463, 6);
  });

  it('exempts biases and LayerNorm weights from weight decay, not fusion value matrices', () => {
    expect(decays('heads.cls.1.bias')).toBe(false);
    expect(decays('bert.encoder.layer.0.output.adapters.a.adapter_norm_after.weight')).toBe(false);
    expect(decays('bert.encoder.layer.0.output.LayerNorm.weight')).toBe(false);
    expect(decays('bert.encoder.layer.0.output.adapter_fusion_layer.a,b.value.weight')).toBe(true);
  });
});

describe('schedule and clipping', () => {
  it('warms up linearly, then decays linearly to 0', () => {
    expect([0, 1, 2, 6, 10].map((s) => linearWarmupDecay(s, 10, 2))).toEqual([0, 0.5, 1, 0.5, 0]);
  });

  it('clips the joint gradient norm to max_grad_norm', () => {
    const grads = new Map([
      ['a', Float32Array.of(3)],
      ['b', Float32Array.of(4)],
    ]);
    expect(clipGradNorm(grads, 1)).toBe(5);
    expect(grads.get('a')![0]).toBeCloseTo(0.6, 6);
    expect(grads.get('b')![0]).toBeCloseTo(0.8, 6);
  });
});

const MODEL = tinyEncoderConfig({ hidden: 8, layers: 2, heads: 2, intermediate: 16 });

function fusionProgram(
  temperature: boolean,
  randomDrop: { from: number; to: number } | null,
): CheckedProgram {
  const head = resolveHeadConfig('classification', { num_labels: 2 });
  if (!head.ok) throw new Error('head');
  const setup = { type: 'Fuse', children: ['a', 'b'] } as const;
  const p = programOf({
    adapters: { a: ADAPTER_PRESETS.seq_bn(), b: ADAPTER_PRESETS.seq_bn() },
    fusions: [{ adapters: ['a', 'b'], config: { ...FUSION_PRESETS.dynamic, temperature } }],
    heads: { h: head.value },
    setup,
    headSetup: { kind: 'single', head: 'h' },
  });
  return { ...p, training: { target: 'fusion', setup, unfreezeAdapters: false, randomDrop } };
}

describe('AdapterFusion training', () => {
  it('lowers the temperature by 50/1000 per forward call down to 1', () => {
    expect([0, 1, 980, 2000].map(fusionTemperature)).toEqual([50, 49.95, 1, 1]);
    expect(Array.from(fusionScaleInput(500).data)).toEqual([Math.fround(1 / 25)]);
  });

  it('reads 1/T from the fusion_scale input, one per layer’s fusion scores', () => {
    const graph = temperatureAsInput(lowerProgram(fusionProgram(true, null), MODEL));
    const scale = graph.nodes.filter((n) => n.op === 'input' && n.name === 'fusion_scale');
    expect(scale).toHaveLength(1);
    expect(graph.nodes.filter((n) => n.inputs.includes(scale[0].id))).toHaveLength(MODEL.numLayers);
    const unfused = lowerProgram(fusionProgram(false, null), MODEL);
    expect(temperatureAsInput(unfused)).toBe(unfused);
  });

  it('regularizes value matrices toward the identity: gradient 0.02·(W − I)', () => {
    const key = 'bert.encoder.layer.0.output.adapter_fusion_layer.a,b.value.weight';
    const grads = valueRegularizationGrads(new Map([[key, Float32Array.of(2, 0, 1, 1)]]));
    expect(Array.from(grads.get(key)!)).toEqual([0.02, 0, 0.02, 0].map(Math.fround));
  });
});

describe('robust AdapterDrop', () => {
  it('drops layers 0..k-1 with k drawn per step from a..b', async () => {
    const program = fusionProgram(true, { from: 0, to: 2 });
    const weights = randomWeights(lowerProgram(program, MODEL), 3);
    const data: Example[] = Array.from({ length: 12 }, (_, i) => ({
      ids: [1, 2 + (i % 5), 3],
      label: i % 2,
    }));
    const dropped: number[] = [];
    const result = await train(
      { program, model: MODEL, weights },
      data,
      { ...TRAIN_DEFAULTS, epochs: 1, batchSize: 1 },
      null,
      {
        onStep: (r) => dropped.push(r.dropped),
      },
    );
    expect(new Set(dropped)).toEqual(new Set([0, 1, 2]));
    expect(result.losses.every(Number.isFinite)).toBe(true);
    const value = 'bert.encoder.layer.1.output.adapter_fusion_layer.a,b.value.weight';
    expect(result.weights.get(value)!.data).not.toEqual(weights.get(value)!.data);
  });
});
