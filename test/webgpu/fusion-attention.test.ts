import { describe, it } from 'vitest';
import { fusionAttentionKernel } from '../../src/codegen-wgsl/fusion-attention.ts';
import { expectClose, randomArray, runKernel, useGpu } from './gpu.ts';
import { fusionAttention } from './reference.ts';

const gpu = useGpu();

describe('AdapterFusion attention', () => {
  for (const [rows, adapters, H, temperature] of [
    [7, 3, 16, 1],
    [5, 2, 13, 50],
    [40, 5, 64, 2.5],
  ]) {
    it(`${rows} tokens, ${adapters} adapters, H = ${H}, T = ${temperature}`, async () => {
      const q = randomArray(rows * H, 41);
      const k = randomArray(rows * adapters * H, 42);
      const v = randomArray(rows * adapters * H, 43);
      const kernel = fusionAttentionKernel({ adapters, alignH: H % 4 === 0 ? 4 : 1 });
      const result = await runKernel(
        gpu(),
        kernel,
        { rows, H, temperature },
        { q, k, v },
        { ctx: rows * H, probs: rows * adapters },
      );
      const expected = fusionAttention(q, k, v, rows, adapters, H, temperature);
      expectClose(result.ctx, expected.ctx);
      expectClose(result.probs, expected.probs);
    });
  }
});
