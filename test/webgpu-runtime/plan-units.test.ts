// Pure parts of the plan (no GPU): views evaluated to strides, buffer reuse in the memory plan, fusion groups.
import { describe, expect, it } from 'vitest';
import { resolveView } from '../../src/codegen-wgsl/views.ts';
import { B, lit, T } from '../../src/ir/shape.ts';
import { groupNodes } from '../../src/passes/fusion-groups.ts';
import { planMemory, sizeClass } from '../../src/passes/memory-plan.ts';
import { compileForGpu } from '../../src/runtime/webgpu/load-node.ts';
import { ADAPT_DIR } from '../golden/cases.ts';

describe('resolveView', () => {
  const env = { B: 2, T: 3 };
  it('reads heads in place: reshape [B,T,8] → [B,T,2,4], permute to [B,2,T,4]', () => {
    const v = resolveView(
      [2, 3, 8],
      [
        { kind: 'reshape', to: [B, T, lit(2), lit(4)] },
        { kind: 'permute', perm: [0, 2, 1, 3] },
      ],
      env,
    );
    expect(v).toEqual({ shape: [2, 2, 3, 4], strides: [24, 4, 8, 1], offset: 0, wraps: [2, 2, 3, 4] });
  });
  it('slices add an offset, broadcasts a zero stride, tiles a wrap', () => {
    const sliced = resolveView([4, 5], [{ kind: 'slice', axis: 0, start: lit(1), end: lit(3) }], env);
    expect(sliced).toMatchObject({ shape: [2, 5], offset: 5, strides: [5, 1] });
    const broadcast = resolveView([1, 5], [{ kind: 'expand', to: [lit(3), lit(2), lit(5)] }], env);
    expect(broadcast).toMatchObject({ shape: [3, 2, 5], strides: [0, 0, 1] });
    const tiled = resolveView([2, 5], [{ kind: 'tile', times: 3 }], env);
    expect(tiled).toMatchObject({ shape: [6, 5], strides: [5, 1], wraps: [2, 5] });
  });
  it('refuses to reshape a non-contiguous view', () => {
    expect(() =>
      resolveView(
        [2, 3],
        [
          { kind: 'permute', perm: [1, 0] },
          { kind: 'reshape', to: [lit(6)] },
        ],
        env,
      ),
    ).toThrow(/non-contiguous/);
  });
});

describe('planMemory', () => {
  it('reuses a dead value’s slot and keeps outputs to the end', () => {
    const bytes = new Map([
      [10, 4096],
      [11, 4096],
      [12, 4096],
      [13, 1024],
    ]);
    const plan = planMemory(
      [
        { node: 10, written: 0, readBy: [1], keep: false },
        { node: 11, written: 1, readBy: [2], keep: false },
        { node: 12, written: 2, readBy: [3], keep: false },
        { node: 13, written: 3, readBy: [], keep: true },
      ],
      (id) => bytes.get(id)!,
    );
    expect(plan.slotOf.get(12)).toBe(plan.slotOf.get(10));
    expect(plan.slotOf.get(11)).not.toBe(plan.slotOf.get(10));
    expect(plan.slotBytes).toHaveLength(2);
    expect(plan.peakBytes).toBe(8192);
    expect(sizeClass(1000)).toBe(1024);
  });
});

describe('fusion groups', () => {
  it('leaves every computed node in exactly one group and fuses fewer groups than one per op', () => {
    const { graph } = compileForGpu(`${ADAPT_DIR}/parallel_seq_seq2.adapt`);
    const fused = groupNodes(graph, { fuse: true });
    const unfused = groupNodes(graph, { fuse: false });
    const members = fused.groups.flatMap((g) => g.members);
    expect(new Set(members).size).toBe(members.length);
    expect(fused.groups.length).toBeLessThan(unfused.groups.length);
    const computed = graph.nodes.filter(
      (n) => !['input', 'param', 'const', 'reshape', 'permute', 'slice', 'expand'].includes(n.op),
    );
    for (const n of computed) expect(members, `%${n.id} ${n.op}`).toContain(n.id);
  });
});
