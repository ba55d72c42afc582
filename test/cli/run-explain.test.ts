// `adaptc run` and `adaptc explain` as a user runs them, success and user-error paths.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adaptc, adaptFile, scratch } from './helpers.ts';

const { dir, cleanup } = scratch();
afterAll(cleanup);

const inputs = (name: string, json: unknown) => {
  const file = join(dir, name);
  fs.writeFileSync(file, JSON.stringify(json));
  return file;
};

describe('adaptc run', () => {
  it('runs a composition on token ids and writes the outputs as JSON', async () => {
    const file = adaptFile(dir, 'ok.adapt', 'adapter sst2 = load "sentiment/sst-2@ukp"\nsetup sst2\n');
    const input = inputs('ids.json', { input_ids: [[2, 40, 41, 3]] });
    const out = join(dir, 'out.json');
    const r = await adaptc(dir, 'run', file, '--input', input, '--output', out);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const json = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(json.backend).toBe('reference');
    expect(json.outputs.last_hidden_state.shape).toEqual([1, 4, 64]);
    expect(json.outputs.heads.sst2.shape).toEqual([1, 2]);
  });

  it('runs on text through the model folder’s tokenizer', async () => {
    const file = adaptFile(dir, 'text.adapt', 'adapter sst2 = load "sentiment/sst-2@ukp"\nsetup sst2\n');
    const r = await adaptc(dir, 'run', file, '--text', 'AdapterHub is awesome!');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outputs.heads.sst2.shape).toEqual([1, 2]);
  });

  it('reports a missing file, bad syntax, a missing adapter folder and a wrong input shape with exit 1', async () => {
    const input = inputs('good.json', { input_ids: [[2, 3]] });
    const missing = await adaptc(dir, 'run', join(dir, 'nope.adapt'), '--input', input);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.adapt');

    const syntax = adaptFile(
      dir,
      'syntax.adapt',
      'adapter sst2 = load "sentiment/sst-2@ukp"\nsetup Stack(sst2,\n',
    );
    const bad = await adaptc(dir, 'run', syntax, '--input', input);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/syntax\.adapt:\d+:\d+: error\[syntax\]/);

    const folder = adaptFile(dir, 'folder.adapt', 'adapter x = load "sentiment/nothing@here"\nsetup x\n');
    const noFolder = await adaptc(dir, 'run', folder, '--input', input);
    expect(noFolder.code).toBe(1);
    expect(noFolder.stderr).toContain('sentiment/nothing@here');

    const ok = adaptFile(dir, 'shape.adapt', 'adapter sst2 = load "sentiment/sst-2@ukp"\nsetup sst2\n');
    const ragged = inputs('ragged.json', {
      input_ids: [
        [2, 3, 4],
        [2, 3],
      ],
    });
    const shape = await adaptc(dir, 'run', ok, '--input', ragged);
    expect(shape.code).toBe(1);
    expect(shape.stderr).toContain('input_ids row 1 has 2 tokens, expected 3');
  });
});

describe('adaptc explain', () => {
  it('prints the pipeline with each pass and the final graph', async () => {
    const file = adaptFile(
      dir,
      'explain.adapt',
      'adapter sst2 = load "sentiment/sst-2@ukp"\nsetup sst2 drop 0..4\n',
    );
    const r = await adaptc(dir, 'explain', file, '--batch', '2', '--seq', '16');
    expect(r.code).toBe(0);
    for (const pass of ['simplify', 'merge-parallel', 'merge-adapters', 'fold-constants'])
      expect(r.stdout).toContain(`  ${pass}: `);
    expect(r.stdout).toContain('%0 = input input_ids');
  });

  it('reports bad syntax with exit 1', async () => {
    const file = adaptFile(dir, 'bad-explain.adapt', 'setup Stak(a)\n');
    const r = await adaptc(dir, 'explain', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[');
  });
});

describe('progress on stderr', () => {
  it('stays silent when stderr is not a terminal', async () => {
    const file = adaptFile(dir, 'quiet.adapt', 'adapter sst2 = load "sentiment/sst-2@ukp"\nsetup sst2\n');
    const r = await adaptc(dir, 'run', file, '--input', inputs('quiet.json', { input_ids: [[2, 3]] }));
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });
});
