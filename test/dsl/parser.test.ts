import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseText } from '../../src/dsl/parser.ts';
import { withoutSpans } from './arbitraries.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');

describe('parser', () => {
  it('parses the seed line as written', () => {
    const { program, diagnostics } = parseText(
      'setup Stack(Fuse(multinli,qqp,qnli), head cb) drop 0..10',
      's.adapt',
    );
    expect(diagnostics).toEqual([]);
    const ref = (name: string) => ({ kind: 'adapter-ref', name: { kind: 'ident', name } });
    expect(withoutSpans(program.statements)).toEqual([
      {
        kind: 'setup',
        expr: {
          kind: 'block',
          type: 'Stack',
          children: [
            { kind: 'block', type: 'Fuse', children: [ref('multinli'), ref('qqp'), ref('qnli')], kwargs: [] },
            { kind: 'head-ref', name: { kind: 'ident', name: 'cb' } },
          ],
          kwargs: [],
        },
        drop: { items: [{ kind: 'range', from: 0, to: 10 }] },
      },
    ]);
  });

  it('parses every construct of the language', () => {
    const text = readFileSync(join(import.meta.dirname, 'programs/full.adapt'), 'utf8');
    const { program, diagnostics } = parseText(text, 'full.adapt');
    expect(diagnostics).toEqual([]);
    expect(program.statements.map((s) => s.kind)).toEqual([
      'include',
      'store',
      'adapter',
      'adapter',
      'adapter',
      'adapter',
      'adapter',
      'adapter',
      'adapter',
      'adapter',
      'fusion',
      'head',
      'head',
      'head',
      'head',
      'setup',
      'train',
    ]);
    const union = program.statements[8];
    expect(
      union.kind === 'adapter' && union.source.kind === 'new' && union.source.configs.map((c) => c.name.name),
    ).toEqual(['lora', 'prefix_tuning']);
    const train = program.statements[16];
    expect(train.kind === 'train' && [train.target, train.unfreezeAdapters, train.randomDrop?.to]).toEqual([
      'fusion',
      true,
      10,
    ]);
    expect(program.comments.map((c) => c.text)).toEqual([
      '# A program touching every construct; it must check clean.',
      '// trailing comment',
    ]);
  });

  it('parses block kwargs, drop lists and train forms', () => {
    const text = [
      'setup Average(a, b, weights: [0.3, 0.7], normalize_weights: false) drop 0, 2, 4',
      'train adapter Stack(a, b) drop random 0..10',
      'adapter without_head = load "sentiment/sst-2@ukp" without head',
    ].join('\n');
    const { program, diagnostics } = parseText(text, 'k.adapt');
    expect(diagnostics).toEqual([]);
    const [setup, train, adapter] = program.statements;
    expect(setup.kind === 'setup' && setup.drop?.items.map((i) => i.kind === 'layer' && i.index)).toEqual([
      0, 2, 4,
    ]);
    expect(train.kind === 'train' && train.target).toBe('adapter');
    expect(adapter.kind === 'adapter' && adapter.source.kind === 'load' && adapter.source.withHead).toBe(
      false,
    );
  });

  it('recovers: every broken statement is reported and the others still parse', () => {
    const text = [
      'model "m"',
      'garbage here',
      'adapter a = = seq_bn',
      'head h = classification(num_labels 3)',
      'adapter b = seq_bn',
      'setup Stack(b,',
    ].join('\n');
    const { program, diagnostics } = parseText(text, 'r.adapt');
    expect(diagnostics.map((d) => [d.code, d.span.line])).toEqual([
      ['syntax', 2],
      ['syntax', 3],
      ['syntax', 4],
      ['syntax', 6],
    ]);
    expect(program.statements.map((s) => s.kind)).toContain('adapter');
    expect(program.statements.some((s) => s.kind === 'adapter' && s.name.name === 'b')).toBe(true);
  });

  it('suggests the block a misspelt name was meant to be', () => {
    const [diagnostic] = parseText('setup Stak(a, b)', 'm.adapt').diagnostics;
    expect(diagnostic).toMatchObject({
      code: 'syntax',
      message: 'unknown block `Stak`',
      hint: 'did you mean `Stack`?',
    });
    expect([diagnostic.span.start, diagnostic.span.end]).toEqual([6, 10]);
  });

  it.each(readdirSync(EXAMPLES).filter((f) => f.endsWith('.adapt')))('examples/%s parses', (file) => {
    expect(parseText(readFileSync(join(EXAMPLES, file), 'utf8'), file).diagnostics).toEqual([]);
  });
});
