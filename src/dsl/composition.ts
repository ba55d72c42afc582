// Composition expressions: the library's nesting table, leaf helpers, and the translation of a checked
// setup expression into AdapterHub's Composition tree and head setup (semantics §1.1, §1.2, §5.2).
import type { BlockType, Expr, KeyValue, Value } from './ast.ts';
import type { Composition, HeadSetup } from './checked.ts';

type Block = Extract<Expr, { kind: 'block' }>;

/** ALLOWED_NESTINGS of the library's code (composition.py); adapter names are allowed everywhere. */
export const ALLOWED_NESTINGS: Readonly<Record<BlockType, readonly BlockType[]>> = {
  Stack: ['Fuse', 'Split', 'Parallel', 'BatchSplit', 'Average', 'MultiTask'],
  Fuse: ['Stack'],
  Split: ['Split', 'Stack', 'BatchSplit', 'Average'],
  Parallel: ['Stack', 'BatchSplit', 'Average'],
  BatchSplit: ['Stack', 'Split', 'BatchSplit', 'Average'],
  Average: ['Stack', 'Split', 'BatchSplit'],
  MultiTask: ['Stack', 'Average', 'Fuse'],
};

/** Children that are adapters or blocks (a trailing `head X` of a Stack is not a composition child). */
export const compositionChildren = (block: Block): readonly Expr[] =>
  block.children.filter((c) => c.kind !== 'head-ref');

/** The right-most adapter name (the library's last()); null when there is none. */
export function lastAdapter(expr: Expr): string | null {
  if (expr.kind === 'adapter-ref') return expr.name.name;
  if (expr.kind === 'head-ref') return null;
  const children = compositionChildren(expr);
  return children.length === 0 ? null : lastAdapter(children[children.length - 1]);
}

/** The library's name for a Fuse: children names, or their last() for nested Stacks, joined by ','. */
export const fuseName = (block: Block): string =>
  compositionChildren(block)
    .map((c) => lastAdapter(c) ?? '?')
    .join(',');

/** Every adapter reference in an expression, with the blocks above it (outermost first). */
export function adapterLeaves(
  expr: Expr,
  ancestors: readonly Block[] = [],
): { readonly ref: Extract<Expr, { kind: 'adapter-ref' }>; readonly ancestors: readonly Block[] }[] {
  if (expr.kind === 'adapter-ref') return [{ ref: expr, ancestors }];
  if (expr.kind === 'head-ref') return [];
  return expr.children.flatMap((child) => adapterLeaves(child, [...ancestors, expr]));
}

/** Every block of an expression with its nesting level (the top block is level 0) and parent. */
/** `Stack(x, head h)`: a Stack that only attaches a head to its one child, which it stands for. */
export const isHeadAnnotation = (block: Block): boolean =>
  block.type === 'Stack' && compositionChildren(block).length === 1 && explicitHead(block) !== null;

/** Blocks as the composition nests them: head annotations are transparent (they add no level). */
export function compositionBlocksOf(
  expr: Expr,
  level = 0,
  parent: Block | null = null,
): { block: Block; level: number; parent: Block | null }[] {
  if (expr.kind !== 'block') return [];
  if (isHeadAnnotation(expr)) return compositionBlocksOf(compositionChildren(expr)[0], level, parent);
  return [
    { block: expr, level, parent },
    ...expr.children.flatMap((c) => compositionBlocksOf(c, level + 1, expr)),
  ];
}

export function blocksOf(
  expr: Expr,
  level = 0,
  parent: Block | null = null,
): { block: Block; level: number; parent: Block | null }[] {
  if (expr.kind !== 'block') return [];
  return [{ block: expr, level, parent }, ...expr.children.flatMap((c) => blocksOf(c, level + 1, expr))];
}

export function valueToJs(value: Value): unknown {
  switch (value.kind) {
    case 'number':
    case 'string':
    case 'bool':
    case 'word':
      return value.value;
    case 'null':
      return null;
    case 'list':
      return value.items.map(valueToJs);
    case 'map':
      return Object.fromEntries(value.entries.map((e) => [e.key.name, valueToJs(e.value)]));
  }
}

export const kwargsToJs = (kwargs: readonly KeyValue[]): Record<string, unknown> =>
  Object.fromEntries(kwargs.map((kv) => [kv.key.name, valueToJs(kv.value)]));

/** `splits: 4` means 4 for every child, as in the library. */
const expandSizes = (value: unknown, count: number): number[] =>
  typeof value === 'number' ? Array.from({ length: count }, () => value) : (value as number[]);

/** Average weights as the library stores them: default 1/N each, divided by their sum when normalizing. */
export function averageWeights(kwargs: Readonly<Record<string, unknown>>, count: number): number[] {
  const given = kwargs.weights as number[] | undefined;
  if (!given) return Array.from({ length: count }, () => 1 / count);
  if (kwargs.normalize_weights === false) return [...given];
  const sum = given.reduce((a, b) => a + b, 0);
  return given.map((w) => w / sum);
}

/** Translates a checked expression (a head-ref alone gives null). */
export function toComposition(expr: Expr, top = true): Composition | null {
  if (expr.kind === 'head-ref') return null;
  if (expr.kind === 'adapter-ref')
    return top ? { type: 'Stack', children: [expr.name.name] } : expr.name.name;
  const own = compositionChildren(expr);
  // `Stack(x, head h)` only attaches a head: it is `x`, adding no nesting level (a nested Stack
  // would re-run the pre-LayerNorm of its first bottleneck adapter in the library).
  if (isHeadAnnotation(expr)) return toComposition(own[0], top);
  const children = own.flatMap((c) => {
    const sub = toComposition(c, false);
    return sub === null ? [] : [sub];
  });
  const kwargs = kwargsToJs(expr.kwargs);
  switch (expr.type) {
    case 'Split':
      return { type: 'Split', children, splits: expandSizes(kwargs.splits, children.length) };
    case 'BatchSplit':
      return { type: 'BatchSplit', children, batch_sizes: expandSizes(kwargs.batch_sizes, children.length) };
    case 'Average':
      return { type: 'Average', children, weights: averageWeights(kwargs, children.length) };
    default:
      return { type: expr.type, children };
  }
}

/** A head given in the expression: the whole setup `head X`, or the last child of a Stack. */
function explicitHead(expr: Expr): string | null {
  if (expr.kind === 'head-ref') return expr.name.name;
  if (expr.kind === 'block' && expr.type === 'Stack') {
    const last = expr.children[expr.children.length - 1];
    return last?.kind === 'head-ref' ? last.name.name : null;
  }
  return null;
}

/** One Parallel/BatchSplit channel's head: its explicit head, else a head named like its last() adapter. */
const channelHead = (child: Expr, heads: ReadonlySet<string>): string | null => {
  const explicit = explicitHead(child);
  if (explicit) return explicit;
  const last = lastAdapter(child);
  return last !== null && heads.has(last) ? last : null;
};

export type HeadInference =
  | { readonly ok: true; readonly headSetup: HeadSetup }
  /** Some channels of a Parallel/BatchSplit have a head and others do not. */
  | { readonly ok: false; readonly block: Block; readonly missing: readonly number[] };

/** Head inference like parse_heads_from_composition, with explicit `head X` taking precedence. */
export function inferHeads(expr: Expr, heads: ReadonlySet<string>): HeadInference {
  const explicit = explicitHead(expr);
  if (explicit) return { ok: true, headSetup: { kind: 'single', head: explicit } };
  if (expr.kind === 'adapter-ref')
    return {
      ok: true,
      headSetup: heads.has(expr.name.name) ? { kind: 'single', head: expr.name.name } : null,
    };
  if (expr.kind !== 'block') return { ok: true, headSetup: null };
  const children = compositionChildren(expr);
  if (expr.type === 'Stack')
    return children.length === 0
      ? { ok: true, headSetup: null }
      : inferHeads(children[children.length - 1], heads);
  if (expr.type !== 'Parallel' && expr.type !== 'BatchSplit') return { ok: true, headSetup: null };
  const channels = children.map((c) => channelHead(c, heads));
  const missing = channels.flatMap((h, i) => (h === null ? [i] : []));
  if (missing.length === channels.length) return { ok: true, headSetup: null };
  if (missing.length > 0) return { ok: false, block: expr, missing };
  const names = channels as string[];
  if (expr.type === 'Parallel') return { ok: true, headSetup: { kind: 'parallel', heads: names } };
  const batchSizes = expandSizes(kwargsToJs(expr.kwargs).batch_sizes, children.length);
  return { ok: true, headSetup: { kind: 'batch-split', heads: names, batch_sizes: batchSizes } };
}

/** AdapterDrop layers: inclusive ranges expanded, sorted, without repeats. */
export const expandLayers = (
  items: readonly ({ kind: 'layer'; index: number } | { kind: 'range'; from: number; to: number })[],
): number[] =>
  [
    ...new Set(
      items.flatMap((item) =>
        item.kind === 'layer'
          ? [item.index]
          : Array.from({ length: Math.max(0, item.to - item.from + 1) }, (_, i) => item.from + i),
      ),
    ),
  ].sort((a, b) => a - b);
