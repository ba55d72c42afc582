// Shapes with symbolic batch and sequence sizes. A dimension is affine in at most one symbol:
// `k·sym + c`. That covers everything compositions do to shapes: Parallel tiles the batch (N·B),
// BatchSplit and Split slice it (B − 1, T − 3), prefix tuning extends the keys (T + L).

export type Sym = 'B' | 'T';

export interface Dim {
  readonly sym: Sym | null;
  readonly k: number;
  readonly c: number;
}

export type Shape = readonly Dim[];

export interface Bindings {
  readonly B: number;
  readonly T: number;
}

export const lit = (c: number): Dim => ({ sym: null, k: 0, c });
export const sym = (s: Sym, k = 1, c = 0): Dim => ({ sym: s, k, c });
export const B = sym('B');
export const T = sym('T');

export function shapeOf(...dims: (Dim | number)[]): Shape {
  return dims.map((d) => (typeof d === 'number' ? lit(d) : d));
}

export function dimEquals(a: Dim, b: Dim): boolean {
  if (a.k === 0 && b.k === 0) return a.c === b.c;
  return a.sym === b.sym && a.k === b.k && a.c === b.c;
}

export function shapeEquals(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => dimEquals(d, b[i]));
}

function sameSymbol(a: Dim, b: Dim): Sym | null {
  if (a.k !== 0 && b.k !== 0 && a.sym !== b.sym)
    throw new Error(`cannot combine ${formatDim(a)} and ${formatDim(b)}`);
  return a.k !== 0 ? a.sym : b.k !== 0 ? b.sym : null;
}

export function addDims(a: Dim, b: Dim): Dim {
  const s = sameSymbol(a, b);
  const k = a.k + b.k;
  return k === 0 ? lit(a.c + b.c) : { sym: s, k, c: a.c + b.c };
}

export function subDims(a: Dim, b: Dim): Dim {
  return addDims(a, { sym: b.sym, k: -b.k, c: -b.c });
}

export function scaleDim(a: Dim, factor: number): Dim {
  return a.k === 0 ? lit(a.c * factor) : { sym: a.sym, k: a.k * factor, c: a.c * factor };
}

export function isStatic(d: Dim): boolean {
  return d.k === 0;
}

export function evalDim(d: Dim, env: Bindings): number {
  return d.k === 0 || d.sym === null ? d.c : d.k * env[d.sym] + d.c;
}

export function evalShape(s: Shape, env: Bindings): number[] {
  return s.map((d) => evalDim(d, env));
}

export function staticSize(d: Dim): number {
  if (d.k !== 0) throw new Error(`dimension ${formatDim(d)} is not static`);
  return d.c;
}

export function formatDim(d: Dim): string {
  if (d.k === 0 || d.sym === null) return String(d.c);
  const head = d.k === 1 ? d.sym : d.k === -1 ? `-${d.sym}` : `${d.k}${d.sym}`;
  return d.c === 0 ? head : d.c > 0 ? `${head}+${d.c}` : `${head}${d.c}`;
}

export function formatShape(s: Shape): string {
  return `[${s.map(formatDim).join(',')}]`;
}
