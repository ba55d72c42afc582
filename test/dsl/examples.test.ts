// Every example checks clean. The bundled assets (examples/assets) come from another part of the project;
// until they exist, each example is checked against equivalent test fixtures instead.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/dsl/check.ts';
import { renderDiagnostics } from '../../src/dsl/diagnostics.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.adapt'));
const hasAssets = existsSync(join(EXAMPLES, 'assets'));

describe('examples', () => {
  it.skipIf(!hasAssets).each(files)('examples/%s checks clean with the bundled assets', (file) => {
    const result = checkFile(join(EXAMPLES, file));
    expect(renderDiagnostics(result.diagnostics, result.sources)).toBe('');
  });

  it.each(files)('examples/%s checks clean against the fixtures', (file) => {
    const source = readFileSync(join(EXAMPLES, file), 'utf8')
      .replace('"assets/bert-mini"', '"../../fixtures/bert12"')
      .replace('"assets/store"', '"../../fixtures/store"');
    const result = checkFile(join(import.meta.dirname, 'programs', file), { source });
    expect(renderDiagnostics(result.diagnostics, result.sources)).toBe('');
  });

  it('seed-fusion: the fusion setup with its head and AdapterDrop', () => {
    const source = readFileSync(join(EXAMPLES, 'seed-fusion.adapt'), 'utf8')
      .replace('"assets/bert-mini"', '"../../fixtures/bert12"')
      .replace('"assets/store"', '"../../fixtures/store"');
    expect(source).toContain('setup Stack(Fuse(multinli,qqp,qnli), head cb) drop 0..10\n');
    const program = checkFile(join(import.meta.dirname, 'programs/seed-fusion.adapt'), { source }).program!;
    expect(program.setup).toEqual({
      type: 'Stack',
      children: [{ type: 'Fuse', children: ['multinli', 'qqp', 'qnli'] }],
    });
    expect(program.headSetup).toEqual({ kind: 'single', head: 'cb' });
    expect(program.skipLayers).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(program.training).toEqual({
      target: 'fusion',
      setup: { type: 'Fuse', children: ['multinli', 'qqp', 'qnli'] },
      unfreezeAdapters: false,
      randomDrop: null,
    });
    expect([...program.heads.keys()]).toEqual(['cb']);
  });
});
