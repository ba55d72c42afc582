// C[M,N] = A[M,K] · B with B as [K,N] or [N,K] (nn.Linear weights), optionally batched over [batch·heads] or
// segmented by rows (each row block its own weights, from one pooled buffer), with a fused epilogue. Each invocation owns a register tile of `rows` × 4·`cols4` outputs and walks K four at a
// time; there is no shared memory and no barrier (on llvmpipe those cost more than they save, see
// /work/shared/reference/webgpu-here.md). Ragged edges: loads clamp or zero-fill, stores are bound-checked.

import { type Activation, activationFunctions, applyActivation } from './activation.ts';
import { type Dims, dispatch1D, requireMultipleOf, type WgslKernel } from './kernel.ts';
import { type Code, f32, fn, loop, plus, renderKernel, type StorageDecl, u32, unroll } from './render.ts';
import { renderLoad4, renderStore4, vectorElement } from './vector-access.ts';

export interface MatmulSchedule {
  /** Output rows per invocation (R). */
  readonly rows: number;
  /** Output columns per invocation, in vec4s (C4): each invocation covers 4·cols4 columns. */
  readonly cols4: number;
  readonly workgroupSize: number;
}

/**
 * Chosen on llvmpipe with src/bench/matmul.ts (512×768·768×768): 8×4 reached 27-28 GFLOP/s against 32 for the
 * fastest, 16×4, whose unrolled body takes ~3× longer to compile (2.5 s vs 0.8 s with a GELU epilogue).
 */
export const DEFAULT_MATMUL_SCHEDULE: MatmulSchedule = { rows: 8, cols4: 4, workgroupSize: 64 };

/** Applied in this order: + bias[N], × scale, activation, + residual[M,N], × columnScale[N]. */
export interface MatmulEpilogue {
  readonly bias?: boolean;
  readonly scale?: number;
  readonly activation?: Activation;
  readonly residual?: boolean;
  readonly columnScale?: boolean;
}

export interface MatmulSpec {
  readonly name?: string;
  /** B is [N,K] (row n holds column n of the product), as nn.Linear stores weights [out, in]. */
  readonly transposeB: boolean;
  /**
   * 'single' (default): one product. 'batched': a [batch·heads] grid with per-operand strides (see
   * `BatchedMatmulDims`). 'segmented': row blocks with their own B (and bias) from pooled buffers, Punica-style
   * (see `SegmentedMatmulDims` and `segmentedMatmulTable`).
   */
  readonly grid?: MatmulGrid;
  /**
   * Alignment promised for every launch. `alignK: 4` means K, and every stride used to step along K's vector
   * (lda, ldb when B is transposed, their batch/head strides), are multiples of 4; `alignN: 4` the same for N,
   * ldc (and ldb when B is not transposed). With 1 the kernel uses scalar loads and zero-fills edges.
   */
  readonly alignK: 1 | 4;
  readonly alignN: 1 | 4;
  readonly epilogue?: MatmulEpilogue;
  readonly schedule?: MatmulSchedule;
}

export type MatmulGrid = 'single' | 'batched' | 'segmented';

export interface MatmulDims extends Dims {
  readonly M: number;
  readonly N: number;
  readonly K: number;
}

/**
 * Product z of the batched grid is (z / heads, z % heads); each operand starts at
 * (z / heads)·xBatchStride + (z % heads)·xHeadStride and has leading dimension ldx (in elements). This reads
 * heads in place from [B, T, heads·d] projections, with no transpose.
 */
export interface BatchedMatmulDims extends MatmulDims {
  readonly batch: number;
  readonly heads: number;
  readonly lda: number;
  readonly ldb: number;
  readonly ldc: number;
  readonly aBatchStride: number;
  readonly aHeadStride: number;
  readonly bBatchStride: number;
  readonly bHeadStride: number;
  readonly cBatchStride: number;
  readonly cHeadStride: number;
}

/**
 * Segment s covers rows [rowStart, rowStart + rowCount) of A and C and multiplies them by the B starting at
 * element weightOffset of the pooled `b` (bias at biasOffset of the pooled `bias`). `M` is the largest
 * rowCount: it sizes the grid. Rows outside every segment are not written.
 */
export interface SegmentedMatmulDims extends MatmulDims {
  readonly segments: number;
}

export interface MatmulSegment {
  readonly rowStart: number;
  readonly rowCount: number;
  readonly weightOffset: number;
  readonly biasOffset: number;
}

/**
 * The segment table as the kernel reads it: one vec4u (rowStart, rowCount, weightOffset, biasOffset). Offsets
 * are in elements and must be multiples of 4 where the kernel loads that operand as vec4.
 */
export function segmentedMatmulTable(segments: readonly MatmulSegment[]): Uint32Array {
  const table = new Uint32Array(Math.max(1, segments.length) * 4);
  segments.forEach((s, i) => {
    table.set([s.rowStart, s.rowCount, s.weightOffset, s.biasOffset], i * 4);
  });
  return table;
}

const PLAIN_UNIFORMS = ['M', 'N', 'K'] as const;
const SEGMENTED_UNIFORMS = [...PLAIN_UNIFORMS, 'segments'] as const;
const BATCHED_UNIFORMS = [
  ...PLAIN_UNIFORMS,
  'batch',
  'heads',
  'lda',
  'ldb',
  'ldc',
  'aBatchStride',
  'aHeadStride',
  'bBatchStride',
  'bHeadStride',
  'cBatchStride',
  'cHeadStride',
] as const;

export function matmulKernel(spec: MatmulSpec & { grid: 'batched' }): WgslKernel<BatchedMatmulDims>;
export function matmulKernel(spec: MatmulSpec & { grid: 'segmented' }): WgslKernel<SegmentedMatmulDims>;
export function matmulKernel(spec: MatmulSpec): WgslKernel<MatmulDims>;
export function matmulKernel(spec: MatmulSpec): WgslKernel<MatmulDims> {
  const schedule = spec.schedule ?? DEFAULT_MATMUL_SCHEDULE;
  const epilogue = spec.epilogue ?? {};
  const grid = spec.grid ?? 'single';
  const name = spec.name ?? defaultName(spec);
  const vecK = spec.alignK === 4;
  const vecN = spec.alignN === 4;
  const vecB = spec.transposeB ? vecK : vecN;
  const ld =
    grid === 'batched'
      ? { a: 'p.lda', b: 'p.ldb', c: 'p.ldc' }
      : { a: 'p.K', b: spec.transposeB ? 'p.K' : 'p.N', c: 'p.N' };

  const storage: StorageDecl[] = [
    { name: 'a', access: 'read', element: vectorElement(vecK) },
    { name: 'b', access: 'read', element: vectorElement(vecB) },
    ...(grid === 'segmented' ? [{ name: 'segments', access: 'read', element: 'vec4u' } as const] : []),
    ...optionalVectors(epilogue.bias, 'bias', vecN),
    ...optionalVectors(epilogue.residual, 'residual', vecN),
    ...optionalVectors(epilogue.columnScale, 'columnScale', vecN),
    { name: 'c', access: 'read_write', element: vectorElement(vecN) },
  ];
  const functions = [
    renderLoad4({ name: 'loadA', buffer: 'a', vectorized: vecK, bound: 'p.K' }),
    renderLoad4({ name: 'loadB', buffer: 'b', vectorized: vecB, bound: spec.transposeB ? 'p.K' : 'p.N' }),
    ...epilogueFunctions(epilogue, vecN),
    renderStore4({ name: 'storeC', buffer: 'c', vectorized: vecN, bound: 'p.N' }),
  ];
  const tileN = 4 * schedule.cols4;
  return renderKernel<MatmulDims>(
    {
      name,
      storage,
      uniforms: { single: PLAIN_UNIFORMS, batched: BATCHED_UNIFORMS, segmented: SEGMENTED_UNIFORMS }[
        grid
      ].map((field) => ({ name: field, type: 'u32' })),
      constants: [
        ['ROWS', u32(schedule.rows)],
        ['COLS4', u32(schedule.cols4)],
      ],
      functions,
      workgroupSize: schedule.workgroupSize,
      body: matmulBody({ transposeB: spec.transposeB, grid, vecK, vecN, ld, schedule }),
    },
    (dims) => {
      checkAlignment(name, spec, grid, dims);
      const products = gridProducts(grid, dims);
      const tiles = Math.ceil(dims.M / schedule.rows) * Math.ceil(dims.N / tileN);
      return dispatch1D(products * tiles, schedule.workgroupSize);
    },
  );
}

function defaultName(spec: MatmulSpec): string {
  const grid = spec.grid === undefined || spec.grid === 'single' ? '' : `_${spec.grid}`;
  return `matmul${grid}${spec.transposeB ? '_bt' : ''}`;
}

function gridProducts(grid: MatmulGrid, dims: MatmulDims): number {
  if (grid === 'batched') return (dims as BatchedMatmulDims).batch * (dims as BatchedMatmulDims).heads;
  if (grid === 'segmented') return (dims as SegmentedMatmulDims).segments;
  return 1;
}

function optionalVectors(present: boolean | undefined, name: string, vectorized: boolean): StorageDecl[] {
  return present ? [{ name, access: 'read', element: vectorElement(vectorized) }] : [];
}

function epilogueFunctions(e: MatmulEpilogue, vecN: boolean): string[] {
  const columnLoad = (name: string, buffer: string) =>
    renderLoad4({ name, buffer, vectorized: vecN, bound: 'p.N' });
  const steps: string[] = [];
  const loads: string[] = [];
  if (e.bias) {
    loads.push(columnLoad('loadBias', 'bias'));
    steps.push('v += loadBias(biasBase, col);');
  }
  if (e.scale !== undefined) steps.push(`v *= ${f32(e.scale)};`);
  if (e.activation !== undefined && e.activation !== 'identity') {
    steps.push(`v = ${applyActivation(e.activation, 'v')};`);
  }
  if (e.residual) {
    loads.push(columnLoad('loadResidual', 'residual'));
    steps.push('v += loadResidual(rowStart, col);');
  }
  if (e.columnScale) {
    loads.push(columnLoad('loadColumnScale', 'columnScale'));
    steps.push('v *= loadColumnScale(0u, col);');
  }
  return [
    ...activationFunctions(e.activation ?? 'identity'),
    ...loads,
    fn(
      'epilogue(biasBase: u32, rowStart: u32, col: u32, acc: vec4f) -> vec4f',
      ...(steps.length === 0 ? ['return acc;'] : ['var v = acc;', ...steps, 'return v;']),
    ),
  ];
}

interface BodyShape {
  readonly transposeB: boolean;
  readonly grid: MatmulGrid;
  readonly vecK: boolean;
  readonly vecN: boolean;
  readonly ld: { readonly a: string; readonly b: string; readonly c: string };
  readonly schedule: MatmulSchedule;
}

/**
 * Row starts and clamped columns are computed once per invocation; the K loop only adds k. Lanes past M or N
 * read clamped (valid) rows and columns and are dropped at the store. With vec4 columns the last full vector
 * is re-read instead.
 */
function matmulBody(shape: BodyShape): Code {
  const { transposeB, grid, vecK, vecN, ld, schedule } = shape;
  const loadColumn = (col: string) => (vecN ? `min(${col}, p.N - 4u)` : col);
  // B as [K,N]: a vec4 of B is 4 columns at one k, so accumulate av[r][kk] · b for kk in 0..3.
  // B as [N,K]: a vec4 of B is 4 k's of one column; 4 columns form a mat4x4 and av[r] · m is 4 dot products.
  const columnStarts: Code = transposeB
    ? unroll(schedule.cols4, (c) =>
        [0, 1, 2, 3].map(
          (l) => `let bRow${c}_${l} = bBase + min(${plus('col0', 4 * c + l)}, p.N - 1u) * ${ld.b};`,
        ),
      )
    : unroll(schedule.cols4, (c) => [`let bCol${c} = ${loadColumn(plus('col0', 4 * c))};`]);
  const inner: Code = transposeB
    ? unroll(schedule.cols4, (c) => [
        `let bm${c} = mat4x4f(${[0, 1, 2, 3].map((l) => `loadB(bRow${c}_${l}, k)`).join(', ')});`,
        ...unroll(schedule.rows, (r) => [`acc[${r}][${c}] += av[${r}] * bm${c};`]),
      ])
    : unroll(4, (kk) => [
        `let bRow${kk} = bBase + ${vecK ? `(${plus('k', kk)})` : `min(${plus('k', kk)}, p.K - 1u)`} * ${ld.b};`,
        ...unroll(schedule.cols4, (c) => [
          `let b${kk}_${c} = loadB(bRow${kk}, bCol${c});`,
          ...unroll(schedule.rows, (r) => [`acc[${r}][${c}] += av[${r}][${kk}] * b${kk}_${c};`]),
        ]),
      ]);
  return [
    'let tilesN = (p.N + 4u * COLS4 - 1u) / (4u * COLS4);',
    'let tiles = tilesN * ((p.M + ROWS - 1u) / ROWS);',
    ...GRID_PROLOGUE[grid](ld),
    'let row0 = (tile / tilesN) * ROWS;',
    'let col0 = (tile % tilesN) * 4u * COLS4;',
    ...unroll(schedule.rows, (r) => [`let aRow${r} = aBase + min(${plus('row0', r)}, rows - 1u) * ${ld.a};`]),
    ...columnStarts,
    'var acc: array<array<vec4f, COLS4>, ROWS>;',
    ...loop(
      'k',
      'p.K',
      [
        'var av: array<vec4f, ROWS>;',
        ...unroll(schedule.rows, (r) => [`av[${r}] = loadA(aRow${r}, k);`]),
        ...inner,
      ],
      '0u',
      '4u',
    ),
    ...loop('r', 'ROWS', [
      'let row = row0 + r;',
      'if (row >= rows) { break; }',
      `let rowStart = cBase + row * ${ld.c};`,
      ...loop('c', 'COLS4', [
        'let col = col0 + 4u * c;',
        `storeC(rowStart, col, epilogue(biasBase, rowStart, ${loadColumn('col')}, acc[r][c]));`,
      ]),
    ]),
  ];
}

type LeadingDims = BodyShape['ld'];

/**
 * Per grid: which product this invocation works on (or return), its tile within the product, the row count
 * `rows`, and the start of each operand (aBase, bBase, cBase, biasBase).
 */
const GRID_PROLOGUE: Record<MatmulGrid, (ld: LeadingDims) => Code> = {
  single: () => [
    'if (index >= tiles) { return; }',
    'let tile = index;',
    'let rows = p.M;',
    'let aBase = 0u;',
    'let bBase = 0u;',
    'let cBase = 0u;',
    'let biasBase = 0u;',
  ],
  batched: () => {
    const base = (operand: string) =>
      `let ${operand}Base = (z / p.heads) * p.${operand}BatchStride + (z % p.heads) * p.${operand}HeadStride;`;
    return [
      'if (index >= tiles * p.batch * p.heads) { return; }',
      'let z = index / tiles;',
      'let tile = index % tiles;',
      'let rows = p.M;',
      base('a'),
      base('b'),
      base('c'),
      'let biasBase = 0u;',
    ];
  },
  segmented: (ld) => [
    'if (index >= tiles * p.segments) { return; }',
    'let segment = segments[index / tiles];',
    'let tile = index % tiles;',
    'let rows = segment.y;',
    'if ((tile / tilesN) * ROWS >= rows) { return; }',
    `let aBase = segment.x * ${ld.a};`,
    'let bBase = segment.z;',
    `let cBase = segment.x * ${ld.c};`,
    'let biasBase = segment.w;',
  ],
};

function checkAlignment(name: string, spec: MatmulSpec, grid: MatmulGrid, dims: MatmulDims): void {
  const d = dims as Partial<BatchedMatmulDims>;
  const kStrides: [string, number | undefined][] = [['K', dims.K]];
  const nStrides: [string, number | undefined][] = [['N', dims.N]];
  if (grid === 'batched') {
    kStrides.push(['lda', d.lda], ['aBatchStride', d.aBatchStride], ['aHeadStride', d.aHeadStride]);
    nStrides.push(['ldc', d.ldc], ['cBatchStride', d.cBatchStride], ['cHeadStride', d.cHeadStride]);
    const bStrides: [string, number | undefined][] = [
      ['ldb', d.ldb],
      ['bBatchStride', d.bBatchStride],
      ['bHeadStride', d.bHeadStride],
    ];
    (spec.transposeB ? kStrides : nStrides).push(...bStrides);
  }
  for (const [align, strides] of [
    [spec.alignK, kStrides],
    [spec.alignN, nStrides],
  ] as const) {
    for (const [what, value] of strides) requireMultipleOf(name, what, value ?? 0, align);
  }
}
