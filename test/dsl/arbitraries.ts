// fast-check generators of .adapt ASTs (spans are placeholders) and helpers to compare ASTs modulo spans.
import fc from 'fast-check';
import type {
  AdapterSource,
  BlockType,
  ConfigCall,
  Expr,
  Ident,
  KeyValue,
  LayerSet,
  Program,
  Span,
  Statement,
  Value,
} from '../../src/dsl/ast.ts';
import { isPlainName } from '../../src/dsl/format.ts';

const SPAN: Span = { file: 'gen.adapt', start: 0, end: 0, line: 1, column: 1 };

export const nameArb = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).filter(isPlainName);
const identArb: fc.Arbitrary<Ident> = nameArb.map((name) => ({ kind: 'ident', name, span: SPAN }));
const textArb = fc.string({ maxLength: 12 });

const numberArb: fc.Arbitrary<Value> = fc
  .tuple(fc.integer({ min: -999, max: 999 }), fc.option(fc.integer({ min: 0, max: 99 }), { nil: undefined }))
  .map(([whole, fraction]) => {
    const text = fraction === undefined ? String(whole) : `${whole}.${fraction}`;
    return { kind: 'number', value: Number(text), text, span: SPAN };
  });

const keyArb: fc.Arbitrary<Ident> = fc.oneof(
  identArb,
  textArb.map((name) => ({ kind: 'ident' as const, name, span: SPAN })),
);

const { value: valueArb } = fc.letrec<{ value: Value; keyValue: KeyValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberArb,
    textArb.map((value): Value => ({ kind: 'string', value, span: SPAN })),
    fc.boolean().map((value): Value => ({ kind: 'bool', value, span: SPAN })),
    fc.constant<Value>({ kind: 'null', span: SPAN }),
    nameArb.map((value): Value => ({ kind: 'word', value, span: SPAN })),
    fc.array(tie('value'), { maxLength: 3 }).map((items): Value => ({ kind: 'list', items, span: SPAN })),
    fc
      .array(tie('keyValue'), { maxLength: 3 })
      .map((entries): Value => ({ kind: 'map', entries, span: SPAN })),
  ),
  keyValue: fc.record({ key: keyArb, value: tie('value'), span: fc.constant(SPAN) }),
}));

const argArb: fc.Arbitrary<KeyValue> = fc.record({ key: identArb, value: valueArb, span: fc.constant(SPAN) });

const callArb: fc.Arbitrary<ConfigCall> = fc.record({
  kind: fc.constant('config-call' as const),
  name: identArb,
  args: fc.array(argArb, { maxLength: 3 }),
  span: fc.constant(SPAN),
});

const adapterSourceArb: fc.Arbitrary<AdapterSource> = fc.oneof(
  fc.record({
    kind: fc.constant('load' as const),
    ref: textArb,
    withHead: fc.boolean(),
    span: fc.constant(SPAN),
  }),
  fc.record({
    kind: fc.constant('new' as const),
    configs: fc.array(callArb, { minLength: 1, maxLength: 3 }),
    span: fc.constant(SPAN),
  }),
  fc.record({ kind: fc.constant('config-string' as const), text: textArb, span: fc.constant(SPAN) }),
);

const loadOrNewArb = fc.oneof(
  fc.record({ kind: fc.constant('load' as const), ref: textArb, span: fc.constant(SPAN) }),
  fc.record({ kind: fc.constant('new' as const), config: callArb, span: fc.constant(SPAN) }),
);

export const BLOCKS: readonly BlockType[] = [
  'Stack',
  'Fuse',
  'Split',
  'BatchSplit',
  'Parallel',
  'Average',
  'MultiTask',
];

const { expr: exprArb } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    identArb.map((name): Expr => ({ kind: 'adapter-ref', name, span: SPAN })),
    identArb.map((name): Expr => ({ kind: 'head-ref', name, span: SPAN })),
    fc
      .record({
        type: fc.constantFrom(...BLOCKS),
        children: fc.array(tie('expr'), { maxLength: 3 }),
        kwargs: fc.array(argArb, { maxLength: 2 }),
      })
      .map(
        ({ type, children, kwargs }): Expr => ({
          kind: 'block',
          type,
          typeSpan: SPAN,
          children,
          kwargs,
          span: SPAN,
        }),
      ),
  ),
}));

const layerArb = fc.nat(99);
const layerSetArb: fc.Arbitrary<LayerSet> = fc
  .array(
    fc.oneof(
      layerArb.map((index) => ({ kind: 'layer' as const, index, span: SPAN })),
      fc.tuple(layerArb, layerArb).map(([from, to]) => ({ kind: 'range' as const, from, to, span: SPAN })),
    ),
    { minLength: 1, maxLength: 3 },
  )
  .map((items) => ({ items, span: SPAN }));

const statementArb: fc.Arbitrary<Statement> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('model' as const, 'store' as const, 'include' as const),
    path: textArb,
    span: fc.constant(SPAN),
  }),
  fc.record({
    kind: fc.constant('adapter' as const),
    name: identArb,
    source: adapterSourceArb,
    span: fc.constant(SPAN),
  }),
  fc.record({
    kind: fc.constant('head' as const),
    name: identArb,
    source: loadOrNewArb,
    span: fc.constant(SPAN),
  }),
  fc.record({
    kind: fc.constant('fusion' as const),
    adapters: fc.array(identArb, { minLength: 1, maxLength: 3 }),
    source: loadOrNewArb,
    span: fc.constant(SPAN),
  }),
  fc.record({
    kind: fc.constant('setup' as const),
    expr: exprArb,
    drop: fc.option(layerSetArb, { nil: null }),
    span: fc.constant(SPAN),
  }),
  fc.record({
    kind: fc.constant('train' as const),
    target: fc.constantFrom('adapter' as const, 'fusion' as const),
    expr: exprArb,
    unfreezeAdapters: fc.boolean(),
    randomDrop: fc.option(fc.record({ from: layerArb, to: layerArb, span: fc.constant(SPAN) }), {
      nil: null,
    }),
    span: fc.constant(SPAN),
  }),
  fc.record({
    kind: fc.constant('merge' as const),
    names: fc.array(identArb, { minLength: 1, maxLength: 3 }),
    span: fc.constant(SPAN),
  }),
);

export const programArb: fc.Arbitrary<Program> = fc
  .array(statementArb, { maxLength: 8 })
  .map((statements) => ({ file: 'gen.adapt', statements, comments: [] }));

/** The AST without positions: what must survive a format/parse round trip. */
export function withoutSpans(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSpans);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== 'span' && key !== 'typeSpan' && key !== 'source' && key !== 'file')
      .map(([key, v]) => [key, withoutSpans(v)]),
  );
}
