// Many graphs over one set of parameters on one device: a training loop's step graphs (one per AdapterDrop
// depth) and its evaluation graph share the frozen weights (the device's weight cache) and the trainable
// parameters, which live in buffers the runner owns and rewrites in place after each optimizer step.
// Browser-safe, like model.ts.

import type { HostTensor } from '../../checkpoint/tensor.ts';
import type { Graph } from '../../ir/graph.ts';
import type { AcquiredDevice } from './device.ts';
import { deviceContext, GpuModel, type ModelInputs, type RunResult } from './model.ts';

export class GpuGraphRunner {
  private readonly models = new Map<Graph, Promise<GpuModel>>();
  private readonly owned = new Map<string, GPUBuffer>();

  /** `weights`: every parameter the graphs read; `trainable`: the ones written between runs (initial values). */
  constructor(
    readonly acquired: AcquiredDevice,
    private readonly weights: ReadonlyMap<string, HostTensor>,
    trainable: ReadonlyMap<string, Float32Array>,
  ) {
    const { executor } = deviceContext(acquired.device);
    for (const [key, data] of trainable) this.owned.set(key, executor.upload(data, key));
  }

  /** Runs `graph` (planned and compiled on first use; low-rank pools stay off, they would pack trainable weights). */
  async run(graph: Graph, inputs: ModelInputs): Promise<RunResult> {
    let model = this.models.get(graph);
    if (!model) {
      model = GpuModel.create({ graph, weights: this.weights }, this.acquired, {
        maxLowRank: 0,
        parameterBuffers: this.owned,
      });
      this.models.set(graph, model);
    }
    return (await model).run(inputs);
  }

  /** New values of trainable parameters, visible to the next run. */
  write(params: ReadonlyMap<string, Float32Array>): void {
    for (const [key, data] of params) {
      const buffer = this.owned.get(key);
      if (!buffer) throw new Error(`parameter '${key}' is not trainable here`);
      this.acquired.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    }
  }

  async release(): Promise<void> {
    for (const model of this.models.values()) (await model).release();
    const { executor } = deviceContext(this.acquired.device);
    for (const buffer of this.owned.values()) executor.release(buffer);
    this.models.clear();
    this.owned.clear();
  }
}
