// Training end to end on a generated task: a seeded run reaches ≥ 95% held-out accuracy, the saved
// AdapterHub folders reload (compileFile and `adaptc run`) to bit-identical outputs, and
// `adaptc train` writes the folders and the loss curve.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { interpret } from '../../src/runtime/reference/interpret.ts';
import { collate } from '../../src/train/data.ts';
import { evaluate } from '../../src/train/loop.ts';
import { type SyntheticRun, trainSyntheticTask, writeSyntheticTask } from './synthetic.ts';

const HERE = dirname(new URL(import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), 'adaptc-train-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a seeded training run on a generated task', () => {
  let run: SyntheticRun;
  beforeAll(async () => {
    run = await trainSyntheticTask(join(work, 'api'));
  }, 120_000);

  it('reaches at least 95% held-out accuracy', async () => {
    const { reloaded, evalData, result, seconds } = run;
    const { accuracy } = await evaluate(reloaded, evalData);
    console.log(
      `held-out accuracy ${accuracy.toFixed(4)} after ${result.losses.length} steps in ${seconds.toFixed(1)} s`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]);
  });

  it('saves modules that reload to bit-identical outputs', () => {
    const { compiled, reloaded, evalData, result } = run;
    const { inputs } = collate(evalData.slice(0, 16), compiled.model.padTokenId);
    const inMemory = interpret(compiled.graph, (k) => result.weights.get(k), inputs);
    const fromDisk = interpret(reloaded.graph, (k) => reloaded.weights.get(k), inputs);
    for (const name of ['last_hidden_state', 'heads.cls']) {
      expect(Buffer.from(fromDisk.get(name)!.data.buffer)).toEqual(
        Buffer.from(inMemory.get(name)!.data.buffer),
      );
    }
  });

  it('saves folders `adaptc run` loads', async () => {
    const { task, evalData } = run;
    const inputFile = join(work, 'api', 'inputs.json');
    writeFileSync(
      inputFile,
      JSON.stringify({ input_ids: evalData.slice(0, 2).map((e) => e.ids.slice(0, 3)) }),
    );
    const output = join(work, 'api', 'out.json');
    expect(
      await main([
        'run',
        task.reloadAdapt(join(work, 'api', 'out')),
        '--input',
        inputFile,
        '--output',
        output,
      ]),
    ).toBe(0);
    expect(JSON.parse(readFileSync(output, 'utf8')).outputs.heads.cls.shape).toEqual([2, 2]);
  });
});

describe('adaptc train', () => {
  it('trains, reports each epoch and writes AdapterHub folders and the loss curve', async () => {
    const task = writeSyntheticTask(join(work, 'cli'), { train: 64, eval: 32 }, 3);
    const out = join(work, 'cli', 'out');
    const code = await main([
      'train',
      task.adapt,
      '--data',
      task.train,
      '--eval',
      task.eval,
      '--epochs',
      '1',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    for (const file of [
      'task/adapter_config.json',
      'task/adapter.safetensors',
      'task/pytorch_adapter.bin',
      'cls/head_config.json',
      'cls/model_head.safetensors',
      'loss.svg',
    ]) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    const config = JSON.parse(readFileSync(join(out, 'task', 'adapter_config.json'), 'utf8'));
    expect(config.name).toBe('task');
    expect(config.config.reduction_factor).toBe(16);
    expect(readFileSync(join(out, 'loss.svg'), 'utf8')).toContain('<polyline');
  });

  it('tokenizes text rows with the model folder’s tokenizer and trains with robust AdapterDrop', async () => {
    const dir = join(work, 'text');
    mkdirSync(dir, { recursive: true });
    const model = resolve(HERE, '../../examples/assets/bert-mini');
    const adapt = join(dir, 'sentiment.adapt');
    writeFileSync(
      adapt,
      [
        `model ${JSON.stringify(model)}`,
        'adapter sentiment = seq_bn',
        'head sentiment = classification(num_labels: 2)',
        'setup Stack(sentiment, head sentiment)',
        'train adapter sentiment drop random 0..3',
        '',
      ].join('\n'),
    );
    const data = join(dir, 'train.jsonl');
    const rows = [
      { text: 'a great film', label: 1 },
      { text: 'a terrible film', label: 0 },
      { text: 'the movie was good', label: 1 },
      { text: 'the movie was bad', label: 0 },
    ];
    writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n'));
    const out = join(dir, 'out');
    const code = await main([
      'train',
      adapt,
      '--data',
      data,
      '--epochs',
      '1',
      '--batch-size',
      '2',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    expect(existsSync(join(out, 'sentiment', 'adapter_config.json'))).toBe(true);
    expect(existsSync(join(out, 'sentiment', 'head_config.json'))).toBe(true);
    // The adapter's folder carries its head, as the library saves them: loading it brings both.
    const reload = join(dir, 'reload.adapt');
    writeFileSync(
      reload,
      `model ${JSON.stringify(model)}\nadapter sentiment = load ${JSON.stringify(join(out, 'sentiment'))}\nsetup sentiment\n`,
    );
    const output = join(dir, 'out.json');
    expect(await main(['run', reload, '--text', 'a great film', '--output', output])).toBe(0);
    expect(JSON.parse(readFileSync(output, 'utf8')).outputs.heads.sentiment.shape).toEqual([1, 2]);
  });

  it('rejects a file without a train statement', async () => {
    const task = writeSyntheticTask(join(work, 'bad'), { train: 8, eval: 8 }, 1);
    const code = await main([
      'train',
      task.reloadAdapt(join(work, 'cli', 'out')),
      '--data',
      task.train,
      '--out',
      join(work, 'bad', 'out'),
    ]);
    expect(code).toBe(1);
  });
});
