// File snapshots of representative emitted WGSL: review changes to generated code like any other diff
// (`npx vitest run test/webgpu/wgsl-snapshots.test.ts --update` to accept).

import { describe, expect, it } from 'vitest';
import { attentionSoftmaxKernel } from '../../src/codegen-wgsl/attention-softmax.ts';
import { crossEntropyKernel } from '../../src/codegen-wgsl/cross-entropy.ts';
import { elementwiseKernel } from '../../src/codegen-wgsl/elementwise.ts';
import { embeddingKernel } from '../../src/codegen-wgsl/embedding.ts';
import { fusionAttentionKernel } from '../../src/codegen-wgsl/fusion-attention.ts';
import { gatherGradKernel } from '../../src/codegen-wgsl/gather-grad.ts';
import type { WgslKernel } from '../../src/codegen-wgsl/kernel.ts';
import { layerNormKernel } from '../../src/codegen-wgsl/layernorm.ts';
import { layerNormGradKernel } from '../../src/codegen-wgsl/layernorm-grad.ts';
import { lowRankKernel } from '../../src/codegen-wgsl/lowrank.ts';
import { matmulKernel } from '../../src/codegen-wgsl/matmul.ts';
import { reduceKernel } from '../../src/codegen-wgsl/reduce.ts';

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
  // Training: the backward kernels.
  'dropout-gelu-grad': elementwiseKernel({
    name: 'dropout_gelu_grad',
    rank: 2,
    buffers: [
      { name: 'in0', element: 'f32' },
      { name: 'in1', element: 'f32' },
      { name: 'in2', element: 'i32' },
    ],
    leaves: [
      { buffer: 'in0', wraps: false },
      { buffer: 'in1', wraps: false },
      { buffer: 'in2', wraps: false },
    ],
    expr: {
      kind: 'binary',
      fn: 'mul',
      a: { kind: 'unary_grad', fn: 'gelu', x: { kind: 'leaf', leaf: 0 }, dy: { kind: 'leaf', leaf: 1 } },
      b: { kind: 'dropout', p: 0.1, stream: 3, seed: { kind: 'leaf', leaf: 2 } },
    },
    output: 'f32',
    outputView: false,
  }),
  'layernorm-grad-input': layerNormGradKernel({ eps: 1e-12, wrt: 'input' }),
  'cross-entropy-grad-masked': crossEntropyKernel({ grad: true, dloss: true, mask: true }),
  'gather-grad': gatherGradKernel(),
  'sum-axis': reduceKernel('sum'),
};

describe('emitted WGSL', () => {
  for (const [file, kernel] of Object.entries(KERNELS)) {
    it(file, async () => {
      await expect(kernel.wgsl).toMatchFileSnapshot(`./__snapshots__/${file}.wgsl`);
    });
  }
});
