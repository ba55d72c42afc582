// Generated invalid compositions: the checker reports the right error at the right span.
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BlockType } from '../../src/dsl/ast.ts';
import { checkFile } from '../../src/dsl/check.ts';
import { ALLOWED_NESTINGS } from '../../src/dsl/composition.ts';
import { BLOCKS } from './arbitraries.ts';

const PROGRAM = join(import.meta.dirname, 'programs/generated.adapt');
const ADAPTERS = ['a', 'b', 'c', 'd', 'e'];
const HEADER = ['model "../../fixtures/bert12"', ...ADAPTERS.map((n) => `adapter ${n} = seq_bn`), ''].join(
  '\n',
);

/** A block with valid arguments around the given children. */
const blockText = (type: BlockType, children: readonly string[]): string => {
  const kwargs: Partial<Record<BlockType, string>> = { Split: 'splits', BatchSplit: 'batch_sizes' };
  const key = kwargs[type];
  return `${type}(${[...children, ...(key ? [`${key}: ${children.length}`] : [])].join(', ')})`;
};

const check = (setup: string) => {
  const source = `${HEADER}setup ${setup}\n`;
  return { result: checkFile(PROGRAM, { source }), offset: HEADER.length + 'setup '.length };
};

const DISALLOWED: readonly [BlockType, BlockType][] = BLOCKS.flatMap((parent) =>
  BLOCKS.filter((child) => !ALLOWED_NESTINGS[parent].includes(child)).map((child): [BlockType, BlockType] => [
    parent,
    child,
  ]),
);

const adapterArb = fc.constantFrom(...ADAPTERS);

describe('checker on generated invalid compositions', () => {
  it('reports every disallowed parent/child pair of the nesting table at the child', () => {
    expect(DISALLOWED.length).toBeGreaterThan(20);
    fc.assert(
      fc.property(
        fc.constantFrom(...DISALLOWED),
        fc.array(adapterArb, { maxLength: 2 }),
        fc.array(adapterArb, { minLength: 1, maxLength: 2 }),
        ([parent, child], before, inner) => {
          const prefix = `${parent}(${before.map((n) => `${n}, `).join('')}`;
          const { result, offset } = check(blockText(parent, [...before, blockText(child, inner)]));
          const nesting = result.diagnostics.filter((d) => d.code === 'nesting');
          expect(nesting.map((d) => [d.span.start, d.span.end])).toEqual([
            [offset + prefix.length, offset + prefix.length + child.length],
          ]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reports compositions nested too deep (below level 1 only Stack, and that Stack holds only adapters)', () => {
    // A chain top → allowed child → allowed child → ...; the first block that breaks the depth rule is reported.
    const chainArb = fc
      .tuple(fc.constantFrom(...BLOCKS), fc.array(fc.nat(), { minLength: 2, maxLength: 3 }))
      .map(([top, picks]) => {
        const chain: BlockType[] = [top];
        for (const pick of picks) {
          const allowed = ALLOWED_NESTINGS[chain[chain.length - 1]];
          chain.push(allowed[pick % allowed.length]);
        }
        return chain;
      });
    fc.assert(
      fc.property(chainArb, adapterArb, (chain, leaf) => {
        const text = chain.reduceRight((inner, type) => blockText(type, [inner]), leaf);
        const firstBad = chain.findIndex(
          (type, level) => level >= 2 && (type !== 'Stack' || chain[level - 1] === 'Stack'),
        );
        const { result, offset } = check(text);
        const depth = result.diagnostics.filter((d) => d.code === 'nesting-depth');
        if (firstBad < 0) {
          expect(depth).toEqual([]);
          return;
        }
        const start = offset + chain.slice(0, firstBad).reduce((n, type) => n + type.length + 1, 0);
        expect(depth[0]?.span.start).toBe(start);
      }),
      { numRuns: 150 },
    );
  });

  it('reports unknown adapter names where they are used, with a did-you-mean', () => {
    const unknownArb = fc
      .stringMatching(/^[a-z]{2,6}$/)
      .filter(
        (n) =>
          !ADAPTERS.includes(n) && !['head', 'drop', 'load', 'train', 'setup', 'model', 'store'].includes(n),
      );
    fc.assert(
      fc.property(
        fc.array(adapterArb, { maxLength: 3 }),
        unknownArb,
        fc.array(adapterArb, { maxLength: 3 }),
        (before, unknown, after) => {
          const prefix = `Stack(${before.map((n) => `${n}, `).join('')}`;
          const { result, offset } = check(`${prefix}${[unknown, ...after].join(', ')})`);
          const undefinedRefs = result.diagnostics.filter((d) => d.code === 'undefined-adapter');
          expect(undefinedRefs.map((d) => d.span.start)).toEqual([offset + prefix.length]);
          expect(result.program).toBeUndefined();
        },
      ),
      { numRuns: 100 },
    );
    const typo = check('Stack(a, bb)').result.diagnostics[0];
    expect(typo.hint).toBe('did you mean `b`?');
  });
});
