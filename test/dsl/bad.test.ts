// One file per error kind under test/dsl/bad/; the rendered diagnostics are snapshots next to them.
import { readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/dsl/check.ts';
import { renderDiagnostics } from '../../src/dsl/diagnostics.ts';

const BAD = join(import.meta.dirname, 'bad');
const ROOT = join(import.meta.dirname, '../..');
const files = readdirSync(BAD).filter((f) => f.endsWith('.adapt'));

describe('diagnostics for the catalogue of bad files', () => {
  it.each(files)('%s', async (file) => {
    const result = checkFile(join(BAD, file));
    const kind = basename(file, '.adapt');
    expect(result.program).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toContain(kind);
    const rendered = renderDiagnostics(result.diagnostics, result.sources, (f) => relative(ROOT, f));
    await expect(`${rendered}\n`).toMatchFileSnapshot(join(BAD, '__snapshots__', `${kind}.txt`));
  });
});
