// Every non-ERR golden case on WebGPU (llvmpipe here), against the real library's numbers within atol = rtol = 1e-4.
// One device for the file, so pipelines and base weights are shared between cases as they would be in an app.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { GPU_SCHEDULES, LLVMPIPE_SCHEDULES, schedulesFor } from '../../src/codegen-wgsl/schedules.ts';
import { inputsFromJson, type OutputJson } from '../../src/runtime/io.ts';
import { loadModel } from '../../src/runtime/webgpu/load-node.ts';
import { ADAPT_DIR, compareCase, type GoldenCase, goldenInputJson, okCases } from '../golden/cases.ts';
import { useGpu } from '../webgpu/gpu.ts';

const gpu = useGpu();
const inputs = inputsFromJson(goldenInputJson);

function expectWithin(c: GoldenCase, outputs: Parameters<typeof compareCase>[1]): void {
  for (const r of compareCase(c, outputs)) {
    expect(
      r.excess,
      `${c.id}: ${r.what}: largest |got − want| − rtol·|want| (max abs error ${r.maxAbsError})`,
    ).toBeLessThanOrEqual(1e-4);
  }
}

describe('golden cases on WebGPU', () => {
  it('covers every .adapt file of test/golden', () => {
    const files = readdirSync(ADAPT_DIR).filter((f) => f.endsWith('.adapt') && f !== 'common.adapt');
    expect(files.map((f) => f.slice(0, -'.adapt'.length)).sort()).toEqual(okCases.map((c) => c.id).sort());
  });

  it.each(okCases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    const model = await loadModel(join(ADAPT_DIR, `${id}.adapt`), { device: gpu().acquired });
    try {
      expectWithin(c, (await model.run(inputs)).outputs);
    } finally {
      model.release();
    }
  });
});

describe('golden cases with the schedules chosen for hardware GPUs (run here on llvmpipe)', () => {
  it('picks schedules by adapter: llvmpipe’s for CPU rasterizers, the GPU set otherwise', () => {
    expect(schedulesFor(gpu().acquired.adapterInfo)).toBe(
      /llvmpipe/.test(gpu().acquired.adapterInfo.description) ? LLVMPIPE_SCHEDULES : GPU_SCHEDULES,
    );
    expect(schedulesFor({ description: 'NVIDIA H200' })).toBe(GPU_SCHEDULES);
    expect(schedulesFor({ description: 'SwiftShader Device (Subzero)' })).toBe(LLVMPIPE_SCHEDULES);
  });

  it.each(okCases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    const model = await loadModel(join(ADAPT_DIR, `${id}.adapt`), {
      device: gpu().acquired,
      schedules: GPU_SCHEDULES,
    });
    try {
      expectWithin(c, (await model.run(inputs)).outputs);
    } finally {
      model.release();
    }
  });
});

describe('adaptc run --backend webgpu', () => {
  const work = mkdtempSync(join(tmpdir(), 'adaptc-webgpu-golden-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes the golden outputs of parallel_seq_seq2', async () => {
    gpu();
    const inputFile = join(work, 'inputs.json');
    const outputFile = join(work, 'out.json');
    writeFileSync(inputFile, JSON.stringify(goldenInputJson));
    const code = await main([
      'run',
      join(ADAPT_DIR, 'parallel_seq_seq2.adapt'),
      '--input',
      inputFile,
      '--output',
      outputFile,
      '--backend',
      'webgpu',
    ]);
    expect(code).toBe(0);
    const out: OutputJson = JSON.parse(readFileSync(outputFile, 'utf8'));
    expect(out.backend).toBe('webgpu');
    const outputs = new Map([
      ['last_hidden_state', out.outputs.last_hidden_state],
      ['pooler_output', out.outputs.pooler_output],
      ...Object.entries(out.outputs.heads).map(([k, v]) => [`heads.${k}`, v] as const),
    ]);
    expectWithin(okCases.find((c) => c.id === 'parallel_seq_seq2')!, outputs);
  });
});
