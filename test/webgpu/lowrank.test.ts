import { describe, expect, it } from 'vitest';
import {
  type LowRankShape,
  type LowRankWeights,
  lowRankKernel,
  packLowRankWeights,
  segmentTable,
} from '../../src/codegen-wgsl/lowrank.ts';
import { expectClose, randomArray, runKernel, useGpu } from './gpu.ts';
import { lowRank } from './reference.ts';

const gpu = useGpu();

function branch(rank: number, inDim: number, outDim: number, biases: boolean, seed: number): LowRankWeights {
  return {
    down: randomArray(rank * inDim, seed),
    up: randomArray(outDim * rank, seed + 1),
    ...(biases ? { downBias: randomArray(rank, seed + 2), upBias: randomArray(outDim, seed + 3) } : {}),
  };
}

describe('low-rank branch kernel (bottleneck adapter, LoRA)', () => {
  for (const [rows, H, d, activation] of [
    [9, 16, 8, 'relu'],
    [21, 13, 6, 'gelu'],
    [64, 96, 48, 'silu'],
  ] as const) {
    it(`bottleneck adapter: ${rows} rows, H = ${H}, d = ${d}, ${activation}, residual = input`, async () => {
      const shape: LowRankShape = { rank: d, downBias: true, upBias: true };
      const weights = branch(d, H, H, true, 51);
      const { pool } = packLowRankWeights(shape, H, H, [weights]);
      const align = H % 4 === 0 ? 4 : 1;
      const scale = 0.5;
      const kernel = lowRankKernel({
        ...shape,
        activation,
        residual: 'input',
        segmented: false,
        scale,
        alignIn: align,
        alignOut: align,
      });
      const x = randomArray(rows * H, 52);
      const { out } = await runKernel(
        gpu(),
        kernel,
        { rows, inDim: H, outDim: H },
        { x, weights: pool },
        { out: rows * H },
      );
      const expected = new Float64Array(rows * H);
      lowRank(
        { x, rows, inDim: H, outDim: H, ...weights, activation, scale, residual: x },
        [0, rows],
        expected,
      );
      expectClose(out, expected);
    });
  }

  it('LoRA: in ≠ out, no biases, identity, added to the base output', async () => {
    const [rows, inDim, outDim, r] = [19, 24, 10, 4];
    const shape: LowRankShape = { rank: r, downBias: false, upBias: false };
    const weights = branch(r, inDim, outDim, false, 61);
    const { pool } = packLowRankWeights(shape, inDim, outDim, [weights]);
    const kernel = lowRankKernel({
      ...shape,
      activation: 'identity',
      residual: 'buffer',
      segmented: false,
      scale: 2,
      alignIn: 4,
      alignOut: 1,
    });
    const x = randomArray(rows * inDim, 62);
    const base = randomArray(rows * outDim, 63);
    const { out } = await runKernel(
      gpu(),
      kernel,
      { rows, inDim, outDim },
      { x, weights: pool, residual: base },
      { out: rows * outDim },
    );
    const expected = new Float64Array(rows * outDim);
    lowRank(
      { x, rows, inDim, outDim, ...weights, activation: 'identity', scale: 2, residual: base },
      [0, rows],
      expected,
    );
    expectClose(out, expected);
  });

  for (const align of [4, 1] as const) {
    it(`segmented: each row block reads its own weights (ranks 8, 3, 5) from one pool; uncovered rows pass through (align ${align})`, async () => {
      const H = align === 4 ? 20 : 18;
      const rows = 30;
      const shape: LowRankShape = { rank: 8, downBias: true, upBias: true };
      const branches = [branch(8, H, H, true, 71), branch(3, H, H, true, 72), branch(5, H, H, true, 73)];
      const { pool, offsets } = packLowRankWeights(shape, H, H, branches);
      const segments = [
        { rowStart: 0, rowEnd: 10, weightOffset: offsets[0], scale: 1 },
        { rowStart: 10, rowEnd: 17, weightOffset: offsets[1], scale: 0.25 },
        { rowStart: 20, rowEnd: 30, weightOffset: offsets[2], scale: 3 },
      ];
      const kernel = lowRankKernel({
        ...shape,
        activation: 'gelu',
        residual: 'input',
        segmented: true,
        alignIn: align,
        alignOut: align,
      });
      const x = randomArray(rows * H, 74);
      const { out } = await runKernel(
        gpu(),
        kernel,
        { rows, inDim: H, outDim: H, segments: segments.length },
        { x, weights: pool, segments: segmentTable(segments) },
        { out: rows * H },
      );
      const expected = Float64Array.from(x);
      segments.forEach((s, i) => {
        lowRank(
          { x, rows, inDim: H, outDim: H, ...branches[i], activation: 'gelu', scale: s.scale, residual: x },
          [s.rowStart, s.rowEnd],
          expected,
        );
      });
      expectClose(out, expected);
    });
  }

  it('refuses ranks above the schedule limit', () => {
    expect(() =>
      lowRankKernel({
        rank: 80,
        downBias: false,
        upBias: false,
        activation: 'relu',
        residual: 'none',
        segmented: false,
        alignIn: 4,
        alignOut: 4,
      }),
    ).toThrow(/rank 80 is outside 1..64/);
  });
});
