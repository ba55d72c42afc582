// Running `node bin/adaptc.mjs …` as a user does: a subprocess in a working directory outside the package.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BUNDLED_ASSETS_DIR, PACKAGE_ROOT } from '../../src/bundled/paths.ts';

const BIN = join(PACKAGE_ROOT, 'bin/adaptc.mjs');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A scratch folder for one test file; remove it with `cleanup`. */
export function scratch(): { readonly dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(join(tmpdir(), 'adaptc-cli-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export async function adaptc(cwd: string, ...args: string[]): Promise<CliResult> {
  return adaptcWithEnv(cwd, {}, ...args);
}

/** The same with extra environment variables (e.g. to hide every GPU driver). */
export async function adaptcWithEnv(
  cwd: string,
  env: Readonly<Record<string, string>>,
  ...args: string[]
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [BIN, ...args], {
      cwd,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failure = e as CliResult;
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** A .adapt file in `dir` over the bundled model and store. */
export function adaptFile(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  const header = `model "${join(BUNDLED_ASSETS_DIR, 'bert-mini')}"\nstore "${join(BUNDLED_ASSETS_DIR, 'store')}"\n`;
  fs.writeFileSync(file, header + body);
  return file;
}
