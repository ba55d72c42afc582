// y = LN(x [+ residual]) over the last dim, gamma/beta of length H. Two schedules: one invocation per row
// (no barriers; what llvmpipe prefers) or one workgroup per row with a shared-memory tree reduction (what a real
// GPU prefers when rows are few and long). Both use the two-pass (mean, then centered squares) variance.

import { type Dims, dispatch1D, requireMultipleOf, type WgslKernel } from './kernel.ts';
import { block, type Code, f32, fn, loop, renderKernel, type StorageDecl, u32 } from './render.ts';
import { LANES_FUNCTION, renderLoad4, renderStore4, vectorElement } from './vector-access.ts';

export type LayerNormSchedule =
  | { readonly kind: 'rowPerInvocation'; readonly workgroupSize: number }
  | { readonly kind: 'rowPerWorkgroup'; readonly workgroupSize: number };

/**
 * Measured on llvmpipe with src/bench/layernorm.ts (512×768, x + residual): one row per invocation 2.6-4.4 GB/s;
 * one row per workgroup 1.8-3.3 (wg 8), 0.9-1.7 (wg 64), 0.35-0.6 (wg 256).
 */
export const DEFAULT_LAYERNORM_SCHEDULE: LayerNormSchedule = { kind: 'rowPerInvocation', workgroupSize: 64 };

export interface LayerNormSpec {
  readonly name?: string;
  readonly eps: number;
  /** Fold `x + residual` into the normalisation. */
  readonly residual?: boolean;
  /** 4 when H is always a multiple of 4 (vec4 loads), else 1. */
  readonly alignH: 1 | 4;
  readonly schedule?: LayerNormSchedule;
}

export interface LayerNormDims extends Dims {
  readonly rows: number;
  readonly H: number;
}

export function layerNormKernel(spec: LayerNormSpec): WgslKernel<LayerNormDims> {
  const schedule = spec.schedule ?? DEFAULT_LAYERNORM_SCHEDULE;
  const name = spec.name ?? `layernorm${spec.residual ? '_residual' : ''}`;
  const vec = spec.alignH === 4;
  const element = vectorElement(vec);
  const storage: StorageDecl[] = [
    { name: 'x', access: 'read', element },
    ...(spec.residual ? [{ name: 'residual', access: 'read', element } as const] : []),
    { name: 'gamma', access: 'read', element },
    { name: 'beta', access: 'read', element },
    { name: 'y', access: 'read_write', element },
  ];
  const load = (fnName: string, buffer: string) =>
    renderLoad4({ name: fnName, buffer, vectorized: vec, bound: 'p.H' });
  const sum = spec.residual ? 'loadX(start, h) + loadResidual(start, h)' : 'loadX(start, h)';
  const perWorkgroup = schedule.kind === 'rowPerWorkgroup';
  if (perWorkgroup && !isPowerOfTwo(schedule.workgroupSize)) {
    throw new RangeError(`${name}: a workgroup reduction needs a power-of-two workgroup size`);
  }
  return renderKernel<LayerNormDims>(
    {
      name,
      storage,
      uniforms: [
        { name: 'rows', type: 'u32' },
        { name: 'H', type: 'u32' },
      ],
      constants: [
        ['EPS', f32(spec.eps)],
        ...(perWorkgroup ? [['WG', u32(schedule.workgroupSize)] as const] : []),
      ],
      declarations: perWorkgroup ? ['var<workgroup> partial: array<f32, WG>;'] : [],
      functions: [
        load('loadX', 'x'),
        ...(spec.residual ? [load('loadResidual', 'residual')] : []),
        load('loadGamma', 'gamma'),
        load('loadBeta', 'beta'),
        renderStore4({ name: 'storeY', buffer: 'y', vectorized: vec, bound: 'p.H' }),
        fn('loadRow(start: u32, h: u32) -> vec4f', `return ${sum};`),
        ...(vec ? [] : [LANES_FUNCTION]),
        ...(perWorkgroup ? [SYNC_WORKGROUP, WORKGROUP_SUM] : []),
      ],
      workgroupSize: schedule.workgroupSize,
      body: perWorkgroup ? rowPerWorkgroupBody(vec) : rowPerInvocationBody(vec),
    },
    (dims) => {
      if (vec) requireMultipleOf(name, 'H', dims.H, 4);
      return dispatch1D(
        perWorkgroup ? dims.rows * schedule.workgroupSize : dims.rows,
        schedule.workgroupSize,
      );
    },
  );
}

/**
 * On Dawn's OpenGL backend over llvmpipe, workgroupBarrier() alone does not order workgroup memory between
 * invocations in different SIMD batches (workgroups above 8 invocations reduced wrongly, measured); the extra
 * storageBarrier() makes it correct there and costs little elsewhere.
 */
const SYNC_WORKGROUP = fn('syncWorkgroup()', 'workgroupBarrier();', 'storageBarrier();');

const WORKGROUP_SUM = fn(
  'workgroupSum(lane: u32, value: f32) -> f32',
  'partial[lane] = value;',
  'syncWorkgroup();',
  ...block(
    'for (var stride = WG / 2u; stride > 0u; stride >>= 1u)',
    ...block('if (lane < stride)', 'partial[lane] += partial[lane + stride];'),
    'syncWorkgroup();',
  ),
  'let total = partial[0];',
  'syncWorkgroup();',
  'return total;',
);

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** The three passes over a row, striding `from`/`step`; `total` turns a vec4 partial sum into the row's sum. */
function normalizePasses(vec: boolean, from: string, step: string, total: (partial: string) => string): Code {
  const overRow = (body: Code) => loop('h', 'p.H', body, from, step);
  const centered = vec
    ? 'loadRow(start, h) - mean'
    : 'select(vec4f(0.0), loadRow(start, h) - mean, lanes(h, p.H))';
  return [
    'var sum = vec4f(0.0);',
    ...overRow(['sum += loadRow(start, h);']),
    `let mean = ${total('dot(sum, vec4f(1.0))')} / f32(p.H);`,
    'var squares = vec4f(0.0);',
    ...overRow([`let d = ${centered};`, 'squares += d * d;']),
    `let invStd = inverseSqrt(${total('dot(squares, vec4f(1.0))')} / f32(p.H) + EPS);`,
  ];
}

function writePass(from: string, step: string, guard?: string): Code {
  const write = loop(
    'h',
    'p.H',
    ['storeY(start, h, (loadRow(start, h) - mean) * invStd * loadGamma(0u, h) + loadBeta(0u, h));'],
    from,
    step,
  );
  return guard ? block(`if (${guard})`, ...write) : write;
}

function rowPerInvocationBody(vec: boolean): Code {
  return [
    'if (index >= p.rows) { return; }',
    'let start = index * p.H;',
    ...normalizePasses(vec, '0u', '4u', (s) => s),
    ...writePass('0u', '4u'),
  ];
}

/** Barriers need uniform control flow: lanes of a spilled-over workgroup past the last row compute but store nothing. */
function rowPerWorkgroupBody(vec: boolean): Code {
  return [
    'let row = index / WG;',
    'let lane = index % WG;',
    'let start = min(row, p.rows - 1u) * p.H;',
    ...normalizePasses(vec, 'lane * 4u', '4u * WG', (s) => `workgroupSum(lane, ${s})`),
    ...writePass('lane * 4u', '4u * WG', 'row < p.rows'),
  ];
}
