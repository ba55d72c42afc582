// `adaptc check` and `adaptc fmt` as a user runs them: a subprocess through bin/adaptc.mjs.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

const ROOT = join(import.meta.dirname, '../..');
const run = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', ['bin/adaptc.mjs', ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failure = e as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
};

describe('adaptc CLI', () => {
  it('check: clean file → 0; missing file and bad syntax → 1 with file:line:col', async () => {
    const clean = await run('check', 'test/dsl/programs/full.adapt');
    expect(clean).toMatchObject({ code: 0, stdout: 'test/dsl/programs/full.adapt: ok\n' });
    const syntax = await run(
      'check',
      'test/dsl/no-such-file.adapt',
      'test/dsl/bad/syntax.adapt',
      'test/dsl/programs/full.adapt',
    );
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain('test/dsl/no-such-file.adapt:1:1: error[file-not-found]');
    expect(syntax.stderr).toContain('test/dsl/bad/syntax.adapt:3:13: error[syntax]: unexpected `=`');
    expect(syntax.stderr).toContain('3 | adapter a = = seq_bn\n  |             ^');
  });

  it('check --json lists diagnostics per file', async () => {
    const result = await run('check', '--json', 'test/dsl/bad/undefined-adapter.adapt');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.files[0]).toMatchObject({
      ok: false,
      diagnostics: [{ code: 'undefined-adapter', line: 6, column: 18, hint: 'did you mean `qnli`?' }],
    });
  });

  it('fmt --check reports unformatted files; fmt rewrites them idempotently, keeping comments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adaptc-fmt-'));
    const file = join(dir, 'x.adapt');
    writeFileSync(file, 'model   "m"  # base\nsetup Stack( a,b )\n');
    expect((await run('fmt', '--check', file)).code).toBe(1);
    expect((await run('fmt', file)).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('model "m"  # base\nsetup Stack(a, b)\n');
    expect((await run('fmt', '--check', file)).code).toBe(0);
  });

  it('in process: help, unknown commands and options, files with syntax errors are not formatted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adaptc-fmt-'));
    copyFileSync(join(ROOT, 'test/dsl/bad/syntax.adapt'), join(dir, 'broken.adapt'));
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['check', '--help'])).toBe(0);
      expect(await main(['--help'])).toBe(0);
      expect(await main(['frobnicate'])).toBe(1);
      expect(await main(['check', '--frobnicate', 'x.adapt'])).toBe(1);
      expect(await main(['fmt', join(dir, 'broken.adapt')])).toBe(1);
      expect(readFileSync(join(dir, 'broken.adapt'), 'utf8')).toBe(
        readFileSync(join(ROOT, 'test/dsl/bad/syntax.adapt'), 'utf8'),
      );
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});
