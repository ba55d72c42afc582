// C[M,N] = A[M,K] · B with B as [K,N] or [N,K] (nn.Linear weights), optionally batched over [batch·heads], with
// a fused epilogue. Each invocation owns a register tile of `rows` × 4·`cols4` outputs and walks K four at a
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
  /** Adds a [batch·heads] grid with per-operand strides (see `BatchedMatmulDims`). */
  readonly batched?: boolean;
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

const PLAIN_UNIFORMS = ['M', 'N', 'K'] as const;
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

export function matmulKernel(spec: MatmulSpec & { batched: true }): WgslKernel<BatchedMatmulDims>;
export function matmulKernel(spec: MatmulSpec): WgslKernel<MatmulDims>;
export function matmulKernel(spec: MatmulSpec): WgslKernel<MatmulDims> {
  const schedule = spec.schedule ?? DEFAULT_MATMUL_SCHEDULE;
  const epilogue = spec.epilogue ?? {};
  const batched = spec.batched ?? false;
  const name = spec.name ?? defaultName(spec);
  const vecK = spec.alignK === 4;
  const vecN = spec.alignN === 4;
  const vecB = spec.transposeB ? vecK : vecN;
  const ld = batched
    ? { a: 'p.lda', b: 'p.ldb', c: 'p.ldc' }
    : { a: 'p.K', b: spec.transposeB ? 'p.K' : 'p.N', c: 'p.N' };

  const storage: StorageDecl[] = [
    { name: 'a', access: 'read', element: vectorElement(vecK) },
    { name: 'b', access: 'read', element: vectorElement(vecB) },
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
      uniforms: (batched ? BATCHED_UNIFORMS : PLAIN_UNIFORMS).map((field) => ({ name: field, type: 'u32' })),
      constants: [
        ['ROWS', u32(schedule.rows)],
        ['COLS4', u32(schedule.cols4)],
      ],
      functions,
      workgroupSize: schedule.workgroupSize,
      body: matmulBody({ transposeB: spec.transposeB, batched, vecK, vecN, ld, schedule }),
    },
    (dims) => {
      checkAlignment(name, spec, batched, dims);
      const products = batched ? (dims as BatchedMatmulDims).batch * (dims as BatchedMatmulDims).heads : 1;
      const tiles = Math.ceil(dims.M / schedule.rows) * Math.ceil(dims.N / tileN);
      return dispatch1D(products * tiles, schedule.workgroupSize);
    },
  );
}

function defaultName(spec: MatmulSpec): string {
  return `matmul${spec.batched ? '_batched' : ''}${spec.transposeB ? '_bt' : ''}`;
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
    steps.push('v += loadBias(0u, col);');
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
      'epilogue(rowStart: u32, col: u32, acc: vec4f) -> vec4f',
      ...(steps.length === 0 ? ['return acc;'] : ['var v = acc;', ...steps, 'return v;']),
    ),
  ];
}

interface BodyShape {
  readonly transposeB: boolean;
  readonly batched: boolean;
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
  const { transposeB, batched, vecK, vecN, ld, schedule } = shape;
  const invocations = batched ? 'tiles * p.batch * p.heads' : 'tiles';
  const base = (operand: string) =>
    batched ? `(z / p.heads) * p.${operand}BatchStride + (z % p.heads) * p.${operand}HeadStride` : '0u';
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
    `if (index >= ${invocations}) { return; }`,
    'let z = index / tiles;',
    'let tile = index % tiles;',
    'let row0 = (tile / tilesN) * ROWS;',
    'let col0 = (tile % tilesN) * 4u * COLS4;',
    `let aBase = ${base('a')};`,
    `let bBase = ${base('b')};`,
    `let cBase = ${base('c')};`,
    ...unroll(schedule.rows, (r) => [`let aRow${r} = aBase + min(${plus('row0', r)}, p.M - 1u) * ${ld.a};`]),
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
      'if (row >= p.M) { break; }',
      `let rowStart = cBase + row * ${ld.c};`,
      ...loop('c', 'COLS4', [
        'let col = col0 + 4u * c;',
        `storeC(rowStart, col, epilogue(rowStart, ${loadColumn('col')}, acc[r][c]));`,
      ]),
    ]),
  ];
}

function checkAlignment(name: string, spec: MatmulSpec, batched: boolean, dims: MatmulDims): void {
  const d = dims as Partial<BatchedMatmulDims>;
  const kStrides: [string, number | undefined][] = [['K', dims.K]];
  const nStrides: [string, number | undefined][] = [['N', dims.N]];
  if (batched) {
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
