// View steps evaluated at one run's sizes: the strides, offset and wrap extents a kernel uses to read a buffer
// through reshapes, permutes, slices, broadcasts and tiles without copying it.

import { type Bindings, evalDim, evalShape } from '../ir/shape.ts';
import type { ViewStep } from '../passes/fusion-groups.ts';

export interface StridedView {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /** Coordinates along each axis are taken modulo this extent (a tiled axis); otherwise the axis size. */
  readonly wraps: readonly number[];
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i];
  }
  return strides;
}

export function contiguousView(shape: readonly number[]): StridedView {
  return { shape, strides: contiguousStrides(shape), offset: 0, wraps: shape };
}

function isContiguous(v: StridedView): boolean {
  const want = contiguousStrides(v.shape);
  return v.shape.every((d, i) => d <= 1 || (v.strides[i] === want[i] && v.wraps[i] === d));
}

function applyStep(v: StridedView, step: ViewStep, env: Bindings): StridedView {
  switch (step.kind) {
    case 'reshape': {
      if (!isContiguous(v)) throw new Error(`reshape of a non-contiguous view [${v.shape}]`);
      const shape = evalShape(step.to, env);
      return { ...contiguousView(shape), offset: v.offset };
    }
    case 'permute':
      return {
        shape: step.perm.map((p) => v.shape[p]),
        strides: step.perm.map((p) => v.strides[p]),
        offset: v.offset,
        wraps: step.perm.map((p) => v.wraps[p]),
      };
    case 'slice': {
      const [start, end] = [evalDim(step.start, env), evalDim(step.end, env)];
      const shape = v.shape.map((d, i) => (i === step.axis ? end - start : d));
      return {
        shape,
        strides: v.strides,
        offset: v.offset + start * v.strides[step.axis],
        wraps: v.wraps.map((w, i) => (i === step.axis ? shape[i] : w)),
      };
    }
    case 'expand': {
      const shape = evalShape(step.to, env);
      const lead = shape.length - v.shape.length;
      const from = (i: number) => i - lead;
      const stretched = (i: number) => from(i) < 0 || (v.shape[from(i)] === 1 && shape[i] !== 1);
      return {
        shape,
        strides: shape.map((_, i) => (stretched(i) ? 0 : v.strides[from(i)])),
        offset: v.offset,
        wraps: shape.map((d, i) => (stretched(i) ? d : v.wraps[from(i)])),
      };
    }
    case 'tile':
      return {
        shape: v.shape.map((d, i) => (i === 0 ? d * step.times : d)),
        strides: v.strides,
        offset: v.offset,
        wraps: v.wraps,
      };
    case 'append': {
      const dims = evalShape(step.dims, env);
      return {
        shape: [...v.shape, ...dims],
        strides: [...v.strides, ...dims.map(() => 0)],
        offset: v.offset,
        wraps: [...v.wraps, ...dims],
      };
    }
  }
}

/** The view of a buffer holding a row-major tensor of `baseShape` after `steps`. */
export function resolveView(
  baseShape: readonly number[],
  steps: readonly ViewStep[],
  env: Bindings,
): StridedView {
  return steps.reduce((v, s) => applyStep(v, s, env), contiguousView(baseShape));
}

/** True when a step wraps coordinates (only tiles do), so the kernel must emit the modulo. */
export function stepsWrap(steps: readonly ViewStep[]): boolean {
  return steps.some((s) => s.kind === 'tile');
}
