import { describe, it } from 'vitest';
import {
  type AttentionSoftmaxDims,
  attentionSoftmaxKernel,
} from '../../src/codegen-wgsl/attention-softmax.ts';
import { expectClose, randomArray, runKernel, useGpu } from './gpu.ts';
import { attentionSoftmax } from './reference.ts';

const gpu = useGpu();

/** HF-style additive mask: 0 where attended, finfo(f32).min at padding. */
function paddingMask(batch: number, keys: number, lengths: number[]): Float32Array {
  return Float32Array.from({ length: batch * keys }, (_, i) =>
    i % keys < lengths[Math.floor(i / keys)] ? 0 : -3.4028234663852886e38,
  );
}

describe('attention softmax', () => {
  it('scales, masks per batch (broadcast over heads and queries) and normalizes ragged rows', async () => {
    const [B, heads, Tq, Tk] = [3, 2, 5, 7];
    const dims: AttentionSoftmaxDims = { rows: B * heads * Tq, rowsPerBatch: heads * Tq, Tk, prefix: 0 };
    const scores = randomArray(dims.rows * Tk, 21, 4);
    const mask = paddingMask(B, Tk, [7, 3, 1]);
    const kernel = attentionSoftmaxKernel({ mask: true, scale: 0.125 });
    const { probs } = await runKernel(gpu(), kernel, dims, { scores, mask }, { probs: dims.rows * Tk });
    expectClose(probs, attentionSoftmax(scores, mask, dims, 0.125));
  });

  it('always attends prefix keys, which have no mask entry', async () => {
    const [B, heads, Tq, prefix, T] = [2, 3, 4, 5, 6];
    const Tk = prefix + T;
    const dims: AttentionSoftmaxDims = { rows: B * heads * Tq, rowsPerBatch: heads * Tq, Tk, prefix };
    const scores = randomArray(dims.rows * Tk, 22, 3);
    const mask = paddingMask(B, T, [2, 0]);
    const kernel = attentionSoftmaxKernel({ mask: true });
    const { probs } = await runKernel(gpu(), kernel, dims, { scores, mask }, { probs: dims.rows * Tk });
    expectClose(probs, attentionSoftmax(scores, mask, dims));
  });

  it('works without a mask on long rows', async () => {
    const dims: AttentionSoftmaxDims = { rows: 9, rowsPerBatch: 9, Tk: 515, prefix: 0 };
    const scores = randomArray(dims.rows * dims.Tk, 23, 20);
    const { probs } = await runKernel(
      gpu(),
      attentionSoftmaxKernel({ mask: false }),
      dims,
      { scores },
      { probs: 9 * 515 },
    );
    expectClose(probs, attentionSoftmax(scores, undefined, dims));
  });
});
