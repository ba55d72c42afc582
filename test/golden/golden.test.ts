// The real library's numbers: every non-ERR case of ../shared/golden/cases.json, described by
// test/golden/<case id>.adapt and run through `adaptc run --backend reference`.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { OutputJson, TensorJson } from '../../src/runtime/io.ts';
import { ADAPT_DIR, compareCase, GOLDEN_DIR, type GoldenCase, goldenInputJson, okCases } from './cases.ts';

const work = mkdtempSync(join(tmpdir(), 'adaptc-golden-'));
const inputFile = join(work, 'inputs.json');
writeFileSync(inputFile, JSON.stringify(goldenInputJson));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** out.json's outputs by graph output name (`heads.NAME`, `fusion_attentions.KEY`). */
function byOutputName(out: OutputJson): Map<string, TensorJson> {
  const { last_hidden_state, pooler_output, heads, fusion_attentions } = out.outputs;
  return new Map([
    ['last_hidden_state', last_hidden_state],
    ['pooler_output', pooler_output],
    ...Object.entries(heads).map(([name, t]): [string, TensorJson] => [`heads.${name}`, t]),
    ...Object.entries(fusion_attentions ?? {}).map(([key, t]): [string, TensorJson] => [
      `fusion_attentions.${key}`,
      t,
    ]),
  ]);
}

async function runCase(adaptFile: string, c: GoldenCase): Promise<void> {
  const output = join(work, `${c.id}-${Math.random().toString(36).slice(2)}.json`);
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
  const out: OutputJson = JSON.parse(readFileSync(output, 'utf8'));
  for (const r of compareCase(c, byOutputName(out))) {
    expect(
      r.excess,
      `${r.what}: largest |got − want| − rtol·|want| (max abs error ${r.maxAbsError})`,
    ).toBeLessThanOrEqual(1e-4);
  }
}

describe('golden cases from adapters 1.1.0 (safetensors weights)', () => {
  it('has an .adapt file for every non-ERR case', () => {
    const files = readdirSync(ADAPT_DIR).filter((f) => f.endsWith('.adapt') && f !== 'common.adapt');
    expect(files.map((f) => f.slice(0, -'.adapt'.length)).sort()).toEqual(okCases.map((c) => c.id).sort());
  });
  it.each(okCases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    await runCase(join(ADAPT_DIR, `${id}.adapt`), c);
  });
});

describe('golden cases from the .bin (torch pickle) weights', () => {
  // A copy of the fixtures without safetensors files (the fusion and the model ship only those).
  const copy = join(work, 'bin');
  const shared = join(copy, 'shared', 'golden');
  mkdirSync(shared, { recursive: true });
  cpSync(GOLDEN_DIR, shared, {
    recursive: true,
    filter: (src) => !/(adapters|heads)\/[^/]+\/[^/]+\.safetensors$/.test(src),
  });
  const adaptDir = join(copy, 'main', 'test', 'golden');
  cpSync(ADAPT_DIR, adaptDir, {
    recursive: true,
    filter: (src) => src === ADAPT_DIR || src.endsWith('.adapt'),
  });
  it.each(okCases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    await runCase(join(adaptDir, `${id}.adapt`), c);
  });
});
