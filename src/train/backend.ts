// Where training steps run: the reference interpreter (the definition) or a WebGPU device. Both run the same
// training graphs (forward, loss, backward) and differ only in where the trainable parameters live.
import type { HostTensor } from '../checkpoint/tensor.ts';
import type { Graph } from '../ir/graph.ts';
import type { WeightStore } from '../load/weights.ts';
import { type Inputs, interpret, type Tensor } from '../runtime/reference/interpret.ts';
import type { AcquiredDevice } from '../runtime/webgpu/device.ts';
import { GpuGraphRunner } from '../runtime/webgpu/graph-runner.ts';

export interface TrainBackend {
  readonly name: string;
  /** Every output of `graph`, run with the current trainable parameters. */
  run(graph: Graph, inputs: Inputs): Promise<ReadonlyMap<string, Tensor>>;
  /** The optimizer wrote new values into these parameters. */
  update(params: ReadonlyMap<string, Float32Array>): void;
  release(): Promise<void>;
}

/** Makes a backend for a weight store and the trainable parameters' live arrays (updated in place). */
export type BackendFactory = (
  weights: WeightStore,
  params: ReadonlyMap<string, Float32Array>,
) => Promise<TrainBackend>;

/** A weight lookup where the trained tensors replace the loaded ones. */
function lookupWith(weights: WeightStore, params: ReadonlyMap<string, Float32Array>) {
  return (key: string): HostTensor | undefined => {
    const data = params.get(key);
    const base = weights.get(key);
    return data && base ? { shape: base.shape, data } : base;
  };
}

/** The reference interpreter, reading the live parameter arrays directly. */
export const referenceBackend: BackendFactory = async (weights, params) => {
  const lookup = lookupWith(weights, params);
  return {
    name: 'reference',
    run: async (graph, inputs) => interpret(graph, lookup, inputs),
    update: () => {},
    release: async () => {},
  };
};

/** A WebGPU device: frozen weights uploaded once, trainable ones rewritten after every step. */
export function webgpuBackend(acquired: AcquiredDevice): BackendFactory {
  return async (weights, params) => {
    const runner = new GpuGraphRunner(acquired, weights, params);
    return {
      name: `webgpu (${acquired.adapterInfo.description})`,
      run: async (graph, inputs) => (await runner.run(graph, inputs)).outputs,
      update: (updated) => runner.write(updated),
      release: () => runner.release(),
    };
  };
}
