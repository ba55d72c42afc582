// Freeze analysis against the library: the exact trainable set train_adapter / train_adapter_fusion leave.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProgram } from '../../src/compiler.ts';
import { loadProgramWeights } from '../../src/load/weights.ts';
import { trainableParameters } from '../../src/passes/freeze.ts';

const HERE = dirname(new URL(import.meta.url).pathname);
const golden = JSON.parse(readFileSync(resolve(HERE, '../../../shared/golden/cases.json'), 'utf8'));

const CASES = [
  ["train_adapter('seq')", 'train_adapter_seq.adapt'],
  ["train_adapter_fusion(Fuse('seq', 'seq2', 'seq3'))", 'train_fusion_seq_seq2_seq3.adapt'],
] as const;

describe('freeze analysis equals the trainable parameters the library leaves', () => {
  it.each(CASES)('%s', (call, file) => {
    const program = checkProgram(join(HERE, 'train', file));
    const report = trainableParameters(loadProgramWeights(program).weights, program.training!);
    const want = golden.trainable_parameters[call];
    expect(report.names).toEqual([...want.names].sort());
    expect(report.count).toBe(want.count);
    expect(report.numel).toBe(want.numel);
  });
});
