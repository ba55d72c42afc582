import { describe, expect, it } from 'vitest';
import {
  type BatchedMatmulDims,
  type MatmulEpilogue,
  type MatmulSchedule,
  matmulKernel,
  segmentedMatmulTable,
} from '../../src/codegen-wgsl/matmul.ts';
import { expectClose, randomArray, runKernel, useGpu } from './gpu.ts';
import { matmul } from './reference.ts';

const gpu = useGpu();

type Shape = [M: number, N: number, K: number];

async function checkMatmul(
  [M, N, K]: Shape,
  transposeB: boolean,
  options: { align?: boolean; epilogue?: MatmulEpilogue; schedule?: MatmulSchedule } = {},
): Promise<void> {
  const align = options.align ?? false;
  const epilogue = options.epilogue ?? {};
  const kernel = matmulKernel({
    transposeB,
    alignK: align ? 4 : 1,
    alignN: align ? 4 : 1,
    epilogue,
    schedule: options.schedule,
  });
  const a = randomArray(M * K, 1);
  const b = randomArray(K * N, 2);
  const inputs: Record<string, Float32Array> = { a, b };
  if (epilogue.bias) inputs.bias = randomArray(N, 3);
  if (epilogue.residual) inputs.residual = randomArray(M * N, 4);
  if (epilogue.columnScale) inputs.columnScale = randomArray(N, 5);
  const { c } = await runKernel(gpu(), kernel, { M, N, K }, inputs, { c: M * N });
  const { bias, residual, columnScale } = inputs;
  const { scale, activation } = epilogue;
  expectClose(c, matmul({ M, N, K, a, b, transposeB, scale, activation, bias, residual, columnScale }));
}

const RAGGED: Shape[] = [
  [1, 1, 1],
  [3, 5, 7],
  [37, 29, 19],
  [9, 130, 66],
  [129, 67, 131],
];
const ALIGNED: Shape[] = [
  [1, 4, 4],
  [13, 20, 12],
  [100, 136, 96],
  [257, 64, 260],
];

describe('matmul', () => {
  for (const transposeB of [false, true]) {
    const layout = transposeB ? 'B [N,K]' : 'B [K,N]';
    for (const shape of RAGGED) {
      it(`${layout}, scalar loads, ragged ${shape.join('×')}`, () => checkMatmul(shape, transposeB));
    }
    for (const shape of ALIGNED) {
      it(`${layout}, vec4 loads, ${shape.join('×')}`, () => checkMatmul(shape, transposeB, { align: true }));
    }
  }

  for (const schedule of [
    { rows: 1, cols4: 1, workgroupSize: 32 },
    { rows: 3, cols4: 2, workgroupSize: 64 },
    { rows: 5, cols4: 3, workgroupSize: 128 },
  ]) {
    it(`schedule ${schedule.rows}×${schedule.cols4} (wg ${schedule.workgroupSize}) on both layouts and alignments`, async () => {
      for (const transposeB of [false, true]) {
        await checkMatmul([45, 36, 20], transposeB, { align: true, schedule });
        await checkMatmul([45, 37, 21], transposeB, { schedule });
      }
    });
  }

  it('fuses bias, scale, GELU, residual and column scale in that order', async () => {
    const epilogue: MatmulEpilogue = {
      bias: true,
      scale: 0.37,
      activation: 'gelu',
      residual: true,
      columnScale: true,
    };
    await checkMatmul([33, 40, 24], true, { align: true, epilogue });
    // Scalar loads with every epilogue unrolled over a big tile compile slowly on llvmpipe: use a small tile.
    await checkMatmul([33, 41, 23], false, { epilogue, schedule: { rows: 2, cols4: 2, workgroupSize: 64 } });
  });

  for (const activation of ['relu', 'silu', 'tanh', 'sigmoid'] as const) {
    it(`fuses ${activation}`, () =>
      checkMatmul([17, 24, 16], true, { align: true, epilogue: { bias: true, activation } }));
  }

  it('batched over [batch·heads] reads heads in place (attention QKᵀ and P·V)', async () => {
    // Q, K, V as nn.Linear outputs [B, T, heads·d]: head h of batch b starts at b·T·heads·d + h·d, lda = heads·d.
    const [B, heads, T, Tk, d] = [2, 3, 13, 11, 8];
    const q = randomArray(B * T * heads * d, 6);
    const k = randomArray(B * Tk * heads * d, 7);
    const v = randomArray(B * Tk * heads * d, 8);
    const scores = matmulKernel({
      transposeB: true,
      grid: 'batched',
      alignK: 4,
      alignN: 1,
      epilogue: { scale: 0.125 },
    });
    const scoreDims: BatchedMatmulDims = {
      M: T,
      N: Tk,
      K: d,
      batch: B,
      heads,
      lda: heads * d,
      ldb: heads * d,
      ldc: Tk,
      aBatchStride: T * heads * d,
      aHeadStride: d,
      bBatchStride: Tk * heads * d,
      bHeadStride: d,
      cBatchStride: heads * T * Tk,
      cHeadStride: T * Tk,
    };
    const s = (await runKernel(gpu(), scores, scoreDims, { a: q, b: k }, { c: B * heads * T * Tk })).c;
    const probs = randomArray(B * heads * T * Tk, 9);
    const context = matmulKernel({ transposeB: false, grid: 'batched', alignK: 1, alignN: 4 });
    const contextDims: BatchedMatmulDims = {
      M: T,
      N: d,
      K: Tk,
      batch: B,
      heads,
      lda: Tk,
      ldb: heads * d,
      ldc: heads * d,
      aBatchStride: heads * T * Tk,
      aHeadStride: T * Tk,
      bBatchStride: Tk * heads * d,
      bHeadStride: d,
      cBatchStride: T * heads * d,
      cHeadStride: d,
    };
    const ctx = (await runKernel(gpu(), context, contextDims, { a: probs, b: v }, { c: B * T * heads * d }))
      .c;
    const head = (x: Float32Array, rows: number, b: number, h: number) =>
      Float32Array.from(
        { length: rows * d },
        (_, i) => x[(b * rows + Math.floor(i / d)) * heads * d + h * d + (i % d)],
      );
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < heads; h++) {
        const z = b * heads + h;
        const expectedScores = matmul({
          M: T,
          N: Tk,
          K: d,
          a: head(q, T, b, h),
          b: head(k, Tk, b, h),
          transposeB: true,
          scale: 0.125,
        });
        expectClose(s.subarray(z * T * Tk, (z + 1) * T * Tk), expectedScores);
        const p = probs.subarray(z * T * Tk, (z + 1) * T * Tk);
        const expectedContext = matmul({ M: T, N: d, K: Tk, a: p, b: head(v, Tk, b, h), transposeB: false });
        expectClose(head(ctx, T, b, h), expectedContext);
      }
    }
  });

  for (const align of [4, 1] as const) {
    it(`segmented: row blocks use their own nn.Linear weights and bias from pooled buffers (align ${align})`, async () => {
      // Rows 0-9 use branch 0, row 10 branch 1, rows 11-13 none, rows 14-39 branch 2.
      const [N, K] = align === 4 ? [20, 12] : [19, 13];
      const blocks = [
        { rowStart: 0, rowCount: 10 },
        { rowStart: 10, rowCount: 1 },
        { rowStart: 14, rowCount: 26 },
      ];
      const rows = 40;
      const a = randomArray(rows * K, 81);
      const weights = blocks.map((_, i) => randomArray(N * K, 82 + i));
      const biases = blocks.map((_, i) => randomArray(N, 90 + i));
      const stride = (n: number) => Math.ceil(n / 4) * 4;
      const pooledB = new Float32Array(stride(N * K) * blocks.length);
      const pooledBias = new Float32Array(stride(N) * blocks.length);
      for (const [i, w] of weights.entries()) pooledB.set(w, i * stride(N * K));
      for (const [i, b] of biases.entries()) pooledBias.set(b, i * stride(N));
      const table = segmentedMatmulTable(
        blocks.map((block, i) => ({ ...block, weightOffset: i * stride(N * K), biasOffset: i * stride(N) })),
      );
      const kernel = matmulKernel({
        transposeB: true,
        grid: 'segmented',
        alignK: align,
        alignN: align,
        epilogue: { bias: true, activation: 'relu' },
        schedule: { rows: 4, cols4: 2, workgroupSize: 64 },
      });
      const dims = { M: 26, N, K, segments: blocks.length };
      const buffers = { a, b: pooledB, segments: table, bias: pooledBias };
      const { c } = await runKernel(gpu(), kernel, dims, buffers, { c: rows * N });
      // Rows outside every segment are not written (pooled output buffers hold stale data), so compare per block.
      blocks.forEach((block, i) => {
        const rowsOf = <T extends Float32Array>(x: T, width: number) =>
          x.subarray(block.rowStart * width, (block.rowStart + block.rowCount) * width) as T;
        const expected = matmul({
          M: block.rowCount,
          N,
          K,
          a: rowsOf(a, K),
          b: weights[i],
          transposeB: true,
          bias: biases[i],
          activation: 'relu',
        });
        expectClose(rowsOf(c, N), expected);
      });
    });
  }

  it('rejects dims that break the alignment the WGSL was specialised on', () => {
    const kernel = matmulKernel({ transposeB: true, alignK: 4, alignN: 4 });
    expect(() => kernel.dispatch({ M: 4, N: 8, K: 6 })).toThrow(/K = 6 must be a multiple of 4/);
    expect(kernel.dispatch({ M: 16, N: 16, K: 8 })).toEqual([1, 1, 1]);
  });

  it('the same WGSL serves every size (runtime dims are uniforms)', async () => {
    const kernel = matmulKernel({ transposeB: true, alignK: 4, alignN: 4 });
    for (const M of [1, 7, 64]) {
      const a = randomArray(M * 16, M);
      const b = randomArray(16 * 12, 2);
      const { c } = await runKernel(gpu(), kernel, { M, N: 12, K: 16 }, { a, b }, { c: M * 12 });
      expectClose(c, matmul({ M, N: 12, K: 16, a, b, transposeB: true }));
    }
  });
});
