// The golden cases of ../shared/golden/cases.json (adapters 1.1.0), shared by the Node and browser runtime tests:
// inputs, expected outputs per case and the comparison rule of test/golden/golden.test.ts (atol = rtol = 1e-4).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const HERE = dirname(new URL(import.meta.url).pathname);
export const GOLDEN_DIR = resolve(HERE, '../../../shared/golden');
export const ADAPT_DIR = HERE;

export interface Expected {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

export interface GoldenCase {
  readonly id: string;
  readonly status: string;
  readonly active_head: string | null;
  readonly expected: {
    readonly last_hidden_state: Expected;
    readonly pooler_output: Expected;
    readonly logits?: Expected;
    readonly head_logits?: readonly Expected[];
    readonly adapter_fusion_attentions?: Readonly<Record<string, Expected>>;
  };
}

const cases = JSON.parse(readFileSync(join(GOLDEN_DIR, 'cases.json'), 'utf8'));

export const okCases: readonly GoldenCase[] = cases.cases.filter((c: GoldenCase) => c.status === 'ok');

export const goldenInputJson = {
  input_ids: cases.inputs.input_ids as number[][],
  attention_mask: cases.inputs.attention_mask as number[][],
};

/** The active heads in the order the library lists their logits. */
export function headNames(c: GoldenCase): string[] {
  return (c.active_head ?? '').match(/'([^']+)'/g)?.map((s) => s.slice(1, -1)) ?? [];
}

export interface Comparison {
  readonly what: string;
  /** Largest |got − want| − rtol·|want|; passing means ≤ 1e-4. */
  readonly excess: number;
  readonly maxAbsError: number;
}

function compare(
  what: string,
  got: { shape: readonly number[]; data: ArrayLike<number> } | undefined,
  want: Expected,
): Comparison {
  if (!got)
    return {
      what: `${what} missing`,
      excess: Number.POSITIVE_INFINITY,
      maxAbsError: Number.POSITIVE_INFINITY,
    };
  if (got.shape.join() !== want.shape.join()) {
    return {
      what: `${what} shape [${got.shape}] ≠ [${want.shape}]`,
      excess: Number.POSITIVE_INFINITY,
      maxAbsError: Number.POSITIVE_INFINITY,
    };
  }
  let excess = Number.NEGATIVE_INFINITY;
  let maxAbsError = 0;
  want.data.forEach((w, i) => {
    const error = Math.abs(got.data[i] - w);
    maxAbsError = Number.isNaN(error) ? Number.POSITIVE_INFINITY : Math.max(maxAbsError, error);
    excess = Math.max(excess, Number.isNaN(error) ? Number.POSITIVE_INFINITY : error - 1e-4 * Math.abs(w));
  });
  return { what, excess, maxAbsError };
}

/** Every expected tensor of the case against the outputs by graph output name. */
export function compareCase(
  c: GoldenCase,
  outputs: ReadonlyMap<string, { shape: readonly number[]; data: ArrayLike<number> }>,
): Comparison[] {
  const e = c.expected;
  const logits = e.logits ? [e.logits] : (e.head_logits ?? []);
  const heads = headNames(c);
  const extraHeads = [...outputs.keys()].filter((k) => k.startsWith('heads.') && !heads.includes(k.slice(6)));
  return [
    compare('last_hidden_state', outputs.get('last_hidden_state'), e.last_hidden_state),
    compare('pooler_output', outputs.get('pooler_output'), e.pooler_output),
    ...heads.map((h, i) => compare(`head ${h}`, outputs.get(`heads.${h}`), logits[i])),
    ...Object.entries(e.adapter_fusion_attentions ?? {}).map(([key, want]) =>
      compare(`fusion attention ${key}`, outputs.get(`fusion_attentions.${key}`), want),
    ),
    ...extraHeads.map((k) => ({
      what: `unexpected output ${k}`,
      excess: Number.POSITIVE_INFINITY,
      maxAbsError: 0,
    })),
  ];
}

/** One record of cases.json `gradients`: a training call's loss and gradients on the golden inputs. */
export interface GradientRecord {
  readonly labels: readonly number[];
  readonly loss: number;
  readonly grads: Readonly<Record<string, Expected>>;
  readonly trainable_params_without_grad: readonly string[];
}

/** The gradient records with the .adapt file (test/golden/train/) that trains the same set. */
export const gradientCases: readonly (readonly [call: string, file: string, record: GradientRecord])[] = [
  ["train_adapter('seq')", 'train_adapter_seq.adapt'],
  ["train_adapter_fusion(Fuse('seq', 'seq2', 'seq3'))", 'train_fusion_seq_seq2_seq3.adapt'],
].map(([call, file]) => [call, join(HERE, 'train', file), cases.gradients[call]] as const);

/** Largest |got − want| − rtol·|want| over a tensor (≤ atol passes). */
export function excess(got: ArrayLike<number>, want: readonly number[], rtol: number): number {
  return want.reduce((worst, w, i) => Math.max(worst, Math.abs(got[i] - w) - rtol * Math.abs(w)), 0);
}
