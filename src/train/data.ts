// Training data: JSONL rows with `text` (tokenized with the model folder's tokenizer) or `input_ids`,
// and `label` (one class per row) or `labels` (one class per row, or one per token for tagging).
// Batches are padded on the right; padded token labels are -100, which the loss ignores.
import { readFileSync } from 'node:fs';
import { InputError } from '../runtime/io.ts';
import type { Inputs, Tensor } from '../runtime/reference/interpret.ts';
import type { TextTokenizer } from '../tokenizer/index.ts';

export interface Example {
  readonly ids: readonly number[];
  /** A class per row, or one per token. */
  readonly label: number | readonly number[];
}

export const IGNORE_INDEX = -100;

const isIntList = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every(Number.isInteger);

function exampleOf(row: unknown, where: string, tokenizer: () => TextTokenizer): Example {
  if (typeof row !== 'object' || row === null) throw new InputError(`${where}: not a JSON object`);
  const o = row as Record<string, unknown>;
  const label = o.label ?? o.labels;
  if (!Number.isInteger(label) && !isIntList(label))
    throw new InputError(`${where}: 'label' must be an integer class (or 'labels' a list of them)`);
  if (isIntList(o.input_ids)) return { ids: o.input_ids, label: label as number | number[] };
  if (typeof o.text !== 'string') throw new InputError(`${where}: needs 'text' or 'input_ids'`);
  return { ids: tokenizer().encode([o.text]).input_ids[0], label: label as number | number[] };
}

/** Parses JSONL text; the tokenizer is loaded only when some row has text. */
export function parseJsonl(text: string, file: string, tokenizer: () => TextTokenizer): Example[] {
  let loaded: TextTokenizer | null = null;
  const lazy = () => {
    loaded ??= tokenizer();
    return loaded;
  };
  return text
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new InputError(`${file}:${n}: ${(e as Error).message}`);
      }
      return exampleOf(row, `${file}:${n}`, lazy);
    });
}

export function readJsonl(file: string, tokenizer: () => TextTokenizer): Example[] {
  const examples = parseJsonl(readFileSync(file, 'utf8'), file, tokenizer);
  if (examples.length === 0) throw new InputError(`${file}: no examples`);
  return examples;
}

export interface Batch {
  readonly inputs: Inputs;
  readonly labels: Tensor;
}

/** Pads a batch on the right with `padId`; per-token labels are padded with -100. */
export function collate(examples: readonly Example[], padId: number): Batch {
  const rows = examples.length;
  const width = Math.max(...examples.map((e) => e.ids.length));
  const ids = new Int32Array(rows * width).fill(padId);
  const mask = new Int32Array(rows * width);
  const perToken = Array.isArray(examples[0].label);
  const labels = new Int32Array(perToken ? rows * width : rows).fill(IGNORE_INDEX);
  examples.forEach((e, r) => {
    e.ids.forEach((id, t) => {
      ids[r * width + t] = id;
      mask[r * width + t] = 1;
    });
    if (Array.isArray(e.label) !== perToken) throw new InputError('mixed per-row and per-token labels');
    if (typeof e.label === 'number') labels[r] = e.label;
    else
      e.label.forEach((l, t) => {
        if (t < width) labels[r * width + t] = l;
      });
  });
  const matrix = (data: Int32Array): Tensor => ({ shape: [rows, width], data });
  return {
    inputs: {
      input_ids: matrix(ids),
      attention_mask: matrix(mask),
      token_type_ids: matrix(new Int32Array(rows * width)),
    },
    labels: perToken ? matrix(labels) : { shape: [rows], data: labels },
  };
}

/** A seeded Fisher–Yates permutation of 0..n-1. */
export function shuffledIndices(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Consecutive batches of `size` examples in the given order (the last one may be smaller). */
export function batchesOf<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
    items.slice(i * size, (i + 1) * size),
  );
}
