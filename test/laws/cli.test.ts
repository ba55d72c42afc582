// `adaptc test-laws` as a user runs it: on the bundled fusion example (every law holds) and on a
// store whose Parallel setup pairs each channel with the other task's head (a law breaks, readably).
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_ASSETS_DIR, EXAMPLES_DIR } from '../../src/bundled/paths.ts';
import { adaptc, scratch } from '../cli/helpers.ts';

const { dir: work, cleanup } = scratch();
afterAll(cleanup);

describe('adaptc test-laws', () => {
  it('examples/seed-fusion.adapt: every applicable law holds, on WebGPU too; a table of laws; exit 0', async () => {
    const file = join(EXAMPLES_DIR, 'seed-fusion.adapt');
    const { code, stdout, stderr } = await adaptc(
      work,
      'test-laws',
      file,
      '--runs',
      '1',
      '--seed',
      '7',
      '--webgpu',
    );
    expect(code, stderr).toBe(0); // stderr may hold Dawn's adapter warnings
    expect(stdout).toContain('1 generated inputs per law, seed 7');
    expect(stdout).toMatch(/^law +result +statement$/m);
    for (const law of [
      'stack-of-one-block',
      'drop-all',
      'save-reload',
      'passes-preserve',
      'webgpu-matches-reference',
    ])
      expect(stdout).toMatch(new RegExp(`^${law} +held `, 'm'));
    expect(stdout).toMatch(/^parallel-channel +not applicable /m);
    expect(stdout).not.toContain('BROKEN');
  }, 60_000);

  it('a store whose Parallel channels carry each other’s heads: parallel-channel breaks, with a counterexample', async () => {
    const store = join(work, 'store');
    fs.cpSync(join(BUNDLED_ASSETS_DIR, 'store', 'glue'), join(store, 'glue'), { recursive: true });
    const file = join(work, 'swapped.adapt');
    fs.writeFileSync(
      file,
      [
        `model "${join(BUNDLED_ASSETS_DIR, 'bert-mini')}"`,
        'store "store"',
        'adapter task1 = load "glue/task1@adaptc"',
        'adapter task2 = load "glue/task2@adaptc"',
        'setup Parallel(Stack(task1, head task2), Stack(task2, head task1))',
        '',
      ].join('\n'),
    );
    const out = join(work, 'cx');
    const { code, stdout } = await adaptc(
      work,
      'test-laws',
      file,
      '--runs',
      '1',
      '--seed',
      '3',
      '--out',
      out,
    );
    expect(code).toBe(1);
    expect(stdout).toMatch(/^parallel-channel +BROKEN /m);
    expect(stdout).toContain('parallel-channel is broken');
    expect(stdout).toContain(
      'head: shape [1,5] (Parallel channel 0 with head task2) vs [1,3] (task1 alone with head task1)',
    );
    expect(stdout).toContain('reproduce: adaptc test-laws');
    // The counterexample is a file `adaptc check` accepts and `adaptc run` runs on the written inputs.
    const counterexample = join(out, 'parallel-channel.adapt');
    expect(fs.readFileSync(counterexample, 'utf8')).toContain(
      'setup Parallel(Stack(task1, head task2), Stack(task2, head task1))',
    );
    expect((await adaptc(work, 'check', counterexample)).code).toBe(0);
    const ran = await adaptc(
      work,
      'run',
      counterexample,
      '--input',
      join(out, 'parallel-channel.inputs.json'),
    );
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout).outputs.heads.task2.shape).toEqual([1, 5]);
  }, 60_000);
});
