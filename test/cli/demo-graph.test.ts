// `adaptc demo` and `adaptc graph` as a user runs them: `node bin/adaptc.mjs …` in a subprocess, from a
// working directory outside the package, with success output and the user-error paths.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_ASSETS_DIR, PACKAGE_ROOT } from '../../src/bundled/paths.ts';
import { adaptcWithEnv, adaptc as run, scratch, adaptFile as writeAdapt } from './helpers.ts';

const { dir: work, cleanup } = scratch();
afterAll(cleanup);
const adaptc = (...args: string[]) => run(work, ...args);
const adaptFile = (name: string, body: string) => writeAdapt(work, name, body);

describe('adaptc demo', () => {
  it('runs the four bundled scenarios from any directory: probabilities by label, backend, time', async () => {
    // Dawn may print adapter warnings on stderr; the demo itself writes none. Tests need a WebGPU
    // adapter (llvmpipe in CI), so the demo runs there rather than falling back.
    const { code, stdout, stderr } = await adaptc('demo');
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/error/i);
    expect(stdout).not.toContain('running on the reference interpreter');
    expect(stdout).toContain('trained by adaptc on small generated tasks');
    for (const file of ['sst2', 'seed-fusion', 'parallel', 'adapterdrop'])
      expect(stdout).toContain(`examples/${file}.adapt`);
    expect(stdout).toContain('setup Stack(Fuse(multinli, qqp, qnli), head cb) drop 0..10');
    expect(stdout).toMatch(
      /"AdapterHub is awesome!" {2}negative 0\.\d{3} {2}positive 0\.\d{3} {2}→ (negative|positive)/,
    );
    expect(stdout).toContain('head task1 [2,3]');
    expect(stdout).toContain('head task2 [2,5]');
    expect(stdout.match(/ran on WebGPU \(.+\) in \d+ ms/g)).toHaveLength(4);
  });

  it('falls back to the reference interpreter, saying so on one line, when no WebGPU adapter exists', async () => {
    const noDrivers = { LIBGL_DRIVERS_PATH: '/nonexistent', VK_ICD_FILENAMES: '/nonexistent.json' };
    const { code, stdout } = await adaptcWithEnv(work, noDrivers, 'demo');
    expect(code).toBe(0);
    const notice = 'no WebGPU adapter found: running on the reference interpreter (CPU)';
    expect(stdout.split('\n').filter((l) => l === notice)).toHaveLength(1);
    expect(stdout.match(/ran on reference interpreter \(CPU\) in \d+ ms/g)).toHaveLength(4);
  });

  it('runs a given file on --text sentences', async () => {
    const file = adaptFile('mine.adapt', 'adapter s = load "sentiment/sst-2@ukp"\nsetup s\n');
    const { code, stdout } = await adaptc('demo', file, '--text', 'a great movie', '--text', 'a dull movie');
    expect(code).toBe(0);
    expect(stdout).toContain('head s [2,2]');
    expect(stdout).toContain('"a dull movie"');
  });

  it('missing file → exit 1 naming it', async () => {
    const { code, stderr } = await adaptc('demo', 'no-such.adapt');
    expect(code).toBe(1);
    expect(stderr).toContain('no-such.adapt:1:1: error[file-not-found]');
  });

  it('--text without a file → exit 1 with usage', async () => {
    const { code, stderr } = await adaptc('demo', '--text', 'hello');
    expect(code).toBe(1);
    expect(stderr).toContain('--text needs FILE.adapt');
  });
});

describe.concurrent('adaptc graph', () => {
  it('writes an SVG naming the adapters and the head', async () => {
    const out = join(work, 'out.svg');
    const { code, stdout } = await adaptc(
      'graph',
      join(PACKAGE_ROOT, 'examples/seed-fusion.adapt'),
      '-o',
      out,
    );
    expect(code).toBe(0);
    expect(stdout).toBe(`wrote ${out}\n`);
    const svg = fs.readFileSync(out, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const name of ['multinli', 'qqp', 'qnli', 'head cb', 'layer 10 · dropped'])
      expect(svg).toContain(name);
  });

  it('missing file → exit 1 with file:1:1', async () => {
    const { code, stderr } = await adaptc('graph', 'nope.adapt', '-o', join(work, 'x.svg'));
    expect(code).toBe(1);
    expect(stderr).toContain('nope.adapt:1:1: error[file-not-found]');
    expect(fs.existsSync(join(work, 'x.svg'))).toBe(false);
  });

  it('missing adapter folder in the store → exit 1 naming the id and the folder looked in', async () => {
    const file = adaptFile('missing.adapt', 'adapter x = load "sentiment/imdb@ukp"\nsetup x\n');
    for (const command of ['graph', 'demo']) {
      const { code, stderr } = await adaptc(command, file);
      expect(code, command).toBe(1);
      expect(stderr).toContain('missing.adapt:3:13: error[adapter-not-found]');
      expect(stderr).toContain('"sentiment/imdb@ukp"');
      expect(stderr).toContain(join(BUNDLED_ASSETS_DIR, 'store', 'sentiment/imdb@ukp'));
    }
  });

  it('bad syntax → exit 1 with file:line:col', async () => {
    const file = adaptFile('bad.adapt', 'adapter a = = seq_bn\nsetup a\n');
    for (const command of ['graph', 'demo']) {
      const { code, stderr } = await adaptc(command, file);
      expect(code, command).toBe(1);
      expect(stderr).toContain('bad.adapt:3:13: error[syntax]');
    }
  });

  it('no file → exit 1 with usage', async () => {
    const { code, stderr } = await adaptc('graph');
    expect(code).toBe(1);
    expect(stderr).toContain('usage: adaptc graph FILE.adapt');
  });
});
