// Loads and stores of 4 consecutive f32 starting at `start + at`, where `at` is the coordinate along a row and
// `start` the precomputed offset of the row. With the alignment promised they are single vec4 accesses on an
// `array<vec4f>` binding; otherwise element-wise accesses on `array<f32>` that zero-fill (loads) or skip
// (stores) positions at or past the row's bound, which is how every kernel handles ragged edges. Helper locals
// and parameters avoid short names because WGSL lets them shadow bindings such as `v` or `x`.

import { block, fn, loop } from './render.ts';

export interface VectorAccess {
  /** Helper function name. */
  readonly name: string;
  readonly buffer: string;
  /** True when the binding is `array<vec4f>` and `start + at` is always a multiple of 4. */
  readonly vectorized: boolean;
  /** Exclusive upper bound of `at`, e.g. `p.N`. */
  readonly bound: string;
}

export function renderLoad4(a: VectorAccess): string {
  const signature = `${a.name}(start: u32, at: u32) -> vec4f`;
  if (a.vectorized) return fn(signature, `return ${a.buffer}[(start + at) / 4u];`);
  return fn(
    signature,
    'var loaded = vec4f(0.0);',
    ...loop('j', '4u', block(`if (at + j < ${a.bound})`, `loaded[j] = ${a.buffer}[start + at + j];`)),
    'return loaded;',
  );
}

export function renderStore4(a: VectorAccess): string {
  const signature = `${a.name}(start: u32, at: u32, value: vec4f)`;
  if (a.vectorized) {
    return fn(signature, ...block(`if (at < ${a.bound})`, `${a.buffer}[(start + at) / 4u] = value;`));
  }
  return fn(
    signature,
    ...loop('j', '4u', block(`if (at + j < ${a.bound})`, `${a.buffer}[start + at + j] = value[j];`)),
  );
}

export function vectorElement(vectorized: boolean): 'vec4f' | 'f32' {
  return vectorized ? 'vec4f' : 'f32';
}

/** Which of the 4 lanes at x..x+3 lie below the bound; masks zero-filled lanes out of reductions. */
export const LANES_FUNCTION = fn(
  'lanes(x: u32, bound: u32) -> vec4<bool>',
  'return vec4u(x) + vec4u(0u, 1u, 2u, 3u) < vec4u(bound);',
);
