// The front end on arbitrary text and on byte-level mutations of valid files: it returns diagnostics,
// never throws, and stays within 50 ms per KB.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/dsl/check.ts';
import { format } from '../../src/dsl/format.ts';
import { parseText } from '../../src/dsl/parser.ts';

const PROGRAM = join(import.meta.dirname, 'programs/generated.adapt');
const VALID = [
  ...readdirSync(join(import.meta.dirname, 'programs')).map((f) => join(import.meta.dirname, 'programs', f)),
  ...readdirSync(join(import.meta.dirname, '../../examples'))
    .filter((f) => f.endsWith('.adapt'))
    .map((f) => join(import.meta.dirname, '../../examples', f)),
].map((path) => readFileSync(path, 'utf8'));

const MS_PER_KB = 50;
/** Inputs are charged at least 1 KB: fixed costs (stat calls, reading config.json) dominate tiny inputs. */
const FLOOR_MS = MS_PER_KB;

/** Runs the whole front end (parse, check, and format when it parsed) and times it. */
function frontEnd(text: string): number {
  const started = performance.now();
  const result = checkFile(PROGRAM, { source: text });
  expect(Array.isArray(result.diagnostics)).toBe(true);
  const parsed = parseText(text, PROGRAM);
  if (parsed.diagnostics.length === 0) format(parsed.program);
  return performance.now() - started;
}

const budget = (text: string): number => Math.max(FLOOR_MS, (MS_PER_KB * Buffer.byteLength(text)) / 1024);

/**
 * Checks the time of a whole property run against the summed budgets, so that one slow run on a busy
 * machine (GC, another test's subprocess) does not fail it; a single run may use at most 20 budgets.
 */
function timed(property: (check: (text: string) => void) => void): void {
  let spent = 0;
  let allowed = 0;
  property((text) => {
    const ms = frontEnd(text);
    expect(ms).toBeLessThan(20 * budget(text));
    spent += ms;
    allowed += budget(text);
  });
  expect(spent).toBeLessThan(allowed);
}

/** Byte-level edits: insert, delete or replace a byte; decoded as UTF-8 like a damaged file would be. */
const mutationArb = fc.record({
  base: fc.constantFrom(...VALID),
  edits: fc.array(
    fc.record({ at: fc.nat(), kind: fc.constantFrom('insert', 'delete', 'replace'), byte: fc.nat(255) }),
    { minLength: 1, maxLength: 8 },
  ),
});

const mutate = (base: string, edits: readonly { at: number; kind: string; byte: number }[]): string => {
  const bytes = edits.reduce<number[]>(
    (acc, { at, kind, byte }) => {
      const i = acc.length === 0 ? 0 : at % acc.length;
      if (kind === 'insert') return [...acc.slice(0, i), byte, ...acc.slice(i)];
      if (kind === 'delete') return [...acc.slice(0, i), ...acc.slice(i + 1)];
      return [...acc.slice(0, i), byte, ...acc.slice(i + 1)];
    },
    [...Buffer.from(base, 'utf8')],
  );
  return Buffer.from(bytes).toString('utf8');
};

describe('front end robustness', () => {
  frontEnd(VALID[0]);

  it('never throws on arbitrary strings', () => {
    timed((check) =>
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 })),
          check,
        ),
        { numRuns: 300 },
      ),
    );
  });

  it('never throws on byte-level mutations of valid files', () => {
    timed((check) =>
      fc.assert(
        fc.property(mutationArb, ({ base, edits }) => check(mutate(base, edits))),
        { numRuns: 300 },
      ),
    );
  });

  it('formats every mutated file that still parses idempotently, keeping its comments', () => {
    fc.assert(
      fc.property(mutationArb, ({ base, edits }) => {
        const parsed = parseText(mutate(base, edits), PROGRAM);
        if (parsed.diagnostics.length > 0) return;
        const once = format(parsed.program);
        const reparsed = parseText(once, PROGRAM);
        expect(reparsed.diagnostics).toEqual([]);
        expect(reparsed.program.comments.map((c) => c.text)).toEqual(
          parsed.program.comments.map((c) => c.text),
        );
        expect(format(reparsed.program)).toBe(once);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on token soup made of the language’s own words', () => {
    const wordArb = fc.constantFrom(
      'model',
      'store',
      'include',
      'adapter',
      'fusion',
      'head',
      'setup',
      'train',
      'load',
      'without',
      'drop',
      'random',
      'unfreeze',
      'adapters',
      'Stack',
      'Fuse',
      'Split',
      'BatchSplit',
      'Parallel',
      'Average',
      'MultiTask',
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      ',',
      ':',
      '=',
      '|',
      '..',
      '"x"',
      '"../../fixtures/bert12"',
      '3',
      '-1',
      '0.5',
      'a',
      'seq_bn',
      'lora',
      'true',
      'null',
      '\n',
      '#c\n',
    );
    timed((check) =>
      fc.assert(
        fc.property(fc.array(wordArb, { maxLength: 120 }), (words) => check(words.join(' '))),
        { numRuns: 300 },
      ),
    );
  });

  it('stays within 50 ms per KB on a large file', () => {
    const big = Array.from(
      { length: 400 },
      (_, i) => `adapter a${i} = seq_bn(reduction_factor: ${i + 1}) # ${i}`,
    ).join('\n');
    const text = `model "../../fixtures/bert12"\n${big}\nsetup Stack(${Array.from({ length: 50 }, (_, i) => `a${i}`).join(', ')})\n`;
    expect(frontEnd(text)).toBeLessThan(budget(text));
  });
});
