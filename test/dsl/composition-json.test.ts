import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/dsl/check.ts';
import type { Composition } from '../../src/dsl/checked.ts';
import {
  adapterSetupFromJson,
  adapterSetupToJson,
  compositionFromJson,
  compositionToJson,
  headSetupFromJson,
  headSetupToJson,
} from '../../src/dsl/composition-json.ts';

const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('composition JSON interchange', () => {
  it('writes the library’s to_dict form', () => {
    const setup: Composition = {
      type: 'Stack',
      children: [
        'a',
        { type: 'Fuse', children: ['b', 'c'] },
        { type: 'BatchSplit', children: ['d', 'e'], batch_sizes: [1, 2] },
      ],
    };
    expect(compositionToJson(setup)).toEqual({
      type: 'Stack',
      children: [
        { type: 'single', children: ['a'] },
        {
          type: 'Fuse',
          children: [
            { type: 'single', children: ['b'] },
            { type: 'single', children: ['c'] },
          ],
          kwargs: {},
        },
        {
          type: 'BatchSplit',
          children: [
            { type: 'single', children: ['d'] },
            { type: 'single', children: ['e'] },
          ],
          kwargs: { batch_sizes: [1, 2] },
        },
      ],
      kwargs: {},
    });
  });

  it('round-trips every block, and reads int sizes and default weights like the library', () => {
    const setups: Composition[] = [
      'a',
      { type: 'Parallel', children: [{ type: 'Stack', children: ['a', 'b'] }, 'c'] },
      { type: 'Split', children: ['a', 'b'], splits: [3, 5] },
      { type: 'Average', children: ['a', 'b'], weights: [0.25, 0.75] },
      { type: 'MultiTask', children: ['a', 'b'] },
    ];
    for (const setup of setups) expect(unwrap(compositionFromJson(compositionToJson(setup)))).toEqual(setup);
    expect(
      unwrap(compositionFromJson({ type: 'Split', children: ['a', 'b'], kwargs: { splits: 4 } })),
    ).toEqual({ type: 'Split', children: ['a', 'b'], splits: [4, 4] });
    expect(unwrap(compositionFromJson({ type: 'Average', children: ['a', 'b'], kwargs: {} }))).toEqual({
      type: 'Average',
      children: ['a', 'b'],
      weights: [0.5, 0.5],
    });
    expect(compositionFromJson({ type: 'Mix', children: [] }).ok).toBe(false);
    expect(compositionFromJson({ type: 'single', children: ['a', 'b'] }).ok).toBe(false);
  });

  it('reads and writes adapter_setup.json with every head setup form', () => {
    for (const headSetup of [
      null,
      { kind: 'single', head: 'h' },
      { kind: 'parallel', heads: ['h1', 'h2'] },
      { kind: 'batch-split', heads: ['h1', 'h2'], batch_sizes: [1, 2] },
    ] as const) {
      expect(unwrap(headSetupFromJson(headSetupToJson(headSetup)))).toEqual(headSetup);
    }
    const file = adapterSetupToJson({ type: 'Stack', children: ['a'] }, { kind: 'single', head: 'a' });
    expect(file).toEqual({
      adapter_setup: { type: 'Stack', children: [{ type: 'single', children: ['a'] }], kwargs: {} },
      head_setup: 'a',
      version: 'adapters.1.1.0',
    });
    expect(unwrap(adapterSetupFromJson(JSON.parse(JSON.stringify(file))))).toEqual({
      setup: { type: 'Stack', children: ['a'] },
      headSetup: { kind: 'single', head: 'a' },
    });
  });

  it('writes what the checker builds from a .adapt setup', () => {
    const source =
      'model "../../fixtures/bert12"\nadapter a = seq_bn\nadapter b = seq_bn\nsetup Average(a, b, weights: [1, 1])\n';
    const program = checkFile(join(import.meta.dirname, 'programs/generated.adapt'), { source }).program!;
    expect(compositionToJson(program.setup!)).toEqual({
      type: 'Average',
      children: [
        { type: 'single', children: ['a'] },
        { type: 'single', children: ['b'] },
      ],
      kwargs: { weights: [0.5, 0.5] },
    });
  });
});
