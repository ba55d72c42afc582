// The generated training tasks of the bundled adapters: seeded, balanced enough, spelled with the bundled
// vocabulary (no [UNK], short rows), and covering every word of the demo's sentences for their task.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_TASKS } from '../../src/bundled/model.ts';
import { BUNDLED_ASSETS_DIR } from '../../src/bundled/paths.ts';
import { CB_TASK, type GeneratedTask, generate, STORE_TASKS } from '../../src/bundled/tasks.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';

const tokenizer = loadTokenizer(join(BUNDLED_ASSETS_DIR, 'bert-mini'));
const UNK = 1;
const ids = (text: string): number[] => tokenizer.encode([text]).input_ids[0];
const ALL: readonly GeneratedTask[] = [...STORE_TASKS.values(), CB_TASK];

describe('generated tasks', () => {
  it('one per store adapter, with the head’s label count', () => {
    for (const t of BUNDLED_TASKS) {
      const task = STORE_TASKS.get(t.name);
      expect(task, t.name).toBeDefined();
      expect(task!.labels).toHaveLength(t.numLabels);
    }
  });

  it.each(ALL.map((t) => [t.name, t] as const))(
    '%s: seeded, every label, no [UNK], short rows',
    (_, task) => {
      const rows = generate(task, 600, 5);
      expect(generate(task, 600, 5)).toEqual(rows);
      expect(generate(task, 600, 6)).not.toEqual(rows);
      const counts = task.labels.map((_, label) => rows.filter((r) => r.label === label).length);
      for (const c of counts) expect(c).toBeGreaterThan(600 / task.labels.length / 2);
      for (const { text } of rows) {
        const encoded = ids(text);
        expect(encoded, text).not.toContain(UNK);
        expect(encoded.length, text).toBeLessThanOrEqual(40);
      }
    },
  );

  // The demo's sentences (src/cli/commands/demo.ts) use only tokens their task's rows use.
  const DEMO: readonly [string, string][] = [
    ['sst-2', 'AdapterHub is awesome!'],
    ['multinli', 'A soccer game with multiple males playing. [SEP] Some men are playing a sport.'],
    ['cb', 'A soccer game with multiple males playing. [SEP] Some men are playing a sport.'],
    ['task1', 'The movie was a delight from start to finish.'],
    ['task1', 'The service was slow and the food was cold.'],
    ['task2', 'The movie was a delight from start to finish.'],
    ['task2', 'The service was slow and the food was cold.'],
  ];
  it.each(DEMO)('%s covers the demo sentence %j', (name, text) => {
    const task = name === 'cb' ? CB_TASK : STORE_TASKS.get(name)!;
    const seen = new Set(generate(task, 3000, 7).flatMap((r) => ids(r.text)));
    expect(ids(text).filter((id) => !seen.has(id))).toEqual([]);
  });
});
