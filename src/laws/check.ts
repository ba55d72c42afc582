// Running laws with fast-check: on a fixed subject (a user's .adapt) over generated inputs, or as a
// property over generated subjects. Counterexamples come back shrunk, with the seed to reproduce them.
import fc from 'fast-check';
import type { Inputs } from '../runtime/reference/interpret.ts';
import { inputsArb, type LawCase } from '../testing/arbitraries.ts';
import type { Counterexample, Law, Subject } from './law.ts';
import {
  averageOneHot,
  averagePermutation,
  batchSplitRows,
  dropAll,
  dropUnusedLayers,
  loraMerge,
  parallelChannel,
  stackOfOneAdapter,
  stackOfOneBlock,
  zeroUpIdentity,
} from './laws.ts';
import { passesPreserve, saveReload } from './roundtrip.ts';

/** Every law, in the order reports list them. */
export const LAWS: readonly Law[] = [
  stackOfOneAdapter,
  stackOfOneBlock,
  parallelChannel,
  batchSplitRows,
  dropAll,
  dropUnusedLayers,
  averageOneHot,
  averagePermutation,
  loraMerge,
  zeroUpIdentity,
  saveReload,
  passesPreserve(),
];

export interface RunOptions {
  readonly runs?: number;
  readonly seed?: number;
}

/** What a report shows of a law (synchronous or not). */
export type LawInfo = Pick<Law, 'name' | 'statement' | 'exceptions'>;

export type LawResult =
  | { readonly law: LawInfo; readonly status: 'not-applicable' }
  | { readonly law: LawInfo; readonly status: 'held'; readonly runs: number }
  | {
      readonly law: LawInfo;
      readonly status: 'broken';
      readonly counterexample: Counterexample;
      readonly seed: number;
    };

/** An exception inside a law is a counterexample too: the law could not even compute its two sides. */
export function checkSafely(law: Law, subject: Subject, inputs: Inputs): Counterexample | null {
  try {
    return law.check(subject, inputs);
  } catch (e) {
    return { law: law.name, subject, inputs, message: `threw ${(e as Error).message}` };
  }
}

/** Checks one law on a fixed subject over `runs` generated inputs; a failure is shrunk to small inputs. */
export function checkLaw(law: Law, subject: Subject, options: RunOptions = {}): LawResult {
  if (!law.applies(subject)) return { law, status: 'not-applicable' };
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const runs = options.runs ?? 20;
  const result = fc.check(
    fc.property(
      inputsArb(subject.model, subject.program),
      (inputs) => checkSafely(law, subject, inputs) === null,
    ),
    { numRuns: runs, seed },
  );
  if (!result.failed) return { law, status: 'held', runs };
  const counterexample = checkSafely(law, subject, result.counterexample![0])!;
  return { law, status: 'broken', counterexample, seed };
}

/** A fast-check property: the law holds on every generated case where it applies. */
export function lawProperty(law: Law, cases: fc.Arbitrary<LawCase>): fc.IPropertyWithHooks<[LawCase]> {
  return fc.property(cases, ({ subject, inputs }) => {
    if (!law.applies(subject)) return true;
    const found = checkSafely(law, subject, inputs);
    if (found) throw new Error(`${law.name} (${law.statement}): ${found.message}`);
    return true;
  });
}
