// The runtime's promises beyond numbers: parameters uploaded once per device (a new setup or an added adapter
// uploads only its own), limits checked at plan time with the kernel named, failures as errors, not zeros.
import { describe, expect, it } from 'vitest';
import { PlanError, planKernels } from '../../src/codegen-wgsl/kernel-plan.ts';
import { inputsFromJson } from '../../src/runtime/io.ts';
import { acquireNodeDevice } from '../../src/runtime/webgpu/device-node.ts';
import { compileForGpu, loadModel } from '../../src/runtime/webgpu/load-node.ts';
import { deviceContext, GpuModel } from '../../src/runtime/webgpu/model.ts';
import { ADAPT_DIR, goldenInputJson } from '../golden/cases.ts';
import { useGpu } from '../webgpu/gpu.ts';

const gpu = useGpu();
const inputs = inputsFromJson(goldenInputJson);
const source = (id: string) => compileForGpu(`${ADAPT_DIR}/${id}.adapt`);
describe('the weight cache', () => {
  it('uploads the base model once; switching setups uploads only the new parameters', async () => {
    gpu();
    const device = await acquireNodeDevice();
    try {
      const single = source('single_seq_bn');
      const stacked = source('stack_seq_seq2');
      const first = await GpuModel.create(single, device);
      const afterFirst = first.weightUploads;
      expect(afterFirst).toBe(new Set(first.weightKeys).size);
      const second = await GpuModel.create(stacked, device);
      const added = second.weightKeys.filter((k) => !first.weightKeys.includes(k));
      expect(added.length).toBeGreaterThan(0);
      expect(second.weightUploads - afterFirst).toBe(new Set(added).size);
      const baseKeys = stacked.graph.nodes.flatMap((n) =>
        n.op === 'param' && n.origin.kind === 'base' ? [n.key] : [],
      );
      expect(added.filter((k) => baseKeys.includes(k))).toEqual([]);
      await GpuModel.create(single, device);
      expect(second.weightUploads).toBe(afterFirst + new Set(added).size);
    } finally {
      device.release();
    }
  });
});

describe('limits and failures', () => {
  it('names the kernel and the limit when a kernel binds more storage buffers than the device allows', () => {
    const { graph } = source('bare_base_model');
    const limits = {
      maxStorageBuffersPerShaderStage: 4,
      maxStorageBufferBindingSize: 1 << 27,
      maxComputeInvocationsPerWorkgroup: 256,
    };
    expect(() => planKernels(graph, { limits })).toThrow(PlanError);
    expect(() => planKernels(graph, { limits })).toThrow(
      /kernel elementwise_r3_add_add_gather.*binds 6 storage buffers; the device allows 4/,
    );
  });

  it('names the parameter when a weight is over the storage binding limit', () => {
    const { graph } = source('bare_base_model');
    const limits = {
      maxStorageBuffersPerShaderStage: 8,
      maxStorageBufferBindingSize: 4096,
      maxComputeInvocationsPerWorkgroup: 256,
    };
    expect(() => planKernels(graph, { limits })).toThrow(
      /word_embeddings.*over the device's storage binding limit of 4096/,
    );
  });

  it('rejects token ids outside the vocabulary as the reference interpreter does', async () => {
    const model = await loadModel(source('bare_base_model'), { device: gpu().acquired });
    const ids = Int32Array.from(inputs.input_ids!.data, (id, i) => (i === 3 ? 1_000_000 : id));
    await expect(
      model.run({ ...inputs, input_ids: { shape: inputs.input_ids!.shape, data: ids } }),
    ).rejects.toThrow(/input_ids\[3\] = 1000000 is outside the table/);
    model.release();
  });

  it('answers overlapping runs of one model as if they ran one after the other', async () => {
    const model = await loadModel(source('single_seq_bn'), { device: gpu().acquired });
    try {
      // One size, so every run uses the same activation buffers; the ids differ.
      const rows = (start: number) => ({
        input_ids: { shape: [1, 4], data: inputs.input_ids!.data.slice(start, start + 4) },
        attention_mask: { shape: [1, 4], data: new Int32Array(4).fill(1) },
      });
      const starts = [0, 1, 2];
      const alone: ArrayLike<number>[] = [];
      for (const s of starts) alone.push((await model.run(rows(s))).outputs.get('last_hidden_state')!.data);
      const together = await Promise.all(starts.map((s) => model.run(rows(s))));
      together.forEach((r, i) => {
        expect(Array.from(r.outputs.get('last_hidden_state')!.data)).toEqual(Array.from(alone[i]));
      });
    } finally {
      model.release();
    }
  });

  it('profiles a run kernel by kernel when asked, with the same outputs', async () => {
    const model = await loadModel(source('single_seq_bn'), { device: gpu().acquired });
    const { executor } = deviceContext(gpu().acquired.device);
    try {
      const plain = await model.run(inputs);
      executor.profile = new Map();
      const profiled = await model.run(inputs);
      const launches = [...executor.profile.values()].reduce((a, k) => a + k.launches, 0);
      expect(launches).toBe(profiled.dispatches);
      expect([...executor.profile.values()].every((k) => k.ms >= 0)).toBe(true);
      expect(Array.from(profiled.outputs.get('last_hidden_state')!.data)).toEqual(
        Array.from(plain.outputs.get('last_hidden_state')!.data),
      );
    } finally {
      executor.profile = null;
      model.release();
    }
  });

  it('refuses to pack a parameter the caller rewrites between runs into a weight pool', async () => {
    const compiled = source('single_seq_bn');
    const down = compiled.graph.nodes.find(
      (n) => n.op === 'param' && n.key.endsWith('adapter_down.0.weight'),
    );
    expect(down?.op).toBe('param');
    const key = (down as { key: string }).key;
    const { executor } = deviceContext(gpu().acquired.device);
    const buffer = executor.createBuffer(16, key);
    try {
      await expect(
        GpuModel.create(compiled, gpu().acquired, { parameterBuffers: new Map([[key, buffer]]) }),
      ).rejects.toThrow(`parameter '${key}' is rewritten between runs and cannot be packed`);
    } finally {
      executor.release(buffer);
    }
  });

  it('rejects a run on a lost device instead of returning zeros', async () => {
    gpu();
    const model = await loadModel(source('bare_base_model'));
    model.acquired.device.destroy();
    await expect(model.run(inputs)).rejects.toThrow();
    model.release();
  });
});
