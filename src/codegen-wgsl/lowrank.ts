// One kernel for a whole low-rank branch, the rank-d intermediate in registers; an invocation owns a few rows so
// that every weight it loads serves each of them (the segmented variant owns one row: rows may change segment):
//   out[row] = residual[row] + scale · (up · act(down · x[row] + downBias) + upBias)
// A bottleneck adapter is down [d,H], act, up [H,d] with biases and residual = the input; LoRA is A [r,in],
// no activation, B [out,r], no biases, residual = the base layer's output.
//
// Weights live in ONE buffer (WebGPU allows only 8 storage buffers per stage by default). In the segmented variant
// rows are grouped into segments (Parallel / BatchSplit branches, Punica's SGMV idea) and a table of
// (rowStart, rowEnd, weightOffset, scale bits) tells each row where its adapter's weights start; rows in no
// segment pass the residual through (0 without one). Ranks are padded to a multiple of 4 with zeros, which is
// exact: padded hidden units meet zero columns of `up` whatever the activation makes of them.

import { type Activation, activationFunctions, applyActivation } from './activation.ts';
import { type Dims, dispatch1D, requireMultipleOf, type WgslKernel } from './kernel.ts';
import {
  block,
  type Code,
  f32,
  loop,
  plus,
  renderKernel,
  rowOffset,
  type StorageDecl,
  u32,
  unroll,
} from './render.ts';
import { renderLoad4, renderStore4, vectorElement } from './vector-access.ts';

export interface LowRankSchedule {
  /** Largest rank kept in registers; wider branches should run as two matmuls. */
  readonly maxRank: number;
  /** Rows per invocation (non-segmented kernels). */
  readonly rows: number;
  readonly workgroupSize: number;
}

/**
 * 4 rows per invocation: a quarter of the weight loads per FMA of one row per invocation. On llvmpipe (2 BERT-base
 * layers with Fuse(a,b,c), 8×128) the six adapter kernels took 119 ms against 229–326 ms with one row.
 */
export const DEFAULT_LOW_RANK_SCHEDULE: LowRankSchedule = { maxRank: 64, rows: 4, workgroupSize: 64 };

export interface LowRankShape {
  /** Largest rank among the branches (d or r); padded to a multiple of 4 in the weight layout. */
  readonly rank: number;
  readonly downBias: boolean;
  readonly upBias: boolean;
}

export interface LowRankSpec extends LowRankShape {
  readonly name?: string;
  readonly activation: Activation;
  /** 'input': add x itself (needs inDim = outDim); 'buffer': add a separate [rows, outDim] tensor. */
  readonly residual: 'input' | 'buffer' | 'none';
  /** Segments come from a table with per-segment scales; otherwise `scale` (default 1) applies to all rows. */
  readonly segmented: boolean;
  readonly scale?: number;
  readonly alignIn: 1 | 4;
  readonly alignOut: 1 | 4;
  readonly schedule?: LowRankSchedule;
}

export interface LowRankDims extends Dims {
  readonly rows: number;
  readonly inDim: number;
  readonly outDim: number;
}

export interface SegmentedLowRankDims extends LowRankDims {
  readonly segments: number;
}

export function paddedRank(rank: number): number {
  return Math.ceil(rank / 4) * 4;
}

/** Offsets (in f32) of one branch's tensors in the pool, relative to its weight offset; size is a multiple of 4. */
export function lowRankLayout(shape: LowRankShape, inDim: number, outDim: number) {
  const rank = paddedRank(shape.rank);
  const downBias = rank * inDim;
  const up = downBias + (shape.downBias ? rank : 0);
  const upBias = up + outDim * rank;
  const size = Math.ceil((upBias + (shape.upBias ? outDim : 0)) / 4) * 4;
  return { rank, down: 0, downBias, up, upBias, size };
}

export interface LowRankWeights {
  /** [rank, inDim], rank ≤ the shape's rank. */
  readonly down: Float32Array;
  readonly downBias?: Float32Array;
  /** [outDim, rank] */
  readonly up: Float32Array;
  readonly upBias?: Float32Array;
}

/** Packs branches back to back in the kernel's layout, zero-padding each rank; returns the pool and offsets. */
export function packLowRankWeights(
  shape: LowRankShape,
  inDim: number,
  outDim: number,
  branches: readonly LowRankWeights[],
): { pool: Float32Array; offsets: number[] } {
  const layout = lowRankLayout(shape, inDim, outDim);
  const pool = new Float32Array(layout.size * branches.length);
  const offsets = branches.map((branch, i) => {
    const base = i * layout.size;
    const rank = branch.down.length / inDim;
    if (!Number.isInteger(rank) || rank > shape.rank || branch.up.length !== outDim * rank) {
      throw new RangeError(`low-rank branch ${i}: down/up sizes do not fit rank ≤ ${shape.rank}`);
    }
    pool.set(branch.down, base + layout.down);
    if (shape.downBias && branch.downBias) pool.set(branch.downBias, base + layout.downBias);
    for (let n = 0; n < outDim; n++) {
      pool.set(branch.up.subarray(n * rank, (n + 1) * rank), base + layout.up + n * layout.rank);
    }
    if (shape.upBias && branch.upBias) pool.set(branch.upBias, base + layout.upBias);
    return base;
  });
  return { pool, offsets };
}

export interface Segment {
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly weightOffset: number;
  readonly scale: number;
}

/** The segment table as the kernel reads it: one vec4u (rowStart, rowEnd, weightOffset, bits of f32 scale). */
export function segmentTable(segments: readonly Segment[]): Uint32Array {
  const table = new Uint32Array(Math.max(1, segments.length) * 4);
  const scales = new Float32Array(table.buffer);
  segments.forEach((s, i) => {
    table.set([s.rowStart, s.rowEnd, s.weightOffset], i * 4);
    scales[i * 4 + 3] = s.scale;
  });
  return table;
}

export function lowRankKernel(spec: LowRankSpec & { segmented: true }): WgslKernel<SegmentedLowRankDims>;
export function lowRankKernel(spec: LowRankSpec): WgslKernel<LowRankDims>;
export function lowRankKernel(spec: LowRankSpec): WgslKernel<LowRankDims> {
  const schedule = spec.schedule ?? DEFAULT_LOW_RANK_SCHEDULE;
  const name = spec.name ?? `lowrank${spec.segmented ? '_segmented' : ''}`;
  if (spec.rank < 1 || spec.rank > schedule.maxRank) {
    throw new RangeError(`${name}: rank ${spec.rank} is outside 1..${schedule.maxRank} (schedule.maxRank)`);
  }
  if (spec.residual === 'input' && spec.alignIn !== spec.alignOut) {
    throw new RangeError(`${name}: a residual of the input needs alignIn = alignOut`);
  }
  const vecIn = spec.alignIn === 4;
  const vecOut = spec.alignOut === 4;
  const rank4 = paddedRank(spec.rank) / 4;
  const rows = spec.segmented ? 1 : schedule.rows;
  const storage: StorageDecl[] = [
    { name: 'x', access: 'read', element: vectorElement(vecIn) },
    { name: 'weights', access: 'read', element: vectorElement(vecIn) },
    ...(spec.segmented ? [{ name: 'segments', access: 'read', element: 'vec4u' } as const] : []),
    ...(spec.residual === 'buffer'
      ? [{ name: 'residual', access: 'read', element: vectorElement(vecOut) } as const]
      : []),
    { name: 'out', access: 'read_write', element: vectorElement(vecOut) },
  ];
  const residual = (r: number) =>
    ({ input: `loadX(xStart${r}, n)`, buffer: `loadResidual(outStart${r}, n)`, none: 'vec4f(0.0)' })[
      spec.residual
    ];
  return renderKernel<LowRankDims>(
    {
      name,
      storage,
      uniforms: ['rows', 'inDim', 'outDim', ...(spec.segmented ? ['segments'] : [])].map((field) => ({
        name: field,
        type: 'u32',
      })),
      constants: [
        ['RANK4', u32(rank4)],
        ['RANK', u32(rank4 * 4)],
      ],
      functions: [
        ...activationFunctions(spec.activation),
        renderLoad4({ name: 'loadX', buffer: 'x', vectorized: vecIn, bound: 'p.inDim' }),
        renderLoad4({ name: 'loadDown', buffer: 'weights', vectorized: vecIn, bound: 'p.inDim' }),
        renderLoad4({ name: 'loadUp', buffer: 'weights', vectorized: vecIn, bound: 'RANK' }),
        renderLoad4({ name: 'loadUpBias', buffer: 'weights', vectorized: vecIn, bound: 'p.outDim' }),
        ...(spec.residual === 'buffer'
          ? [renderLoad4({ name: 'loadResidual', buffer: 'residual', vectorized: vecOut, bound: 'p.outDim' })]
          : []),
        renderStore4({ name: 'storeOut', buffer: 'out', vectorized: vecOut, bound: 'p.outDim' }),
      ],
      workgroupSize: schedule.workgroupSize,
      body: lowRankBody(spec, rank4, rows, residual),
    },
    (dims) => {
      if (vecIn) requireMultipleOf(name, 'inDim', dims.inDim, 4);
      if (vecOut) requireMultipleOf(name, 'outDim', dims.outDim, 4);
      return dispatch1D(Math.ceil(dims.rows / rows), schedule.workgroupSize);
    },
  );
}

/** Row r of this invocation is row0 + r; `xStart<r>` and `outStart<r>` clamp to the last row (stores check). */
function lowRankBody(spec: LowRankSpec, rank4: number, rows: number, residual: (r: number) => string): Code {
  const segmentLookup: Code = spec.segmented
    ? [
        'var w = 0u;',
        'var scale = 0.0;',
        'var found = false;',
        ...loop('s', 'p.segments', [
          'let segment = segments[s];',
          ...block(
            'if (row0 >= segment.x && row0 < segment.y)',
            'w = segment.z;',
            'scale = bitcast<f32>(segment.w);',
            'found = true;',
            'break;',
          ),
        ]),
        ...block(
          'if (!found)',
          ...loop('n', 'p.outDim', [`storeOut(outStart0, n, ${residual(0)});`], '0u', '4u'),
          'return;',
        ),
      ]
    : ['let w = 0u;', `let scale = ${f32(spec.scale ?? 1)};`];
  const layout = [
    'let downBias = w + RANK * p.inDim;',
    `let up = downBias${spec.downBias ? ' + RANK' : ''};`,
    'let upBias = up + p.outDim * RANK;',
  ];
  const rowsOf = (start: (l: number) => string, at: string, load: string) =>
    `mat4x4f(${[0, 1, 2, 3].map((l) => `${load}(${start(l)}, ${at})`).join(', ')})`;
  const eachRow = (line: (r: number) => string): string[] => unroll(rows, (r) => [line(r)]) as string[];
  return [
    `let row0 = index * ${u32(rows)};`,
    'if (row0 >= p.rows) { return; }',
    ...eachRow((r) => `let xStart${r} = min(${plus('row0', r)}, p.rows - 1u) * p.inDim;`),
    ...eachRow((r) => `let outStart${r} = min(${plus('row0', r)}, p.rows - 1u) * p.outDim;`),
    ...segmentLookup,
    ...layout,
    // down: 4 rows of `down` at k form a mat4x4, so x[k..k+3] · m adds to 4 hidden units at once.
    `var hidden: array<array<vec4f, RANK4>, ${u32(rows)}>;`,
    ...loop(
      'k',
      'p.inDim',
      [
        ...eachRow((r) => `let xv${r} = loadX(xStart${r}, k);`),
        ...unroll(rank4, (j) => [
          `let down${j} = ${rowsOf((l) => rowOffset('w', 4 * j + l, 'p.inDim'), 'k', 'loadDown')};`,
          ...eachRow((r) => `hidden[${r}][${j}] += xv${r} * down${j};`),
        ]),
      ],
      '0u',
      '4u',
    ),
    ...unroll(rank4, (j) =>
      eachRow((r) => {
        const pre = spec.downBias
          ? `hidden[${r}][${j}] + loadUp(downBias, ${u32(4 * j)})`
          : `hidden[${r}][${j}]`;
        return `hidden[${r}][${j}] = ${applyActivation(spec.activation, pre)};`;
      }),
    ),
    // up: rows n..n+3 of `up` (each RANK long) at hidden unit 4j form a mat4x4; hidden[j] · m adds to 4 outputs.
    ...loop(
      'n',
      'p.outDim',
      [
        ...eachRow((r) => `var v${r} = vec4f(0.0);`),
        ...unroll(rank4, (j) => [
          `let up${j} = ${rowsOf((l) => `up + min(${plus('n', l)}, p.outDim - 1u) * RANK`, u32(4 * j), 'loadUp')};`,
          ...eachRow((r) => `v${r} += hidden[${r}][${j}] * up${j};`),
        ]),
        ...(spec.upBias ? ['let bias = loadUpBias(upBias, n);', ...eachRow((r) => `v${r} += bias;`)] : []),
        ...unroll(rows, (r) => [
          ...(r === 0
            ? [`storeOut(outStart0, n, ${residual(0)} + scale * v0);`]
            : block(
                `if (${plus('row0', r)} < p.rows)`,
                `storeOut(outStart${r}, n, ${residual(r)} + scale * v${r});`,
              )),
        ]),
      ],
      '0u',
      '4u',
    ),
  ];
}
