// Every example checks clean against the bundled assets (examples/assets, committed), and checks to the
// program its comments promise.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/dsl/check.ts';
import { renderDiagnostics } from '../../src/dsl/diagnostics.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.adapt'));

describe('examples', () => {
  it.each(files)('examples/%s checks clean with the bundled assets', (file) => {
    const result = checkFile(join(EXAMPLES, file));
    expect(renderDiagnostics(result.diagnostics, result.sources)).toBe('');
  });

  const checked = (file: string) => checkFile(join(EXAMPLES, file)).program!;

  it('sst2 and parallel: heads come with the loaded adapters and are inferred from the setup', () => {
    const sst2 = checked('sst2.adapt');
    expect(sst2.setup).toEqual({ type: 'Stack', children: ['sst2'] });
    expect(sst2.headSetup).toEqual({ kind: 'single', head: 'sst2' });
    expect(checked('adapterdrop.adapt').skipLayers).toEqual([0, 1, 2, 3, 4]);
    const parallel = checked('parallel.adapt');
    expect(parallel.headSetup).toEqual({ kind: 'parallel', heads: ['task1', 'task2'] });
    expect(parallel.heads.get('task2')?.config.num_labels).toBe(5);
  });

  it('seed-fusion: the fusion setup with its head and AdapterDrop', () => {
    expect(readFileSync(join(EXAMPLES, 'seed-fusion.adapt'), 'utf8')).toContain(
      'setup Stack(Fuse(multinli,qqp,qnli), head cb) drop 0..10\n',
    );
    const program = checked('seed-fusion.adapt');
    // The Stack only attaches the head: the setup is the Fuse itself.
    expect(program.setup).toEqual({ type: 'Fuse', children: ['multinli', 'qqp', 'qnli'] });
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
