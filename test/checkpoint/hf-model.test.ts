import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelFolder } from '../../src/checkpoint/hf-model.ts';
import { readSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/checkpoint/tensor.ts';
import { writeTorchBin } from '../../src/checkpoint/torch-bin.ts';
import { checkpointError, expectSameTensors, GOLDEN, tempDir, tensor } from './helpers.ts';

const root = tempDir('hf');
const golden = readSafetensors(join(GOLDEN, 'model/model.safetensors'));

function modelDir(name: string, modelType = 'bert'): string {
  const dir = join(root, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: modelType, hidden_size: 32 }));
  return dir;
}

function prefixed(prefix: string): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>([...golden].map(([k, t]) => [prefix + k, t]));
  out.set('cls.predictions.bias', tensor([128]));
  out.set(`${prefix}embeddings.position_ids`, tensor([1, 64]));
  return out;
}

describe('Hugging Face model folders', () => {
  it('reads the golden model with its HF names', () => {
    const model = readModelFolder(join(GOLDEN, 'model'));
    expect(model.config.model_type).toBe('bert');
    expectSameTensors(model.weights, golden);
  });

  it('strips bert. and drops heads and buffers (pytorch_model.bin)', () => {
    const dir = modelDir('bin');
    writeTorchBin(join(dir, 'pytorch_model.bin'), prefixed('bert.'));
    expectSameTensors(readModelFolder(dir).weights, golden);
  });

  it('reads sharded safetensors through the index (roberta prefix)', () => {
    const dir = modelDir('sharded', 'xlm-roberta');
    const all = [...prefixed('roberta.')];
    const shards = [new Map(all.slice(0, 30)), new Map(all.slice(30))];
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      const name = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(join(dir, name), shard);
      for (const key of shard.keys()) weightMap[key] = name;
    });
    fs.writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    expectSameTensors(readModelFolder(dir).weights, golden);
  });

  it('rejects shard names that leave the folder', () => {
    const dir = modelDir('escape');
    fs.writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'encoder.x': '../../etc/passwd' } }),
    );
    expect(checkpointError(() => readModelFolder(dir)).message).toMatch(/not a file name/);
  });

  it('rejects unsupported model types and folders without weights', () => {
    expect(checkpointError(() => readModelFolder(modelDir('gpt', 'gpt2'))).message).toMatch(
      /model_type "gpt2"/,
    );
    expect(checkpointError(() => readModelFolder(modelDir('empty'))).message).toMatch(/no weights/);
  });

  it('rejects a key present with and without the prefix', () => {
    const dir = modelDir('dup');
    const weights = new Map([
      ['bert.pooler.dense.bias', tensor([2])],
      ['pooler.dense.bias', tensor([2])],
    ]);
    writeSafetensors(join(dir, 'model.safetensors'), weights);
    expect(checkpointError(() => readModelFolder(dir)).message).toMatch(/both with and without/);
  });
});
