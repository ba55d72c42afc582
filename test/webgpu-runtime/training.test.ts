// Training on WebGPU (llvmpipe here): the golden gradients, training graphs on generated compositions against
// the reference interpreter (dropout on, so masks must agree bit for bit), and a seeded training run that
// learns a generated task and saves modules which reload to bit-identical outputs.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAD_PREFIX, gradientKeys, LOSS_OUTPUT, trainingGraph } from '../../src/autodiff/index.ts';
import type { HostTensor } from '../../src/checkpoint/tensor.ts';
import { main } from '../../src/cli/main.ts';
import { type Compiled, compileFile } from '../../src/compiler.ts';
import { ADAPTER_PRESETS, resolveHeadConfig } from '../../src/config/index.ts';
import type { HeadConfig } from '../../src/config/types.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { inputsFromJson } from '../../src/runtime/io.ts';
import { type Inputs, interpret } from '../../src/runtime/reference/interpret.ts';
import { GpuGraphRunner } from '../../src/runtime/webgpu/graph-runner.ts';
import { scenarioArb } from '../../src/testing/arbitraries.ts';
import {
  programOf,
  randomInputs,
  randomLabels,
  randomWeights,
  tinyEncoderConfig,
  trainingTargets,
} from '../../src/testing/model.ts';
import { webgpuBackend } from '../../src/train/backend.ts';
import { collate } from '../../src/train/data.ts';
import { BERT_DROPOUT, dropoutSeedInput, withDropout } from '../../src/train/dropout.ts';
import { fusionScaleInput, temperatureAsInput } from '../../src/train/fusion.ts';
import { evaluate, evaluationGraph } from '../../src/train/loop.ts';
import { excess, goldenInputJson, gradientCases } from '../golden/cases.ts';
import { type SyntheticRun, trainSyntheticTask, writeSyntheticTask } from '../train/synthetic.ts';
import { useGpu } from '../webgpu/gpu.ts';

const gpu = useGpu();
const FC_SEED = Number(process.env.FC_SEED ?? 20261128);

describe('gradients on WebGPU equal the library’s (atol 1e-4, rtol 1e-3)', () => {
  it.each(gradientCases)('%s', async (_call, file, record) => {
    const compiled = compileFile(file);
    const graph = temperatureAsInput(trainingGraph(compiled.graph, compiled.program));
    const runner = new GpuGraphRunner(gpu().acquired, compiled.weights, new Map());
    try {
      const { outputs } = await runner.run(graph, {
        ...inputsFromJson(goldenInputJson),
        labels: { shape: [record.labels.length], data: Int32Array.from(record.labels) },
        fusion_scale: fusionScaleInput(0),
      });
      expect(Math.abs(outputs.get(LOSS_OUTPUT)!.data[0] - record.loss)).toBeLessThanOrEqual(1e-4);
      expect([...gradientKeys(graph)].sort()).toEqual(Object.keys(record.grads).sort());
      for (const [key, want] of Object.entries(record.grads)) {
        const got = outputs.get(`${GRAD_PREFIX}${key}`)!;
        expect(got.shape, key).toEqual(want.shape);
        expect(excess(got.data, want.data, 1e-3), key).toBeLessThanOrEqual(1e-4);
      }
    } finally {
      await runner.release();
    }
  });
});

/** Every output of `graph` (loss, gradients, heads) on WebGPU within 1e-3 of the reference, relative to its largest value. */
async function expectGpuMatchesReference(
  graph: Graph,
  weights: ReadonlyMap<string, HostTensor>,
  inputs: Inputs,
  what: string,
): Promise<void> {
  const expected = interpret(graph, (k) => weights.get(k), inputs);
  const runner = new GpuGraphRunner(gpu().acquired, weights, new Map());
  try {
    const { outputs } = await runner.run(graph, inputs);
    for (const [name, want] of expected) {
      const got = outputs.get(name)!;
      expect(got.shape, name).toEqual(want.shape);
      const scale = Math.max(1e-3, ...Array.from(want.data, Math.abs));
      const worst = Math.max(0, ...Array.from(want.data, (w, i) => Math.abs(got.data[i] - w)));
      expect(worst / scale, `${name} (${what})`).toBeLessThanOrEqual(1e-3);
    }
  } finally {
    await runner.release();
  }
}

describe('WebGPU training graphs compute what the reference interpreter computes', () => {
  const model = tinyEncoderConfig({ hidden: 8, layers: 1, heads: 2, intermediate: 16 });
  const head = (kind: string, args: Record<string, unknown>): HeadConfig => {
    const h = resolveHeadConfig(kind, args);
    if (!h.ok) throw new Error(kind);
    return h.value;
  };
  type LossCase = readonly [string, Omit<Parameters<typeof programOf>[0], 'adapters'>, Inputs];
  const lossCases: readonly LossCase[] = [
    [
      'tagging (ignore index, attention mask)',
      {
        heads: { t: head('tagging', { num_labels: 3 }) },
        setup: 'a',
        headSetup: { kind: 'single', head: 't' },
      },
      {
        ...randomInputs(3, 4, model.vocabSize, 5),
        labels: { shape: [3, 4], data: Int32Array.of(0, 2, -100, 1, 1, 0, 2, 2, 2, 1, 0, 1) },
      },
    ],
    [
      'multiple choice',
      {
        heads: { mc: head('multiple_choice', { num_choices: 2 }) },
        setup: 'a',
        headSetup: { kind: 'single', head: 'mc' },
      },
      { ...randomInputs(4, 3, model.vocabSize, 6), labels: { shape: [2], data: Int32Array.of(1, 0) } },
    ],
    [
      'Parallel (the sum of the heads’ losses)',
      {
        heads: {
          h0: head('classification', { num_labels: 2 }),
          h1: head('classification', { num_labels: 2 }),
        },
        setup: { type: 'Parallel', children: ['a', 'b'] },
        headSetup: { kind: 'parallel', heads: ['h0', 'h1'] },
      },
      { ...randomInputs(2, 3, model.vocabSize, 7), labels: { shape: [2], data: Int32Array.of(1, 0) } },
    ],
  ];

  it.each(lossCases)('%s', async (what, spec, inputs) => {
    const seq = ADAPTER_PRESETS.seq_bn();
    const program = programOf({ ...spec, adapters: { a: seq, b: seq } });
    const setup = program.setup!;
    const training = { target: 'adapter', setup, unfreezeAdapters: false, randomDrop: null } as const;
    const forward = lowerProgram(program, model);
    await expectGpuMatchesReference(
      trainingGraph(forward, { ...program, training }),
      randomWeights(forward, 3),
      inputs,
      what,
    );
  });

  it('on generated compositions with dropout, adapter and fusion targets', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ model, program, batch, seq, seed }) => {
        const forward = withDropout(lowerProgram(program, model), BERT_DROPOUT, () => null);
        const weights = randomWeights(forward, seed);
        const inputs: Inputs = {
          ...randomInputs(batch, seq, model.vocabSize, seed),
          labels: randomLabels(batch, 2, seed),
          dropout_seed: dropoutSeedInput(seed),
          fusion_scale: fusionScaleInput(seed % 1000),
        };
        for (const training of trainingTargets(program)) {
          const graph = temperatureAsInput(trainingGraph(forward, { ...program, training }));
          await expectGpuMatchesReference(graph, weights, inputs, training.target);
        }
      }),
      { numRuns: 25, seed: FC_SEED },
    );
  }, 300_000);
});

describe('a seeded training run on WebGPU', () => {
  const work = mkdtempSync(join(tmpdir(), 'adaptc-webgpu-train-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let run: SyntheticRun;
  beforeAll(async () => {
    run = await trainSyntheticTask(work, webgpuBackend(gpu().acquired));
  }, 300_000);

  it('reaches at least 95% held-out accuracy', async () => {
    const { reloaded, evalData, result, seconds } = run;
    const { accuracy } = await evaluate(reloaded, evalData, 16, webgpuBackend(gpu().acquired));
    console.log(
      `WebGPU: held-out accuracy ${accuracy.toFixed(4)} after ${result.losses.length} steps in ${seconds.toFixed(1)} s`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]);
  });

  it('saves modules that reload to bit-identical outputs on WebGPU', async () => {
    const { compiled, reloaded, evalData, result } = run;
    const { inputs } = collate(evalData.slice(0, 16), compiled.model.padTokenId);
    const graph = evaluationGraph(compiled.program, compiled.model);
    const runOn = async (weights: Compiled['weights']) => {
      const runner = new GpuGraphRunner(gpu().acquired, weights, new Map());
      try {
        return (
          await runner.run(graph, {
            ...inputs,
            labels: collate(evalData.slice(0, 16), 0).labels,
            fusion_scale: fusionScaleInput(0),
          })
        ).outputs;
      } finally {
        await runner.release();
      }
    };
    const [inMemory, fromDisk] = [await runOn(result.weights), await runOn(reloaded.weights)];
    for (const name of ['last_hidden_state', 'heads.cls']) {
      expect(Buffer.from(fromDisk.get(name)!.data.buffer)).toEqual(
        Buffer.from(inMemory.get(name)!.data.buffer),
      );
    }
  });
});

describe('adaptc train --backend webgpu', () => {
  it('trains with dropout and robust AdapterDrop, and saves AdapterHub folders', async () => {
    gpu();
    const work = mkdtempSync(join(tmpdir(), 'adaptc-webgpu-train-cli-'));
    try {
      const task = writeSyntheticTask(work, { train: 64, eval: 32 }, 3);
      const adapt = readFileSync(task.adapt, 'utf8').replace(
        'train adapter task',
        'train adapter task drop random 0..1',
      );
      writeFileSync(task.adapt, adapt);
      const out = join(work, 'out');
      const args = ['--data', task.train, '--eval', task.eval, '--epochs', '1', '--out', out];
      expect(await main(['train', task.adapt, ...args, '--backend', 'webgpu'])).toBe(0);
      for (const file of ['task/adapter.safetensors', 'cls/model_head.safetensors', 'loss.svg']) {
        expect(existsSync(join(out, file)), file).toBe(true);
      }
      expect(await main(['train', task.adapt, ...args, '--backend', 'tpu'])).toBe(1);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
