// The draw behind the `dropout_mask` op, part of the op's definition: counter-based, so the reference
// interpreter and the WGSL kernel compute the same mask element by element, in any order.

/** A 32-bit integer mixer (lowbias32): every output bit depends on every input bit. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The dropout draw's key for one mask: its step seed and its stream (the site's number). */
export const dropoutKey = (seed: number, stream: number): number =>
  mix32((seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0);

/** Draws are 24-bit integers; an element is kept when its draw is at least ⌈p·2²⁴⌉ (so with probability 1 − p). */
export const dropoutThreshold = (p: number): number => Math.ceil(p * 2 ** 24);

/** Whether element `index` of the mask with this key survives dropout at threshold `threshold`. */
export const dropoutKeeps = (key: number, index: number, threshold: number): boolean =>
  mix32((key ^ mix32(index)) >>> 0) >>> 8 >= threshold;
