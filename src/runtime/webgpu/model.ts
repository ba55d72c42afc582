// A compiled composition on a WebGPU device: weights uploaded once into a cache shared by every model on the
// device (switching setups or adding an adapter uploads only new parameters), pipelines compiled once per WGSL
// text, one command buffer per run, activation buffers from the memory plan (kept per batch × sequence size).
// Browser-safe: no node: imports (Node callers get a device from device-node.ts or load-node.ts).

import type { HostTensor } from '../../checkpoint/tensor.ts';
import {
  type KernelPlan,
  memoryPlanFor,
  type PlanLimits,
  planKernels,
} from '../../codegen-wgsl/kernel-plan.ts';
import { type KernelSchedules, schedulesFor } from '../../codegen-wgsl/schedules.ts';
import type { Graph, InputName, NodeId } from '../../ir/graph.ts';
import { type Bindings, evalShape } from '../../ir/shape.ts';
import type { MemoryPlan } from '../../passes/memory-plan.ts';
import type { AcquiredDevice, GpuAdapterSummary } from './device.ts';
import { GpuKernelError } from './device.ts';
import { Executor, type KernelLaunch } from './executor.ts';

/** torch CrossEntropyLoss's ignore_index: labels of positions that do not count. */
const IGNORE_INDEX = -100;

export interface ModelTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export type ModelInputs = Partial<Record<InputName, ModelTensor>>;

export interface RunResult {
  /** Every graph output by name (`last_hidden_state`, `pooler_output`, `heads.NAME`, …). */
  readonly outputs: ReadonlyMap<string, ModelTensor>;
  readonly dispatches: number;
  readonly memory: Pick<MemoryPlan, 'peakBytes' | 'allocatedBytes'>;
}

/** What a model needs: the optimized graph and every parameter it reads. */
export interface ModelSource {
  readonly graph: Graph;
  readonly weights: ReadonlyMap<string, HostTensor>;
}

export interface ModelOptions {
  /** false: one kernel per IR op (benchmarks, debugging). */
  readonly fuse?: boolean;
  /** Widest low-rank branch run as one kernel (0: always two matmuls). */
  readonly maxLowRank?: number;
  /** How kernels are tiled; by default the device's (`schedulesFor` its adapter). */
  readonly schedules?: KernelSchedules;
  /** Release the device with the model (when the loader acquired it). */
  readonly ownsDevice?: boolean;
  /**
   * Parameters whose buffers the caller owns and rewrites between runs (training), by checkpoint key; they
   * bypass the shared weight cache and may not be packed into weight pools.
   */
  readonly parameterBuffers?: ReadonlyMap<string, GPUBuffer>;
}

/** Parameters on the GPU, keyed by checkpoint key and content, shared by every model on one device. */
export class GpuWeightCache {
  private readonly buffers = new Map<string, GPUBuffer>();
  private readonly fingerprints = new WeakMap<Float32Array, string>();
  /** How many parameters were uploaded (cache misses). */
  uploads = 0;

  constructor(private readonly executor: Executor) {}

  get(key: string, tensor: HostTensor): GPUBuffer {
    const id = `${key}#${tensor.shape.join('x')}#${this.fingerprint(tensor.data)}`;
    let buffer = this.buffers.get(id);
    if (!buffer) {
      buffer = this.executor.upload(tensor.data, key);
      this.buffers.set(id, buffer);
      this.uploads++;
    }
    return buffer;
  }

  private fingerprint(data: Float32Array): string {
    let known = this.fingerprints.get(data);
    if (known === undefined) {
      known = contentHash(data);
      this.fingerprints.set(data, known);
    }
    return known;
  }
}

/** FNV-1a over the raw bits: identical parameters loaded twice (a second model, a new setup) hash equal. */
function contentHash(data: Float32Array): string {
  const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return `${data.length}:${(h >>> 0).toString(16)}`;
}

interface DeviceContext {
  readonly executor: Executor;
  readonly weights: GpuWeightCache;
}

const contexts = new WeakMap<GPUDevice, DeviceContext>();

/** The executor (pipeline cache, buffer pool) and weight cache of a device, shared by its models. */
export function deviceContext(device: GPUDevice): DeviceContext {
  let context = contexts.get(device);
  if (!context) {
    const executor = new Executor(device);
    context = { executor, weights: new GpuWeightCache(executor) };
    contexts.set(device, context);
  }
  return context;
}

interface SizedRun {
  readonly memory: MemoryPlan;
  readonly slots: readonly GPUBuffer[];
}

export class GpuModel {
  readonly plan: KernelPlan;
  private readonly sized = new Map<string, SizedRun>();
  private readonly packed = new Map<string, GPUBuffer>();
  private readonly context: DeviceContext;
  private previousRun: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly acquired: AcquiredDevice,
    private readonly source: ModelSource,
    plan: KernelPlan,
    private readonly ownsDevice: boolean,
    private readonly parameterBuffers: ReadonlyMap<string, GPUBuffer>,
  ) {
    this.plan = plan;
    this.context = deviceContext(acquired.device);
  }

  /** Plans kernels against the device's limits, uploads missing parameters and compiles every pipeline. */
  static async create(
    source: ModelSource,
    acquired: AcquiredDevice,
    options: ModelOptions = {},
  ): Promise<GpuModel> {
    const limits: PlanLimits = acquired.limits;
    const plan = planKernels(source.graph, {
      fuse: options.fuse ?? true,
      limits,
      schedules: options.schedules ?? schedulesFor(acquired.adapterInfo),
      ...(options.maxLowRank !== undefined ? { maxLowRank: options.maxLowRank } : {}),
    });
    const parameterBuffers = options.parameterBuffers ?? new Map<string, GPUBuffer>();
    const model = new GpuModel(acquired, source, plan, options.ownsDevice ?? false, parameterBuffers);
    for (const id of new Set(plan.steps.flatMap((s) => s.reads))) {
      if (source.graph.nodes[id].op === 'param') model.weightBuffer(id);
    }
    for (const packed of plan.steps.flatMap((s) => s.packed ?? [])) {
      const owned = packed.params.find((key) => parameterBuffers.has(key));
      if (owned !== undefined) {
        throw new GpuKernelError(
          'model',
          `parameter '${owned}' is rewritten between runs and cannot be packed`,
        );
      }
      const data = packed.pack((key) => source.weights.get(key));
      model.packed.set(packed.key, model.context.weights.get(packed.key, { shape: [data.length], data }));
    }
    const kernels = new Map(plan.steps.flatMap((s) => s.kernels).map((k) => [k.wgsl, k]));
    await Promise.all([...kernels.values()].map((k) => model.context.executor.compile(k)));
    return model;
  }

  get adapterInfo(): GpuAdapterSummary {
    return this.acquired.adapterInfo;
  }

  /** Weight-cache keys this model reads: parameter keys and packed pools. */
  get weightKeys(): readonly string[] {
    const params = new Set(this.plan.steps.flatMap((s) => s.reads));
    return [
      ...[...params].flatMap((id) => {
        const n = this.source.graph.nodes[id];
        return n.op === 'param' ? [n.key] : [];
      }),
      ...this.packed.keys(),
    ];
  }

  /** Parameters uploaded so far on this device (all models together). */
  get weightUploads(): number {
    return this.context.weights.uploads;
  }

  /**
   * Runs the model. Calls may overlap (a server answering requests as they come): they share this model's
   * activation buffers, so each waits for the previous one to finish.
   */
  run(given: ModelInputs): Promise<RunResult> {
    const result = this.previousRun.then(() => this.runNow(given));
    this.previousRun = result.catch(() => undefined);
    return result;
  }

  private async runNow(given: ModelInputs): Promise<RunResult> {
    const ids = given.input_ids;
    if (ids?.shape.length !== 2) throw new Error('input_ids must be a [batch, sequence] tensor');
    const env: Bindings = { B: ids.shape[0], T: ids.shape[1] };
    const inputs = withDefaultInputs(given, env);
    this.checkIndices(inputs);
    const { executor } = this.context;
    const sized = this.sizedRun(env);
    const graph = this.source.graph;
    const transient: GPUBuffer[] = [];
    const inputBuffers = new Map<NodeId, GPUBuffer>();
    for (const n of graph.nodes) {
      if (n.op !== 'input') continue;
      const tensor = inputs[n.name];
      const want = evalShape(n.shape, env);
      if (!tensor) throw new Error(`missing input '${n.name}'`);
      if (tensor.shape.join() !== want.join())
        throw new Error(`input '${n.name}' has shape [${tensor.shape}], expected [${want}]`);
      const buffer = executor.upload(tensor.data, n.name);
      transient.push(buffer);
      inputBuffers.set(n.id, buffer);
    }
    const bufferOf = (id: NodeId): GPUBuffer => {
      const slot = sized.memory.slotOf.get(id);
      if (slot !== undefined) return sized.slots[slot];
      return inputBuffers.get(id) ?? this.weightBuffer(id);
    };
    try {
      const launches: KernelLaunch[] = this.plan.steps.flatMap((step) =>
        step.launches(env).map((launch) => ({
          kernel: launch.kernel,
          dims: launch.dims,
          buffers: Object.fromEntries(
            Object.entries(launch.buffers).map(([name, source]) => {
              if (source.kind === 'node') return [name, bufferOf(source.node)];
              if (source.kind === 'packed') return [name, this.packed.get(source.key)!];
              const table = executor.upload(source.data, `${launch.kernel.name}.${name}`);
              transient.push(table);
              return [name, table];
            }),
          ),
        })),
      );
      await executor.run(launches);
      const outputs = new Map<string, ModelTensor>();
      for (const o of graph.outputs) {
        const n = graph.nodes[o.node];
        const shape = evalShape(n.shape, env);
        const bytes = shape.reduce((a, b) => a * b, 1) * 4;
        const raw = bytes === 0 ? new ArrayBuffer(0) : await executor.read(bufferOf(o.node), bytes);
        outputs.set(o.name, { shape, data: n.dtype === 'i32' ? new Int32Array(raw) : new Float32Array(raw) });
      }
      return {
        outputs,
        dispatches: launches.length,
        memory: { peakBytes: sized.memory.peakBytes, allocatedBytes: sized.memory.allocatedBytes },
      };
    } finally {
      for (const buffer of transient) executor.release(buffer);
    }
  }

  /** The memory plan at a size (for reports), without running. */
  memoryAt(env: Bindings): MemoryPlan {
    return memoryPlanFor(this.plan, env);
  }

  /** Returns activation buffers to the device's pool (parameters stay cached for other models). */
  release(): void {
    for (const run of this.sized.values())
      for (const buffer of run.slots) this.context.executor.release(buffer);
    this.sized.clear();
    if (this.ownsDevice) this.acquired.release();
  }

  /**
   * The reference interpreter rejects token ids outside a gathered table and labels outside a loss's classes; a
   * GPU read there would be silent.
   */
  private checkIndices(inputs: ModelInputs): void {
    const graph = this.source.graph;
    for (const n of graph.nodes) {
      const indexed = graph.nodes[n.inputs[1]];
      if (indexed?.op !== 'input') continue;
      const data = inputs[indexed.name]?.data ?? [];
      if (n.op === 'gather' || n.op === 'gather_grad') {
        const rows = graph.nodes[n.inputs[0]].shape[0].c;
        const bad = data.findIndex((id) => id < 0 || id >= rows);
        if (bad >= 0)
          throw new Error(`${indexed.name}[${bad}] = ${data[bad]} is outside the table of ${rows} rows`);
      } else if (n.op === 'cross_entropy' || n.op === 'cross_entropy_grad') {
        const classes = graph.nodes[n.inputs[0]].shape.at(-1)!.c;
        const bad = data.findIndex((label) => label !== IGNORE_INDEX && (label < 0 || label >= classes));
        if (bad >= 0) {
          throw new Error(
            `${indexed.name}[${bad}] = ${data[bad]} is outside the ${classes} classes (ignore index: ${IGNORE_INDEX})`,
          );
        }
      }
    }
  }

  private weightBuffer(id: NodeId): GPUBuffer {
    const n = this.source.graph.nodes[id];
    if (n.op !== 'param') throw new GpuKernelError('model', `%${id} (${n.op}) has no buffer`);
    const owned = this.parameterBuffers.get(n.key);
    if (owned) return owned;
    const tensor = this.source.weights.get(n.key);
    if (!tensor) throw new Error(`no weights for parameter '${n.key}'`);
    return this.context.weights.get(n.key, tensor);
  }

  private sizedRun(env: Bindings): SizedRun {
    const key = `${env.B}x${env.T}`;
    let run = this.sized.get(key);
    if (!run) {
      const memory = memoryPlanFor(this.plan, env);
      const limit = this.acquired.limits.maxStorageBufferBindingSize;
      const tooLarge = memory.slotBytes.findIndex((bytes) => bytes > limit);
      if (tooLarge >= 0) {
        throw new GpuKernelError(
          'memory plan',
          `an activation of ${memory.slotBytes[tooLarge]} bytes at batch ${env.B} × sequence ${env.T} exceeds the storage binding limit of ${limit} bytes`,
        );
      }
      run = {
        memory,
        slots: memory.slotBytes.map((bytes, i) => this.context.executor.createBuffer(bytes, `slot${i}`)),
      };
      this.sized.set(key, run);
    }
    return run;
  }
}

/** As Hugging Face does: a missing attention mask is all ones, missing token types are zeros. */
function withDefaultInputs(given: ModelInputs, env: Bindings): ModelInputs {
  const fill = (v: number): ModelTensor => ({
    shape: [env.B, env.T],
    data: new Int32Array(env.B * env.T).fill(v),
  });
  return { attention_mask: fill(1), token_type_ids: fill(0), ...given };
}
