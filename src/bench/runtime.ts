// Whole-composition benchmarks of the WebGPU runtime on in-memory models with seeded random weights:
// (a) fused vs one kernel per op on a Fuse of three adapters with a head, (c) a Parallel of 8 bottleneck adapters
// merged vs 8 separate runs, (d) `drop 0..4` vs no drop on that Parallel, (e) a BatchSplit of 8 LoRAs
// (one row each) vs one LoRA on the whole batch. Times are medians of timed runs after a warm-up run.
import { ADAPTER_PRESETS, FUSION_PRESETS, resolveHeadConfig } from '../config/index.ts';
import type { AdapterConfig, HeadConfig } from '../config/types.ts';
import type { Composition, HeadSetup } from '../dsl/checked.ts';
import { graphStats } from '../ir/stats.ts';
import { lowerProgram } from '../lower/bert.ts';
import type { EncoderConfig } from '../lower/model-config.ts';
import { runPasses } from '../passes/pass.ts';
import { INFERENCE_PASSES } from '../passes/pipeline.ts';
import type { AcquiredDevice } from '../runtime/webgpu/device.ts';
import type { KernelTime } from '../runtime/webgpu/executor.ts';
import { deviceContext, GpuModel, type ModelInputs, type ModelSource } from '../runtime/webgpu/model.ts';
import { programOf, randomInputs, randomWeights, tinyEncoderConfig } from '../testing/model.ts';

export interface ModelShape {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediate: number;
}

export const BERT_BASE_SHAPE: ModelShape = { hidden: 768, layers: 12, heads: 12, intermediate: 3072 };

export interface Timing {
  readonly medianMs: number;
  readonly dispatches: number;
}

export interface Scenario {
  readonly model: EncoderConfig;
  readonly adapters: Readonly<Record<string, AdapterConfig>>;
  readonly setup: Composition;
  readonly headSetup: HeadSetup;
  readonly fusion?: boolean;
  readonly skipLayers?: readonly number[];
}

export function encoderOf(shape: ModelShape): EncoderConfig {
  return tinyEncoderConfig({ ...shape, vocab: 512, maxPositions: 512 });
}

function classificationHead(): HeadConfig {
  const head = resolveHeadConfig('classification', { num_labels: 2 });
  if (!head.ok) throw new Error('classification head preset');
  return head.value;
}

/** Lowers, weights (seeded) and optimizes a scenario. */
export function sourceOf(s: Scenario, seed = 1): ModelSource {
  const names = Object.keys(s.adapters);
  const headNames =
    s.headSetup?.kind === 'parallel'
      ? s.headSetup.heads
      : s.headSetup?.kind === 'single'
        ? [s.headSetup.head]
        : [];
  const program = programOf({
    adapters: s.adapters,
    fusions: s.fusion ? [{ adapters: names, config: FUSION_PRESETS.dynamic }] : [],
    heads: Object.fromEntries(headNames.map((h) => [h, classificationHead()])),
    setup: s.setup,
    headSetup: s.headSetup,
    skipLayers: s.skipLayers ?? [],
  });
  const graph = lowerProgram(program, s.model);
  const optimized = runPasses({ graph, weights: randomWeights(graph, seed) }, INFERENCE_PASSES, {
    B: 1,
    T: 8,
  });
  return { graph: optimized.graph, weights: optimized.weights };
}

export function inputsOf(model: EncoderConfig, batch: number, seq: number): ModelInputs {
  const inputs = randomInputs(batch, seq, model.vocabSize, 7);
  // Full rows: padding would make timings depend on the seed.
  return { ...inputs, attention_mask: { shape: [batch, seq], data: new Int32Array(batch * seq).fill(1) } };
}

/**
 * Per candidate (a list of models run back to back): a warm-up run (compiles pipelines, allocates the memory
 * plan), then `repeats` timed rounds over all candidates in turn, so that load from other processes on the
 * shared machine hits every candidate alike; the median per candidate.
 */
export async function timeCandidates(
  candidates: readonly (readonly GpuModel[])[],
  inputs: ModelInputs,
  repeats: number,
): Promise<Timing[]> {
  const dispatches: number[] = [];
  for (const models of candidates) {
    let count = 0;
    for (const m of models) count += (await m.run(inputs)).dispatches;
    dispatches.push(count);
  }
  const samples: number[][] = candidates.map(() => []);
  for (let r = 0; r < repeats; r++) {
    for (const [i, models] of candidates.entries()) {
      const start = performance.now();
      for (const m of models) await m.run(inputs);
      samples[i].push(performance.now() - start);
    }
  }
  return samples.map((times, i) => {
    const sorted = [...times].sort((a, b) => a - b);
    return { medianMs: sorted[Math.floor(sorted.length / 2)], dispatches: dispatches[i] };
  });
}

const bottleneck = (): AdapterConfig => ADAPTER_PRESETS.seq_bn();
const lora = (): AdapterConfig => ADAPTER_PRESETS.lora();
const named = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

export interface RuntimeBenchOptions {
  readonly device: AcquiredDevice;
  /** Model for (a); BERT-base by default. */
  readonly fuseModel: ModelShape;
  /** Model for (c)–(e). */
  readonly adapterModel: ModelShape;
  readonly batch: number;
  readonly seq: number;
  readonly repeats: number;
  readonly log: (line: string) => void;
}

async function create(source: ModelSource, device: AcquiredDevice, fuse = true): Promise<GpuModel> {
  return GpuModel.create(source, device, { fuse });
}

/** (a)'s composition: Fuse(a, b, c) of three bottleneck adapters with a classification head. */
function fuseScenario(model: EncoderConfig): ModelSource {
  return sourceOf({
    model,
    adapters: { a: bottleneck(), b: bottleneck(), c: bottleneck() },
    setup: { type: 'Fuse', children: ['a', 'b', 'c'] },
    headSetup: { kind: 'single', head: 'head' },
    fusion: true,
  });
}

/** (a) Fuse(a, b, c) with a classification head: fused kernels vs one kernel per IR op. */
export async function benchFusedVsUnfused(o: RuntimeBenchOptions): Promise<string[]> {
  const model = encoderOf(o.fuseModel);
  const source = fuseScenario(model);
  const inputs = inputsOf(model, o.batch, o.seq);
  const sizes = { B: o.batch, T: o.seq };
  const fused = await create(source, o.device, true);
  const unfused = await create(source, o.device, false);
  const [fusedTime, unfusedTime] = await timeCandidates([[fused], [unfused]], inputs, o.repeats);
  const [fusedMemory, unfusedMemory] = [fused.memoryAt(sizes), unfused.memoryAt(sizes)];
  fused.release();
  unfused.release();
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  return [
    `(a) Fuse(a,b,c) + head, ${describe(o.fuseModel)}, batch ${o.batch} × seq ${o.seq}`,
    '| schedule | dispatches | median ms | peak activations MiB | allocated MiB |',
    '|---|---|---|---|---|',
    `| fused | ${fusedTime.dispatches} | ${fusedTime.medianMs.toFixed(0)} | ${mib(fusedMemory.peakBytes)} | ${mib(fusedMemory.allocatedBytes)} |`,
    `| one kernel per op | ${unfusedTime.dispatches} | ${unfusedTime.medianMs.toFixed(0)} | ${mib(unfusedMemory.peakBytes)} | ${mib(unfusedMemory.allocatedBytes)} |`,
    `unfused / fused time: ${(unfusedTime.medianMs / fusedTime.medianMs).toFixed(2)}×, dispatches ${(unfusedTime.dispatches / fusedTime.dispatches).toFixed(2)}×`,
  ];
}

/**
 * (p) Where (a)'s time goes: one profiled run of each schedule (every launch submitted alone), time per kernel,
 * and the bound on per-op / fused that the matmuls, shared by both schedules, leave.
 */
export async function profileFusedVsUnfused(o: RuntimeBenchOptions): Promise<string[]> {
  const model = encoderOf(o.fuseModel);
  const source = fuseScenario(model);
  const inputs = inputsOf(model, o.batch, o.seq);
  const { executor } = deviceContext(o.device.device);
  const profiles: KernelProfile[] = [];
  for (const fuse of [true, false]) {
    const m = await create(source, o.device, fuse);
    await m.run(inputs);
    executor.profile = new Map();
    try {
      await m.run(inputs);
      profiles.push(summarize(executor.profile));
    } finally {
      executor.profile = null;
      m.release();
    }
  }
  const [fused, unfused] = profiles;
  const row = (name: string, p: KernelProfile) =>
    `| ${name} | ${p.totalMs.toFixed(0)} | ${p.matmulMs.toFixed(0)} | ${((100 * p.matmulMs) / p.totalMs).toFixed(0)}% | ${p.largest} |`;
  return [
    `(p) where (a)'s time goes, ${describe(o.fuseModel)}, batch ${o.batch} × seq ${o.seq} (each launch submitted alone)`,
    '| schedule | total ms | matmul ms | matmul share | largest kernels: ms (launches) |',
    '|---|---|---|---|---|',
    row('fused', fused),
    row('one kernel per op', unfused),
    `with every non-matmul kernel free, per-op / fused could reach at most ${(unfused.totalMs / fused.matmulMs).toFixed(2)}×`,
  ];
}

interface KernelProfile {
  readonly totalMs: number;
  readonly matmulMs: number;
  /** The six slowest kernels, as `name ms (launches)`. */
  readonly largest: string;
}

function summarize(kernels: ReadonlyMap<string, KernelTime>): KernelProfile {
  const entries = [...kernels].sort((x, y) => y[1].ms - x[1].ms);
  const sum = (list: typeof entries) => list.reduce((a, [, k]) => a + k.ms, 0);
  return {
    totalMs: sum(entries),
    matmulMs: sum(entries.filter(([name]) => name.startsWith('matmul'))),
    largest: entries
      .slice(0, 6)
      .map(([name, k]) => `${name} ${k.ms.toFixed(0)} (${k.launches})`)
      .join(', '),
  };
}

function parallelScenario(model: EncoderConfig, skipLayers: readonly number[] = []): Scenario {
  const names = named('p', 8);
  return {
    model,
    adapters: Object.fromEntries(names.map((n) => [n, bottleneck()])),
    setup: { type: 'Parallel', children: names },
    headSetup: { kind: 'parallel', heads: named('head', 8) },
    skipLayers,
  };
}

/** (c) Parallel of 8 bottleneck adapters with 8 heads, merged, vs 8 single-adapter runs (one head each). */
export async function benchParallel(
  o: RuntimeBenchOptions,
  sizes: readonly (readonly [number, number])[],
): Promise<string[]> {
  const model = encoderOf(o.adapterModel);
  const merged = await create(sourceOf(parallelScenario(model)), o.device);
  const separate: GpuModel[] = [];
  for (const name of named('p', 8)) {
    separate.push(
      await create(
        sourceOf({
          model,
          adapters: { [name]: bottleneck() },
          setup: name,
          headSetup: { kind: 'single', head: 'head' },
        }),
        o.device,
      ),
    );
  }
  const lines = [
    `(c) Parallel of 8 bottleneck adapters (8 heads), ${describe(o.adapterModel)}`,
    '| batch × seq | merged ms (dispatches) | 8 separate runs ms (dispatches) | separate / merged |',
    '|---|---|---|---|',
  ];
  for (const [batch, seq] of sizes) {
    const inputs = inputsOf(model, batch, seq);
    const [m, s] = await timeCandidates([[merged], separate], inputs, o.repeats);
    lines.push(
      `| ${batch} × ${seq} | ${m.medianMs.toFixed(1)} (${m.dispatches}) | ${s.medianMs.toFixed(1)} (${s.dispatches}) | ${(s.medianMs / m.medianMs).toFixed(2)}× |`,
    );
  }
  for (const m of [merged, ...separate]) m.release();
  return lines;
}

/** (d) `drop 0..4` vs no drop on the Parallel of 8, with the FLOP bound of the saving beside the measured one. */
export async function benchDrop(o: RuntimeBenchOptions): Promise<string[]> {
  const model = encoderOf(o.adapterModel);
  const inputs = inputsOf(model, o.batch, o.seq);
  const dropped = Array.from({ length: Math.min(5, model.numLayers - 1) }, (_, i) => i);
  const sources = [sourceOf(parallelScenario(model)), sourceOf(parallelScenario(model, dropped))];
  const flops = sources.map((s) => graphStats(s.graph, { B: o.batch, T: o.seq }).flops);
  const models = [];
  for (const source of sources) models.push(await create(source, o.device));
  const [none, drop] = await timeCandidates(
    models.map((m) => [m]),
    inputs,
    o.repeats,
  );
  for (const m of models) m.release();
  return [
    `(d) AdapterDrop on the Parallel of 8, ${describe(o.adapterModel)}, batch ${o.batch} × seq ${o.seq}`,
    '| setup | dispatches | GFLOP | median ms |',
    '|---|---|---|---|',
    `| no drop | ${none.dispatches} | ${(flops[0] / 1e9).toFixed(2)} | ${none.medianMs.toFixed(1)} |`,
    `| drop 0..${dropped.length - 1} | ${drop.dispatches} | ${(flops[1] / 1e9).toFixed(2)} | ${drop.medianMs.toFixed(1)} |`,
    `speed-up ${(none.medianMs / drop.medianMs).toFixed(2)}× (FLOP bound ${(flops[0] / flops[1]).toFixed(2)}×)`,
  ];
}

/** (e) BatchSplit of 8 LoRAs, one row each, vs one LoRA on the whole batch of 8. */
export async function benchBatchSplit(o: RuntimeBenchOptions): Promise<string[]> {
  const model = encoderOf(o.adapterModel);
  const names = named('l', 8);
  const split = await create(
    sourceOf({
      model,
      adapters: Object.fromEntries(names.map((n) => [n, lora()])),
      setup: { type: 'BatchSplit', children: names, batch_sizes: names.map(() => 1) },
      headSetup: { kind: 'single', head: 'head' },
    }),
    o.device,
  );
  const single = await create(
    sourceOf({ model, adapters: { l0: lora() }, setup: 'l0', headSetup: { kind: 'single', head: 'head' } }),
    o.device,
  );
  const inputs = inputsOf(model, 8, o.seq);
  const [s, one] = await timeCandidates([[split], [single]], inputs, o.repeats);
  split.release();
  single.release();
  return [
    `(e) BatchSplit of 8 LoRAs (one row each) vs one LoRA, ${describe(o.adapterModel)}, batch 8 × seq ${o.seq}`,
    '| setup | dispatches | median ms |',
    '|---|---|---|',
    `| BatchSplit of 8 | ${s.dispatches} | ${s.medianMs.toFixed(1)} |`,
    `| one LoRA | ${one.dispatches} | ${one.medianMs.toFixed(1)} |`,
    `BatchSplit / single: ${(s.medianMs / one.medianMs).toFixed(2)}×`,
  ];
}

export function describe(shape: ModelShape): string {
  return `${shape.layers} layers, hidden ${shape.hidden}, ${shape.heads} heads, FFN ${shape.intermediate}`;
}
