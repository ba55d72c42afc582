// Memory planning over a kernel order: each materialized value lives from the step that writes it to the last
// step that reads it (graph outputs to the end); a value takes the smallest free buffer slot that fits, else a
// new one. Sizes are symbolic in B and T, so the plan is made per run size and reports its peak.
import type { NodeId } from '../ir/graph.ts';

export interface PlannedValue {
  readonly node: NodeId;
  /** Index of the step that writes it. */
  readonly written: number;
  /** Indices of the steps that read it. */
  readonly readBy: readonly number[];
  /** Needed until the end of the run (a graph output). */
  readonly keep: boolean;
}

export interface MemoryPlan {
  /** Buffer slot per value. */
  readonly slotOf: ReadonlyMap<NodeId, number>;
  /** Bytes per slot (the largest value placed there, rounded to the size class). */
  readonly slotBytes: readonly number[];
  /** Largest sum of live values' bytes at any step. */
  readonly peakBytes: number;
  /** Sum of slot sizes: what the plan allocates. */
  readonly allocatedBytes: number;
}

/** Size classes: 256 B granules up to 64 KiB, then 1/16 of the power of two (near sizes share a slot). */
export function sizeClass(bytes: number): number {
  const size = Math.max(16, bytes);
  if (size <= 65536) return Math.ceil(size / 256) * 256;
  const step = 2 ** Math.floor(Math.log2(size)) / 16;
  return Math.ceil(size / step) * step;
}

export function planMemory(values: readonly PlannedValue[], bytesOf: (node: NodeId) => number): MemoryPlan {
  const lastUse = (v: PlannedValue) => (v.keep ? Number.POSITIVE_INFINITY : Math.max(v.written, ...v.readBy));
  const byStep = new Map<number, PlannedValue[]>();
  for (const v of values) byStep.set(v.written, [...(byStep.get(v.written) ?? []), v]);
  const steps = Math.max(0, ...values.map((v) => v.written)) + 1;
  const slotOf = new Map<NodeId, number>();
  const slotBytes: number[] = [];
  const free: number[] = [];
  const live = new Map<NodeId, PlannedValue>();
  let liveBytes = 0;
  let peakBytes = 0;
  for (let step = 0; step < steps; step++) {
    for (const v of byStep.get(step) ?? []) {
      const need = sizeClass(bytesOf(v.node));
      const fits = free.filter((s) => slotBytes[s] >= need).sort((a, b) => slotBytes[a] - slotBytes[b]);
      const slot = fits[0] ?? slotBytes.push(need) - 1;
      if (fits.length > 0) free.splice(free.indexOf(slot), 1);
      slotOf.set(v.node, slot);
      live.set(v.node, v);
      liveBytes += bytesOf(v.node);
    }
    peakBytes = Math.max(peakBytes, liveBytes);
    for (const v of [...live.values()]) {
      if (lastUse(v) > step) continue;
      live.delete(v.node);
      liveBytes -= bytesOf(v.node);
      free.push(slotOf.get(v.node)!);
    }
  }
  return { slotOf, slotBytes, peakBytes, allocatedBytes: slotBytes.reduce((a, b) => a + b, 0) };
}
