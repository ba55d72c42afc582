// `adaptc train` and `adaptc bench` as a user runs them, success and user-error paths.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adaptc, adaptFile, scratch } from './helpers.ts';

const { dir, cleanup } = scratch();
afterAll(cleanup);

const rows = (items: readonly { text: string; label: number }[]) =>
  items.map((r) => JSON.stringify(r)).join('\n');

describe('adaptc train', () => {
  it('trains the adapter a train statement names and writes AdapterHub folders and the loss curve', async () => {
    const file = adaptFile(
      dir,
      'train.adapt',
      'adapter sst2 = load "sentiment/sst-2@ukp"\nsetup sst2\ntrain adapter sst2\n',
    );
    const data = join(dir, 'train.jsonl');
    fs.writeFileSync(
      data,
      rows([
        { text: 'a great film', label: 1 },
        { text: 'a dull film', label: 0 },
      ]),
    );
    const out = join(dir, 'out');
    const r = await adaptc(dir, 'train', file, '--data', data, '--epochs', '1', '--out', out, '--no-dropout');
    expect(r.code).toBe(0);
    for (const f of [
      'sst2/adapter_config.json',
      'sst2/adapter.safetensors',
      'sst2/head_config.json',
      'loss.svg',
    ]) {
      expect(fs.existsSync(join(out, f)), f).toBe(true);
    }
  });

  it('reports a missing data file and a file without a train statement with exit 1', async () => {
    const file = adaptFile(
      dir,
      'train2.adapt',
      'adapter sst2 = load "sentiment/sst-2@ukp"\nsetup sst2\ntrain adapter sst2\n',
    );
    const missing = await adaptc(
      dir,
      'train',
      file,
      '--data',
      join(dir, 'nope.jsonl'),
      '--out',
      join(dir, 'o2'),
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.jsonl');
    const untrained = adaptFile(
      dir,
      'plain.adapt',
      'adapter sst2 = load "sentiment/sst-2@ukp"\nsetup sst2\n',
    );
    const data = join(dir, 'one.jsonl');
    fs.writeFileSync(data, rows([{ text: 'fine', label: 1 }]));
    const none = await adaptc(dir, 'train', untrained, '--data', data, '--out', join(dir, 'o3'));
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/train/);
  });
});

describe('adaptc bench', () => {
  it('measures the matmul kernel against the CPU', async () => {
    const r = await adaptc(dir, 'bench', '--only', 'b', '--repeats', '1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/GFLOP\/s/);
  });

  it('rejects an unknown section with exit 1', async () => {
    const r = await adaptc(dir, 'bench', '--only', 'z');
    expect(r.code).toBe(1);
  });
});
