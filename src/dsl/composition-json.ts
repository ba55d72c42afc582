// AdapterHub's composition JSON (to_dict / adapter_setup.json): blocks are
// {"type": "Stack", "children": [...], "kwargs": {...}}, leaves {"type": "single", "children": ["name"]}.
import { isRecord } from '../config/index.ts';
import type { Composition, HeadSetup } from './checked.ts';

export type CompositionJson =
  | { readonly type: 'single'; readonly children: readonly [string] }
  | {
      readonly type: string;
      readonly children: readonly CompositionJson[];
      readonly kwargs: Readonly<Record<string, unknown>>;
    };

export function compositionToJson(composition: Composition): CompositionJson {
  if (typeof composition === 'string') return { type: 'single', children: [composition] };
  const children = composition.children.map(compositionToJson);
  switch (composition.type) {
    case 'Split':
      return { type: 'Split', children, kwargs: { splits: [...composition.splits] } };
    case 'BatchSplit':
      return { type: 'BatchSplit', children, kwargs: { batch_sizes: [...composition.batch_sizes] } };
    case 'Average':
      return { type: 'Average', children, kwargs: { weights: [...composition.weights] } };
    default:
      return { type: composition.type, children, kwargs: {} };
  }
}

export type JsonResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

const BLOCKS = new Set(['Stack', 'Fuse', 'Split', 'BatchSplit', 'Parallel', 'Average', 'MultiTask']);

const numberList = (v: unknown, count: number): number[] | null => {
  const list = typeof v === 'number' ? Array.from({ length: count }, () => v) : v;
  return Array.isArray(list) && list.every((x) => typeof x === 'number') ? (list as number[]) : null;
};

/** Reads composition JSON; a bare string (as older files hold) is an adapter name. */
export function compositionFromJson(json: unknown, path = '$'): JsonResult<Composition> {
  if (typeof json === 'string') return { ok: true, value: json };
  if (!isRecord(json) || typeof json.type !== 'string' || !Array.isArray(json.children))
    return { ok: false, error: `${path}: expected {"type": ..., "children": [...]}` };
  if (json.type === 'single') {
    const [name] = json.children;
    return json.children.length === 1 && typeof name === 'string'
      ? { ok: true, value: name }
      : { ok: false, error: `${path}: a "single" leaf holds exactly one adapter name` };
  }
  if (!BLOCKS.has(json.type))
    return { ok: false, error: `${path}: unknown block type ${JSON.stringify(json.type)}` };
  const children: Composition[] = [];
  for (const [i, child] of json.children.entries()) {
    const parsed = compositionFromJson(child, `${path}.children[${i}]`);
    if (!parsed.ok) return parsed;
    children.push(parsed.value);
  }
  const kwargs = isRecord(json.kwargs) ? json.kwargs : {};
  const sizes = (key: string): JsonResult<number[]> => {
    const list = numberList(kwargs[key], children.length);
    return list
      ? { ok: true, value: list }
      : { ok: false, error: `${path}.kwargs.${key}: expected a number or a list of numbers` };
  };
  switch (json.type) {
    case 'Split': {
      const splits = sizes('splits');
      return splits.ok ? { ok: true, value: { type: 'Split', children, splits: splits.value } } : splits;
    }
    case 'BatchSplit': {
      const batchSizes = sizes('batch_sizes');
      return batchSizes.ok
        ? { ok: true, value: { type: 'BatchSplit', children, batch_sizes: batchSizes.value } }
        : batchSizes;
    }
    case 'Average': {
      const weights =
        kwargs.weights === undefined || kwargs.weights === null
          ? { ok: true as const, value: children.map(() => 1 / children.length) }
          : sizes('weights');
      return weights.ok
        ? { ok: true, value: { type: 'Average', children, weights: weights.value } }
        : weights;
    }
    default:
      return {
        ok: true,
        value: { type: json.type as 'Stack' | 'Fuse' | 'Parallel' | 'MultiTask', children },
      };
  }
}

/** head_setup as save_adapter_setup writes it: a name, a list (Parallel), or a BatchSplit dict. */
export function headSetupToJson(headSetup: HeadSetup): unknown {
  if (headSetup === null) return null;
  switch (headSetup.kind) {
    case 'single':
      return headSetup.head;
    case 'parallel':
      return [...headSetup.heads];
    case 'batch-split':
      return compositionToJson({
        type: 'BatchSplit',
        children: headSetup.heads,
        batch_sizes: headSetup.batch_sizes,
      });
  }
}

export function headSetupFromJson(json: unknown): JsonResult<HeadSetup> {
  if (json === null || json === undefined) return { ok: true, value: null };
  if (typeof json === 'string') return { ok: true, value: { kind: 'single', head: json } };
  if (Array.isArray(json) && json.every((h) => typeof h === 'string'))
    return { ok: true, value: { kind: 'parallel', heads: json } };
  const parsed = compositionFromJson(json, 'head_setup');
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (typeof value === 'string') return { ok: true, value: { kind: 'single', head: value } };
  const names = value.children.every((c) => typeof c === 'string') ? (value.children as string[]) : null;
  if (names && value.type === 'BatchSplit')
    return { ok: true, value: { kind: 'batch-split', heads: names, batch_sizes: value.batch_sizes } };
  if (names && value.type === 'Parallel') return { ok: true, value: { kind: 'parallel', heads: names } };
  if (names && value.type === 'Stack' && names.length === 1)
    return { ok: true, value: { kind: 'single', head: names[0] } };
  return { ok: false, error: 'head_setup: expected a head name, a list of names, or BatchSplit of names' };
}

/** adapter_setup.json: {"adapter_setup": ..., "head_setup": ..., "version": ...}. */
export function adapterSetupToJson(
  setup: Composition,
  headSetup: HeadSetup,
  version = 'adapters.1.1.0',
): Record<string, unknown> {
  return { adapter_setup: compositionToJson(setup), head_setup: headSetupToJson(headSetup), version };
}

export function adapterSetupFromJson(
  json: unknown,
): JsonResult<{ setup: Composition; headSetup: HeadSetup }> {
  if (!isRecord(json)) return { ok: false, error: 'adapter_setup.json must hold a JSON object' };
  const setup = compositionFromJson(json.adapter_setup, 'adapter_setup');
  if (!setup.ok) return setup;
  const heads = headSetupFromJson(json.head_setup);
  return heads.ok ? { ok: true, value: { setup: setup.value, headSetup: heads.value } } : heads;
}
