// File snapshots of representative emitted WGSL: review changes to generated code like any other diff
// (`npx vitest run test/webgpu/wgsl-snapshots.test.ts --update` to accept).

import { describe, expect, it } from 'vitest';
import { attentionSoftmaxKernel } from '../../src/codegen-wgsl/attention-softmax.ts';
import { embeddingKernel } from '../../src/codegen-wgsl/embedding.ts';
import { fusionAttentionKernel } from '../../src/codegen-wgsl/fusion-attention.ts';
import type { WgslKernel } from '../../src/codegen-wgsl/kernel.ts';
import { layerNormKernel } from '../../src/codegen-wgsl/layernorm.ts';
import { lowRankKernel } from '../../src/codegen-wgsl/lowrank.ts';
import { matmulKernel } from '../../src/codegen-wgsl/matmul.ts';

const KERNELS: Record<string, WgslKernel> = {
  'linear-bias-gelu': matmulKernel({
    name: 'bert_intermediate',
    transposeB: true,
    alignK: 4,
    alignN: 4,
    epilogue: { bias: true, activation: 'gelu' },
    schedule: { rows: 4, cols4: 2, workgroupSize: 64 },
  }),
  'matmul-ragged-residual': matmulKernel({
    transposeB: false,
    alignK: 1,
    alignN: 1,
    epilogue: { bias: true, scale: 0.5, residual: true, columnScale: true },
    schedule: { rows: 2, cols4: 1, workgroupSize: 64 },
  }),
  'attention-scores-batched': matmulKernel({
    name: 'attention_scores',
    transposeB: true,
    grid: 'batched',
    alignK: 4,
    alignN: 1,
    epilogue: { scale: 0.125 },
    schedule: { rows: 2, cols4: 1, workgroupSize: 64 },
  }),
  'segmented-linear': matmulKernel({
    name: 'segmented_linear',
    transposeB: true,
    grid: 'segmented',
    alignK: 4,
    alignN: 4,
    epilogue: { bias: true },
    schedule: { rows: 2, cols4: 1, workgroupSize: 64 },
  }),
  'layernorm-residual-row-per-invocation': layerNormKernel({ eps: 1e-12, residual: true, alignH: 4 }),
  'layernorm-row-per-workgroup': layerNormKernel({
    eps: 1e-5,
    alignH: 1,
    schedule: { kind: 'rowPerWorkgroup', workgroupSize: 64 },
  }),
  'attention-softmax-masked': attentionSoftmaxKernel({ mask: true, scale: 0.125 }),
  embedding: embeddingKernel({ tokenTypes: true, alignH: 4 }),
  'bottleneck-adapter-segmented': lowRankKernel({
    rank: 8,
    downBias: true,
    upBias: true,
    activation: 'relu',
    residual: 'input',
    segmented: true,
    alignIn: 4,
    alignOut: 4,
  }),
  'fusion-attention': fusionAttentionKernel({ adapters: 2, alignH: 4 }),
};

describe('emitted WGSL', () => {
  for (const [file, kernel] of Object.entries(KERNELS)) {
    it(file, async () => {
      await expect(kernel.wgsl).toMatchFileSnapshot(`./__snapshots__/${file}.wgsl`);
    });
  }
});
