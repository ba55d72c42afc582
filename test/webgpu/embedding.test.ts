import { describe, it } from 'vitest';
import { embeddingKernel } from '../../src/codegen-wgsl/embedding.ts';
import { expectClose, random, randomArray, runKernel, useGpu } from './gpu.ts';

const gpu = useGpu();

function ids(length: number, below: number, seed: number): Uint32Array {
  const next = random(seed);
  return Uint32Array.from({ length }, () => Math.floor(next() * below));
}

describe('embedding gather', () => {
  for (const [H, tokenTypes] of [
    [12, true],
    [13, true],
    [8, false],
  ] as const) {
    it(`sums word + position${tokenTypes ? ' + token type' : ''} rows, H = ${H}`, async () => {
      const [rows, vocab, maxPositions, types] = [11, 50, 20, 2];
      const inputs = {
        inputIds: ids(rows, vocab, 31),
        positionIds: ids(rows, maxPositions, 32),
        words: randomArray(vocab * H, 33),
        positions: randomArray(maxPositions * H, 34),
        ...(tokenTypes ? { tokenTypeIds: ids(rows, types, 35), tokenTypes: randomArray(types * H, 36) } : {}),
      };
      const kernel = embeddingKernel({ tokenTypes, alignH: H % 4 === 0 ? 4 : 1 });
      const { out } = await runKernel(gpu(), kernel, { rows, H }, inputs, { out: rows * H });
      const expected = Float64Array.from({ length: rows * H }, (_, i) => {
        const [row, h] = [Math.floor(i / H), i % H];
        const typeRow =
          inputs.tokenTypeIds && inputs.tokenTypes ? inputs.tokenTypes[inputs.tokenTypeIds[row] * H + h] : 0;
        return (
          inputs.words[inputs.inputIds[row] * H + h] +
          inputs.positions[inputs.positionIds[row] * H + h] +
          typeRow
        );
      });
      expectClose(out, expected);
    });
  }
});
