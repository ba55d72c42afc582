import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { format } from '../../src/dsl/format.ts';
import { parseText } from '../../src/dsl/parser.ts';
import { programArb, withoutSpans } from './arbitraries.ts';

const parseClean = (text: string) => {
  const result = parseText(text, 'gen.adapt');
  expect(result.diagnostics).toEqual([]);
  return result.program;
};

describe('format', () => {
  it('round-trips: parse(format(ast)) equals ast modulo spans', () => {
    fc.assert(
      fc.property(programArb, (program) => {
        const reparsed = parseClean(format(program));
        expect(withoutSpans(reparsed.statements)).toEqual(withoutSpans(program.statements));
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(programArb, (program) => {
        const once = format(program);
        expect(format(parseClean(once))).toBe(once);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps every comment, in order, wherever comments are put between and after lines', () => {
    const commentArb = fc.stringMatching(/^[^\n\r]{0,12}$/).map((text) => `# ${text}`.trimEnd());
    fc.assert(
      fc.property(
        programArb,
        fc.array(fc.tuple(fc.nat(), fc.boolean(), commentArb), { maxLength: 6 }),
        (program, placed) => {
          const lines = format(program).split('\n');
          for (const [at, sameLine, comment] of placed) {
            const i = at % lines.length;
            if (sameLine && lines[i] !== '') lines[i] = `${lines[i]}  ${comment}`;
            else lines.splice(i, 0, comment);
          }
          const withComments = parseClean(lines.join('\n'));
          const once = format(withComments);
          expect(parseClean(once).comments.map((c) => c.text)).toEqual(
            withComments.comments.map((c) => c.text),
          );
          expect(withoutSpans(parseClean(once).statements)).toEqual(withoutSpans(program.statements));
          expect(format(parseClean(once))).toBe(once);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps comments, in order, and blank lines between groups', () => {
    const source = [
      '# header',
      '',
      '',
      'model   "m"   # the model',
      '// about adapters',
      'adapter a = seq_bn( reduction_factor : 8 )',
      'setup Stack(a,',
      '  # inside',
      '  a) drop 0..2 , 5',
      '# trailing',
      '',
    ].join('\n');
    const once = format(parseText(source, 'x.adapt').program);
    expect(once).toBe(
      [
        '# header',
        '',
        'model "m"  # the model',
        '// about adapters',
        'adapter a = seq_bn(reduction_factor: 8)',
        '',
        '# inside',
        'setup Stack(a, a) drop 0..2, 5',
        '# trailing',
        '',
      ].join('\n'),
    );
    expect(format(parseText(once, 'x.adapt').program)).toBe(once);
  });

  it('formats the seed line canonically', () => {
    const text = readFileSync(join(import.meta.dirname, '../../examples/seed-fusion.adapt'), 'utf8');
    expect(format(parseText(text, 'seed.adapt').program)).toContain(
      'setup Stack(Fuse(multinli, qqp, qnli), head cb) drop 0..10\n',
    );
  });
});
