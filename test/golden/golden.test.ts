// The real library's numbers: every non-ERR case of ../shared/golden/cases.json, described by
// test/golden/<case id>.adapt and run through `adaptc run --backend reference`.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { OutputJson, TensorJson } from '../../src/runtime/io.ts';

const HERE = dirname(new URL(import.meta.url).pathname);
const GOLDEN = resolve(HERE, '../../../shared/golden');

interface Expected {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}
interface GoldenCase {
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

const cases = JSON.parse(readFileSync(join(GOLDEN, 'cases.json'), 'utf8'));
const okCases: GoldenCase[] = cases.cases.filter((c: GoldenCase) => c.status === 'ok');
const work = mkdtempSync(join(tmpdir(), 'adaptc-golden-'));
const inputFile = join(work, 'inputs.json');
writeFileSync(
  inputFile,
  JSON.stringify({ input_ids: cases.inputs.input_ids, attention_mask: cases.inputs.attention_mask }),
);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The active heads in the order the library lists their logits. */
function headNames(c: GoldenCase): string[] {
  return (c.active_head ?? '').match(/'([^']+)'/g)?.map((s) => s.slice(1, -1)) ?? [];
}

function expectClose(what: string, got: TensorJson | undefined, want: Expected): void {
  expect(got, `${what} missing`).toBeDefined();
  expect(got!.shape, `${what} shape`).toEqual(want.shape);
  let worst = 0;
  want.data.forEach((w, i) => {
    worst = Math.max(worst, Math.abs(got!.data[i] - w) - 1e-4 * Math.abs(w));
  });
  expect(worst, `${what}: largest |got − want| − rtol·|want|`).toBeLessThanOrEqual(1e-4);
}

async function runCase(adaptFile: string, id: string): Promise<OutputJson> {
  const output = join(work, `${id}-${Math.random().toString(36).slice(2)}.json`);
  const code = await main([
    'run',
    adaptFile,
    '--input',
    inputFile,
    '--output',
    output,
    '--backend',
    'reference',
  ]);
  expect(code, `adaptc run ${adaptFile}`).toBe(0);
  return JSON.parse(readFileSync(output, 'utf8'));
}

function checkOutputs(c: GoldenCase, out: OutputJson): void {
  const e = c.expected;
  expectClose('last_hidden_state', out.outputs.last_hidden_state, e.last_hidden_state);
  expectClose('pooler_output', out.outputs.pooler_output, e.pooler_output);
  const heads = headNames(c);
  const logits = e.logits ? [e.logits] : (e.head_logits ?? []);
  expect(Object.keys(out.outputs.heads).sort()).toEqual([...heads].sort());
  for (const [i, h] of heads.entries()) expectClose(`head ${h}`, out.outputs.heads[h], logits[i]);
  for (const [key, want] of Object.entries(e.adapter_fusion_attentions ?? {})) {
    expectClose(`fusion attention ${key}`, out.outputs.fusion_attentions?.[key], want);
  }
}

describe('golden cases from adapters 1.1.0 (safetensors weights)', () => {
  it('has an .adapt file for every non-ERR case', () => {
    const files = readdirSync(HERE).filter((f) => f.endsWith('.adapt') && f !== 'common.adapt');
    expect(files.map((f) => f.slice(0, -'.adapt'.length)).sort()).toEqual(okCases.map((c) => c.id).sort());
  });
  it.each(okCases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    checkOutputs(c, await runCase(join(HERE, `${id}.adapt`), id));
  });
});

describe('golden cases from the .bin (torch pickle) weights', () => {
  // A copy of the fixtures without safetensors files (the fusion and the model ship only those).
  const copy = join(work, 'bin');
  const shared = join(copy, 'shared', 'golden');
  mkdirSync(shared, { recursive: true });
  cpSync(GOLDEN, shared, {
    recursive: true,
    filter: (src) => !/(adapters|heads)\/[^/]+\/[^/]+\.safetensors$/.test(src),
  });
  const adaptDir = join(copy, 'main', 'test', 'golden');
  cpSync(HERE, adaptDir, { recursive: true, filter: (src) => src === HERE || src.endsWith('.adapt') });
  it.each(okCases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    checkOutputs(c, await runCase(join(adaptDir, `${id}.adapt`), id));
  });
});
