// Snapshots of kernel plans (fused and one kernel per op) and of representative generated WGSL: the embedding
// gather + adds as one elementwise kernel, a permute copy, a tile copy with wrapped coordinates, a concatenation
// part written through an output view, the masked attention softmax, a merged Parallel's bottleneck adapters as
// one segmented low-rank kernel and (unfused) its segmented linear.
import { describe, expect, it } from 'vitest';
import { formatPlan, type KernelPlan, planKernels } from '../../src/codegen-wgsl/kernel-plan.ts';
import { compileForGpu } from '../../src/runtime/webgpu/load-node.ts';
import { ADAPT_DIR } from '../golden/cases.ts';

const planOf = (id: string, fuse = true) =>
  planKernels(compileForGpu(`${ADAPT_DIR}/${id}.adapt`).graph, { fuse });

function kernelNamed(plan: KernelPlan, prefix: string): string {
  const kernel = plan.steps.flatMap((s) => s.kernels).find((k) => k.name.startsWith(prefix));
  if (!kernel) throw new Error(`no kernel named ${prefix}…`);
  return kernel.wgsl;
}

describe('kernel plans', () => {
  it('parallel_seq_seq2, fused', async () => {
    await expect(formatPlan(planOf('parallel_seq_seq2'))).toMatchFileSnapshot(
      './__snapshots__/parallel_seq_seq2.plan.txt',
    );
  });
  it('single_prefix_tuning, one kernel per op', async () => {
    await expect(formatPlan(planOf('single_prefix_tuning', false))).toMatchFileSnapshot(
      './__snapshots__/single_prefix_tuning.unfused.plan.txt',
    );
  });
});

describe('generated WGSL', () => {
  const parallel = planOf('parallel_seq_seq2');
  const prefix = planOf('single_prefix_tuning');
  const unfused = planOf('parallel_seq_seq2', false);
  const cases: readonly (readonly [string, KernelPlan, string])[] = [
    ['embedding-elementwise', parallel, 'elementwise_r3_add_add_gather'],
    ['permute-copy', parallel, 'elementwise_r4_copy'],
    ['tile-copy', parallel, 'elementwise_r3_copy'],
    ['concat-part', prefix, 'copy_r4'],
    ['attention-softmax', parallel, 'attention_softmax_masked'],
    ['lowrank-segmented', parallel, 'lowrank_segmented'],
    ['segmented-linear', unfused, 'matmul_segmented'],
  ];
  it.each(cases)('%s', async (file, plan, prefixName) => {
    await expect(kernelNamed(plan, prefixName)).toMatchFileSnapshot(`./__snapshots__/${file}.wgsl`);
  });
});
