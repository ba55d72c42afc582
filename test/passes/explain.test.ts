// Snapshots of `adaptc explain` for every example: the pipeline reports and the optimized graph.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainFile, formatExplanation } from '../../src/cli/commands/explain.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.adapt'));

describe('adaptc explain on the examples', () => {
  it.each(files)('%s', async (file) => {
    const text = formatExplanation(explainFile(join(EXAMPLES, file), { B: 8, T: 128 }));
    await expect(`${text}\n`).toMatchFileSnapshot(
      join(import.meta.dirname, '__snapshots__', `explain-${file}.txt`),
    );
  });
});
