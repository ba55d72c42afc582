// The compositions of the golden cases: the library's working ones check clean, the ERR_* ones
// (compositions the library crashes on) are rejected with an explanation.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/dsl/check.ts';

const PROGRAM = join(import.meta.dirname, 'programs/golden.adapt');
const GOLDEN = '../../fixtures/golden';
const ADAPTERS = [
  'seq',
  'seq2',
  'seq3',
  'seq4',
  'dbl',
  'par',
  'lora',
  'lora2',
  'lora_all',
  'ia3',
  'prefix',
  'prefix2',
  'prefix_flat',
];

const program = (setup: string): string =>
  [
    `model "${GOLDEN}/model"`,
    ...ADAPTERS.map((a) => `adapter ${a} = load "${GOLDEN}/adapters/${a}"`),
    `fusion Fuse(seq, seq2, seq3) = load "${GOLDEN}/fusion/seq_seq2_seq3"`,
    ...['cls2', 'cls3', 'tag'].map((h) => `head ${h} = load "${GOLDEN}/heads/${h}"`),
    `setup ${setup}`,
  ].join('\n');

const check = (setup: string) => checkFile(PROGRAM, { source: program(setup) });

describe('golden compositions', () => {
  it.each([
    'seq',
    'Stack(seq, seq2, head cls3)',
    'Stack(lora, seq)',
    'Stack(prefix, seq)',
    'Fuse(seq, seq2, seq3)',
    'Stack(Fuse(seq, seq2, seq3), seq4)',
    'Parallel(Stack(seq, head cls2), Stack(seq2, head cls3))',
    'Parallel(lora, lora2)',
    'Parallel(prefix, prefix2)',
    'Stack(lora, Parallel(seq, seq2))',
    'BatchSplit(Stack(seq, head cls2), Stack(seq2, head cls3), batch_sizes: [1, 2])',
    'BatchSplit(lora, lora2, batch_sizes: [2, 1])',
    'BatchSplit(prefix, prefix2, batch_sizes: [2, 1])',
    'Average(seq, seq2, weights: [0.3, 0.7])',
    'Average(lora, lora2, weights: [0.25, 0.75])',
    'Split(seq, seq2, splits: [3, 5])',
    'seq drop 0, 1',
    'Stack(seq, seq2) drop 1, 3',
  ])('%s checks clean', (setup) => {
    const result = check(setup);
    expect(result.diagnostics).toEqual([]);
    expect(result.program).toBeDefined();
  });

  it.each([
    ['ERR_stack_fuse_then_dbl', 'Stack(Fuse(seq, seq2, seq3), dbl)', 'fuse-locations'],
    ['ERR_parallel_lora_par', 'Parallel(lora, par)', 'mixed-methods'],
    ['ERR_parallel_seq_prefix', 'Parallel(seq, prefix)', 'mixed-methods'],
    ['ERR_parallel_par_dbl', 'Parallel(par, dbl)', 'mixed-methods'],
    ['ERR_batchsplit_seq_dbl', 'BatchSplit(seq, dbl, batch_sizes: [1, 2])', 'mixed-methods'],
    ['ERR_average_seq_dbl', 'Average(seq, dbl)', 'mixed-methods'],
    ['ERR_average_lora_ia3', 'Average(lora, ia3)', 'mixed-methods'],
  ])('%s: %s is rejected (%s)', (_id, setup, code) => {
    const result = check(setup);
    expect(result.program).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toEqual([code]);
    expect(result.diagnostics[0].message).toMatch(/crashes/);
  });

  it('builds the composition, weights and heads as the library does', () => {
    const average = check('Average(seq, seq2, weights: [1, 3])').program!;
    expect(average.setup).toEqual({ type: 'Average', children: ['seq', 'seq2'], weights: [0.25, 0.75] });
    expect(average.headSetup).toBeNull();
    const single = check('seq drop 0..2').program!;
    expect(single.setup).toEqual({ type: 'Stack', children: ['seq'] });
    expect(single.skipLayers).toEqual([0, 1, 2]);
    const parallel = check('Parallel(Stack(seq, head cls2), Stack(seq2, head cls3))').program!;
    expect(parallel.headSetup).toEqual({ kind: 'parallel', heads: ['cls2', 'cls3'] });
    // Head annotations add no nesting: Parallel('seq', 'seq2') as in the golden case.
    expect(parallel.setup).toEqual({ type: 'Parallel', children: ['seq', 'seq2'] });
    const batch = check('BatchSplit(Stack(seq, head cls2), Stack(seq2, head cls3), batch_sizes: [1, 2])')
      .program!;
    expect(batch.headSetup).toEqual({ kind: 'batch-split', heads: ['cls2', 'cls3'], batch_sizes: [1, 2] });
    expect(check('head cls2').program!.setup).toBeNull();
    expect(check('head cls2').program!.headSetup).toEqual({ kind: 'single', head: 'cls2' });
  });
});
