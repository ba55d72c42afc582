// torch's CrossEntropyLoss (mean over counted rows: label ≠ −100 and, for tagging, attention_mask = 1) and its
// gradient. The loss is one invocation looping over every row in order, so it is deterministic; the gradient is
// one invocation per row, each counting the rows itself (rows are a batch's positions: a few thousand at most).

import { type Dims, dispatch1D, type WgslKernel } from './kernel.ts';
import { block, fn, loop, renderKernel, type StorageDecl } from './render.ts';

export interface CrossEntropySpec {
  /** The gradient instead of the loss, scaled by the uniform `scale` and, with `dloss`, that scalar buffer. */
  readonly grad: boolean;
  readonly dloss?: boolean;
  /** Rows count only where this i32 mask is 1 (tagging heads). */
  readonly mask: boolean;
}

export interface CrossEntropyDims extends Dims {
  readonly rows: number;
  readonly classes: number;
  /** The gradient's constant factor (ignored by the loss). */
  readonly scale: number;
}

const IGNORE_INDEX = -100;

export function crossEntropyKernel(spec: CrossEntropySpec, workgroupSize = 64): WgslKernel<CrossEntropyDims> {
  const storage: StorageDecl[] = [
    { name: 'logits', access: 'read', element: 'f32' },
    { name: 'labels', access: 'read', element: 'i32' },
    ...(spec.dloss ? [{ name: 'dloss', access: 'read', element: 'f32' } as const] : []),
    ...(spec.mask ? [{ name: 'mask', access: 'read', element: 'i32' } as const] : []),
    { name: 'out', access: 'read_write', element: 'f32' },
  ];
  const counted = fn(
    'counted(r: u32) -> bool',
    `return labels[r] != ${IGNORE_INDEX}${spec.mask ? ' && mask[r] == 1' : ''};`,
  );
  const rowMax = fn(
    'rowMax(start: u32) -> f32',
    'var m = logits[start];',
    ...loop('c', 'p.classes', ['m = max(m, logits[start + c]);'], '1u'),
    'return m;',
  );
  const rowSum = fn(
    'rowSumExp(start: u32, m: f32) -> f32',
    'var s = 0.0;',
    ...loop('c', 'p.classes', ['s += exp(logits[start + c] - m);']),
    'return s;',
  );
  const countRows = fn(
    'countRows() -> f32',
    'var n = 0u;',
    ...loop('r', 'p.rows', ['if (counted(r)) { n++; }']),
    'return f32(n);',
  );
  const lossBody = [
    'if (index > 0u) { return; }',
    'var total = 0.0;',
    'var n = 0u;',
    ...loop('r', 'p.rows', [
      'if (!counted(r)) { continue; }',
      'let start = r * p.classes;',
      'let m = rowMax(start);',
      'total += log(rowSumExp(start, m)) + m - logits[start + u32(labels[r])];',
      'n++;',
    ]),
    'out[0] = total / f32(n);',
  ];
  const gradBody = [
    'if (index >= p.rows) { return; }',
    'let start = index * p.classes;',
    ...block('if (!counted(index))', ...loop('c', 'p.classes', ['out[start + c] = 0.0;']), 'return;'),
    'let m = rowMax(start);',
    'let s = rowSumExp(start, m);',
    `let scale = ${spec.dloss ? 'dloss[0] * ' : ''}p.scale / countRows();`,
    'let label = u32(labels[index]);',
    ...loop('c', 'p.classes', [
      'out[start + c] = (exp(logits[start + c] - m) / s - select(0.0, 1.0, c == label)) * scale;',
    ]),
  ];
  return renderKernel<CrossEntropyDims>(
    {
      name: `cross_entropy${spec.grad ? '_grad' : ''}${spec.dloss ? '_dloss' : ''}${spec.mask ? '_masked' : ''}`,
      storage,
      uniforms: [
        { name: 'rows', type: 'u32' },
        { name: 'classes', type: 'u32' },
        ...(spec.grad ? [{ name: 'scale', type: 'f32' } as const] : []),
      ],
      functions: [counted, rowMax, rowSum, ...(spec.grad ? [countRows] : [])],
      workgroupSize,
      body: spec.grad ? gradBody : lossBody,
    },
    (dims) => dispatch1D(spec.grad ? dims.rows : 1, workgroupSize),
  );
}
