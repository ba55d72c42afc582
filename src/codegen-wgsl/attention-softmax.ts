// probs = softmax(scores · scale + mask) over the last dim, for attention scores [B·heads·Tq, Tk]. The additive
// mask is [B, Tk − prefix], broadcast over heads and queries; the first `prefix` keys (prefix-tuning positions)
// carry no mask entry and are always attended. Masks must be finite (HF uses finfo(f32).min, not −inf).

import { type Dims, dispatch1D, type WgslKernel } from './kernel.ts';
import { f32, fn, loop, renderKernel, type StorageDecl } from './render.ts';

export interface AttentionSoftmaxSpec {
  readonly name?: string;
  /** Multiplies the scores before the mask is added (1/sqrt(d) when the matmul did not fuse it). */
  readonly scale?: number;
  readonly mask: boolean;
  readonly workgroupSize?: number;
}

export interface AttentionSoftmaxDims extends Dims {
  /** B·heads·Tq */
  readonly rows: number;
  /** heads·Tq: consecutive rows sharing one batch's mask. */
  readonly rowsPerBatch: number;
  /** Keys per row, prefix keys included. */
  readonly Tk: number;
  readonly prefix: number;
}

export function attentionSoftmaxKernel(spec: AttentionSoftmaxSpec): WgslKernel<AttentionSoftmaxDims> {
  const workgroupSize = spec.workgroupSize ?? 64;
  const storage: StorageDecl[] = [
    { name: 'scores', access: 'read', element: 'f32' },
    ...(spec.mask ? [{ name: 'mask', access: 'read', element: 'f32' } as const] : []),
    { name: 'probs', access: 'read_write', element: 'f32' },
  ];
  const scaled = spec.scale === undefined ? 'scores[start + j]' : `scores[start + j] * ${f32(spec.scale)}`;
  const logit = spec.mask
    ? fn(
        'logit(start: u32, maskStart: u32, j: u32) -> f32',
        `let s = ${scaled};`,
        'if (j < p.prefix) { return s; }',
        'return s + mask[maskStart + j - p.prefix];',
      )
    : fn('logit(start: u32, maskStart: u32, j: u32) -> f32', `return ${scaled};`);
  return renderKernel<AttentionSoftmaxDims>(
    {
      name: spec.name ?? `attention_softmax${spec.mask ? '_masked' : ''}`,
      storage,
      uniforms: ['rows', 'rowsPerBatch', 'Tk', 'prefix'].map((name) => ({ name, type: 'u32' })),
      functions: [logit],
      workgroupSize,
      body: [
        'if (index >= p.rows || p.Tk == 0u) { return; }',
        'let start = index * p.Tk;',
        'let maskStart = (index / p.rowsPerBatch) * (p.Tk - p.prefix);',
        'var highest = logit(start, maskStart, 0u);',
        ...loop('j', 'p.Tk', ['highest = max(highest, logit(start, maskStart, j));'], '1u'),
        'var total = 0.0;',
        ...loop('j', 'p.Tk', [
          'let e = exp(logit(start, maskStart, j) - highest);',
          'probs[start + j] = e;',
          'total += e;',
        ]),
        'let inverse = 1.0 / total;',
        ...loop('j', 'p.Tk', ['probs[start + j] *= inverse;']),
      ],
    },
    (dims) => dispatch1D(dims.rows, workgroupSize),
  );
}
