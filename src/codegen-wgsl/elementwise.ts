// The one generic kernel for elementwise, broadcast and data-movement work: each invocation computes one output
// element from a scalar expression over strided reads. Leaves read their buffer at
// offset + Σ coordinate·stride (coordinates modulo a wrap extent for tiled axes), so broadcasts, permutes, slices
// and tiles cost nothing extra; a plain copy is the identity expression, and an output view (strides + offset)
// lets several launches fill one concatenated buffer. All sizes and strides are uniforms: new batch sizes and
// sequence lengths reuse the same WGSL.

import { dropoutThreshold } from '../ir/dropout.ts';
import type { BinaryFn, UnaryFn } from '../ir/graph.ts';
import {
  type Activation,
  activationFunctions,
  applyActivation,
  applyDerivative,
  derivativeFunctions,
} from './activation.ts';
import { type Dims, dispatch1D, type WgslKernel } from './kernel.ts';
import { f32, fn, renderKernel, type StorageDecl, u32 } from './render.ts';
import type { StridedView } from './views.ts';

export type ElementType = 'f32' | 'i32';

export type ScalarExpr =
  | { readonly kind: 'leaf'; readonly leaf: number }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'unary'; readonly fn: UnaryFn; readonly x: ScalarExpr }
  | { readonly kind: 'binary'; readonly fn: BinaryFn; readonly a: ScalarExpr; readonly b: ScalarExpr }
  /** BERT's additive mask (1 − m)·finfo(f32).min. */
  | { readonly kind: 'mask_bias'; readonly x: ScalarExpr }
  /** buffer[ids · width + last coordinate] */
  | { readonly kind: 'gather'; readonly buffer: string; readonly width: number; readonly ids: ScalarExpr }
  | { readonly kind: 'row_select'; readonly task: ScalarExpr; readonly choices: readonly ScalarExpr[] }
  /** dy · fn′(x). */
  | { readonly kind: 'unary_grad'; readonly fn: UnaryFn; readonly x: ScalarExpr; readonly dy: ScalarExpr }
  /**
   * The inverted-dropout mask element at the output's row-major `index` (ir/dropout.ts
   * `dropoutKeeps`): `keep` where kept, else 0; `seed` is the step's i32 seed.
   */
  | {
      readonly kind: 'dropout';
      readonly p: number;
      readonly stream: number;
      readonly seed: ScalarExpr;
    };

export interface ElementwiseLeaf {
  readonly buffer: string;
  /** Emit `coordinate % wrap` (tiled axes). */
  readonly wraps: boolean;
}

export interface ElementwiseSpec {
  readonly name?: string;
  /** Rank of the output coordinate space. */
  readonly rank: number;
  /** Read-only bindings, in binding order. */
  readonly buffers: readonly { readonly name: string; readonly element: ElementType }[];
  readonly leaves: readonly ElementwiseLeaf[];
  readonly expr: ScalarExpr;
  readonly output: ElementType;
  /** Write through strides and an offset (one part of a concatenation) instead of row-major at `index`. */
  readonly outputView: boolean;
  readonly workgroupSize?: number;
}

/** ir/dropout.ts `mix32` (lowbias32); u32 arithmetic wraps like Math.imul. */
const MIX32 = fn(
  'mix32(x: u32) -> u32',
  'var h = x;',
  'h ^= h >> 16u;',
  'h *= 0x7feb352du;',
  'h ^= h >> 15u;',
  'h *= 0x846ca68bu;',
  'h ^= h >> 16u;',
  'return h;',
);

const BINARY_OPERATORS: Record<BinaryFn, string> = { add: '+', sub: '-', mul: '*', div: '/' };
const F32_LOWEST = 'bitcast<f32>(0xff7fffffu)';

interface Rendered {
  readonly lines: string[];
  readonly helpers: Set<string>;
}

function renderExpr(
  e: ScalarExpr,
  spec: ElementwiseSpec,
  out: Rendered,
): { readonly value: string; readonly type: ElementType } {
  const bind = (value: string, type: ElementType) => {
    const name = `e${out.lines.length}`;
    out.lines.push(`let ${name} = ${value};`);
    return { value: name, type };
  };
  const asF32 = (x: { value: string; type: ElementType }) => (x.type === 'f32' ? x.value : `f32(${x.value})`);
  switch (e.kind) {
    case 'leaf':
      return bind(`${spec.leaves[e.leaf].buffer}[${leafIndex(e.leaf, spec)}]`, elementOf(spec, e.leaf));
    case 'const':
      return { value: f32(e.value), type: 'f32' };
    case 'unary': {
      const x = asF32(renderExpr(e.x, spec, out));
      if (e.fn === 'identity') return { value: x, type: 'f32' };
      if (e.fn === 'exp') return bind(`exp(${x})`, 'f32');
      for (const helper of activationFunctions(e.fn as Activation)) out.helpers.add(helper);
      return bind(`${applyActivation(e.fn as Activation, `vec4f(${x})`)}.x`, 'f32');
    }
    case 'binary': {
      const a = asF32(renderExpr(e.a, spec, out));
      const b = asF32(renderExpr(e.b, spec, out));
      return bind(`${a} ${BINARY_OPERATORS[e.fn]} ${b}`, 'f32');
    }
    case 'mask_bias':
      return bind(`(1.0 - ${asF32(renderExpr(e.x, spec, out))}) * ${F32_LOWEST}`, 'f32');
    case 'gather': {
      const ids = renderExpr(e.ids, spec, out);
      const last = spec.rank === 0 ? '0u' : `c${spec.rank - 1}`;
      return bind(`${e.buffer}[u32(${ids.value}) * ${u32(e.width)} + ${last}]`, 'f32');
    }
    case 'unary_grad': {
      const x = asF32(renderExpr(e.x, spec, out));
      const dy = asF32(renderExpr(e.dy, spec, out));
      if (e.fn === 'exp') return bind(`exp(${x}) * ${dy}`, 'f32');
      for (const helper of derivativeFunctions(e.fn as Activation)) out.helpers.add(helper);
      return bind(`${applyDerivative(e.fn as Activation, `vec4f(${x})`)}.x * ${dy}`, 'f32');
    }
    case 'dropout': {
      if (spec.outputView) throw new RangeError('a dropout mask is drawn at row-major output indices');
      const seed = renderExpr(e.seed, spec, out);
      out.helpers.add(MIX32);
      const key = `mix32(bitcast<u32>(${seed.value}) ^ ${u32(Math.imul(e.stream + 1, 0x9e3779b9) >>> 0)})`;
      const kept = `(mix32(${key} ^ mix32(index)) >> 8u) >= ${u32(dropoutThreshold(e.p))}`;
      return bind(`select(0.0, ${f32(1 / (1 - e.p))}, ${kept})`, 'f32');
    }
    case 'row_select': {
      const task = renderExpr(e.task, spec, out);
      const choices = e.choices.map((c) => renderExpr(c, spec, out));
      const type = choices.every((c) => c.type === choices[0].type) ? choices[0].type : 'f32';
      const typed = choices.map((c) => (type === c.type ? c.value : asF32(c)));
      const chosen = typed
        .slice(1)
        .reduce((acc, c, i) => `select(${acc}, ${c}, u32(${task.value}) == ${u32(i + 1)})`, typed[0]);
      return bind(chosen, type);
    }
  }
}

function elementOf(spec: ElementwiseSpec, leaf: number): ElementType {
  return spec.buffers.find((b) => b.name === spec.leaves[leaf].buffer)?.element ?? 'f32';
}

function coordinateTerm(leaf: number, axis: number, wraps: boolean): string {
  const coordinate = wraps ? `(c${axis} % p.l${leaf}w${axis})` : `c${axis}`;
  return `${coordinate} * p.l${leaf}s${axis}`;
}

function leafIndex(leaf: number, spec: ElementwiseSpec): string {
  const wraps = spec.leaves[leaf].wraps;
  const terms = Array.from({ length: spec.rank }, (_, axis) => coordinateTerm(leaf, axis, wraps));
  return [`p.l${leaf}o`, ...terms].join(' + ');
}

function uniformNames(spec: ElementwiseSpec): string[] {
  const axes = Array.from({ length: spec.rank }, (_, a) => a);
  return [
    'n',
    ...axes.map((a) => `d${a}`),
    ...spec.leaves.flatMap((leaf, i) => [
      `l${i}o`,
      ...axes.map((a) => `l${i}s${a}`),
      ...(leaf.wraps ? axes.map((a) => `l${i}w${a}`) : []),
    ]),
    ...(spec.outputView ? ['oo', ...axes.map((a) => `os${a}`)] : []),
  ];
}

function coordinates(rank: number): string[] {
  if (rank === 0) return [];
  const lines = ['var rest = index;'];
  for (let a = rank - 1; a > 0; a--) lines.push(`let c${a} = rest % p.d${a};`, `rest = rest / p.d${a};`);
  lines.push('let c0 = rest;');
  return lines;
}

export function elementwiseKernel(spec: ElementwiseSpec): WgslKernel<Dims> {
  const workgroupSize = spec.workgroupSize ?? 64;
  const rendered: Rendered = { lines: [], helpers: new Set() };
  const result = renderExpr(spec.expr, spec, rendered);
  const value = result.type === spec.output ? result.value : `${spec.output}(${result.value})`;
  const target = spec.outputView
    ? ['p.oo', ...Array.from({ length: spec.rank }, (_, a) => `c${a} * p.os${a}`)].join(' + ')
    : 'index';
  const storage: StorageDecl[] = [
    ...spec.buffers.map((b) => ({ name: b.name, access: 'read' as const, element: b.element })),
    { name: 'out', access: 'read_write', element: spec.output },
  ];
  return renderKernel<Dims>(
    {
      name: spec.name ?? `elementwise_r${spec.rank}`,
      storage,
      uniforms: uniformNames(spec).map((name) => ({ name, type: 'u32' })),
      functions: [...rendered.helpers],
      workgroupSize,
      body: [
        'if (index >= p.n) { return; }',
        ...coordinates(spec.rank),
        ...rendered.lines,
        `out[${target}] = ${value};`,
      ],
    },
    (dims) => dispatch1D(dims.n, workgroupSize),
  );
}

/** Uniform values for one launch: the output shape, each leaf's view, and the output view if any. */
export function elementwiseDims(
  shape: readonly number[],
  leaves: readonly StridedView[],
  output?: StridedView,
): Dims {
  const dims: Record<string, number> = { n: shape.reduce((a, b) => a * b, 1) };
  shape.forEach((d, a) => {
    dims[`d${a}`] = d;
  });
  leaves.forEach((v, i) => {
    dims[`l${i}o`] = v.offset;
    v.strides.forEach((s, a) => {
      dims[`l${i}s${a}`] = s;
      dims[`l${i}w${a}`] = Math.max(1, v.wraps[a]);
    });
  });
  if (output) {
    dims.oo = output.offset;
    output.strides.forEach((s, a) => {
      dims[`os${a}`] = s;
    });
  }
  return dims;
}
