// The kernel plan: fusion groups turned into WGSL kernels (emitted once) and launch functions that, for one run's
// batch size and sequence length, give each launch its uniforms and the buffers it binds. The plan is a schedule
// over the optimized graph; which buffer holds which node's value is the memory plan's business.

import type { HostTensor } from '../checkpoint/tensor.ts';
import type { Graph, NodeId } from '../ir/graph.ts';
import { type Bindings, evalDim, evalShape, formatShape, type Shape } from '../ir/shape.ts';
import {
  type Expr,
  type FusionGroups,
  groupNodes,
  type KernelGroup,
  type ViewRef,
} from '../passes/fusion-groups.ts';
import { type MemoryPlan, planMemory } from '../passes/memory-plan.ts';
import type { Activation } from './activation.ts';
import { attentionSoftmaxKernel } from './attention-softmax.ts';
import { crossEntropyKernel } from './cross-entropy.ts';
import { type ElementType, elementwiseDims, elementwiseKernel, type ScalarExpr } from './elementwise.ts';
import { fusionAttentionKernel } from './fusion-attention.ts';
import { gatherGradKernel } from './gather-grad.ts';
import type { Dims, WgslKernel } from './kernel.ts';
import { layerNormKernel } from './layernorm.ts';
import { layerNormGradKernel } from './layernorm-grad.ts';
import {
  type LowRankSchedule,
  type LowRankWeights,
  lowRankKernel,
  lowRankLayout,
  packLowRankWeights,
  segmentTable,
} from './lowrank.ts';
import { matmulKernel, segmentedMatmulTable } from './matmul.ts';
import { reduceKernel } from './reduce.ts';
import { type KernelSchedules, LLVMPIPE_SCHEDULES } from './schedules.ts';
import { contiguousStrides, resolveView, type StridedView, stepsWrap } from './views.ts';

/**
 * A buffer a launch binds: a node's value (activation, input or parameter), parameters packed into one pool at
 * load time (see `PackedWeights`), or a small per-run table.
 */
export type BufferSource =
  | { readonly kind: 'node'; readonly node: NodeId }
  | { readonly kind: 'packed'; readonly key: string }
  | { readonly kind: 'table'; readonly data: Uint32Array };

/** Parameters a kernel reads from one buffer in its own layout, built once from the host weights. */
export interface PackedWeights {
  /** Names the packed buffer (derived from the parameter keys). */
  readonly key: string;
  /** The parameters packed into it. */
  readonly params: readonly string[];
  pack(weights: (key: string) => HostTensor | undefined): Float32Array;
}

export interface PlannedLaunch {
  readonly kernel: WgslKernel<Dims>;
  readonly dims: Dims;
  readonly buffers: Readonly<Record<string, BufferSource>>;
}

export interface PlannedStep {
  readonly group: KernelGroup;
  /** Every distinct kernel the step launches (known at compile time). */
  readonly kernels: readonly WgslKernel<Dims>[];
  /** Nodes whose buffers the step reads (materialized nodes, inputs, parameters). */
  readonly reads: readonly NodeId[];
  /** Weight pools the step's kernels read (uploaded once, like parameters). */
  readonly packed?: readonly PackedWeights[];
  launches(env: Bindings): PlannedLaunch[];
}

export interface KernelPlan {
  readonly graph: Graph;
  readonly fusion: FusionGroups;
  readonly steps: readonly PlannedStep[];
  readonly fused: boolean;
}

/** The device limits the plan is checked against (a subset of GPUSupportedLimits). */
export interface PlanLimits {
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
}

/** WebGPU's core defaults; compatibility mode may be lower (then pass the device's limits). */
export const DEFAULT_PLAN_LIMITS: PlanLimits = {
  maxStorageBuffersPerShaderStage: 8,
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxComputeInvocationsPerWorkgroup: 256,
};

/** A plan that cannot run on the device: names the kernel (and node) and the limit. */
export class PlanError extends Error {
  override name = 'PlanError';
}

export interface PlanOptions {
  readonly fuse?: boolean;
  readonly limits?: PlanLimits;
  /** Widest low-rank branch run as one kernel (see FusionOptions); the low-rank schedule's maxRank by default. */
  readonly maxLowRank?: number;
  /** How kernels are tiled (`schedulesFor(adapter)`); llvmpipe's by default. */
  readonly schedules?: KernelSchedules;
}

export function planKernels(graph: Graph, options: PlanOptions = {}): KernelPlan {
  const fused = options.fuse ?? true;
  const limits = options.limits ?? DEFAULT_PLAN_LIMITS;
  const schedules = options.schedules ?? LLVMPIPE_SCHEDULES;
  const fusion = groupNodes(graph, {
    fuse: fused,
    maxLowRank: options.maxLowRank ?? schedules.lowRank.maxRank,
  });
  checkParameterSizes(graph, limits);
  const steps = inDependencyOrder(fusion.groups.map((group) => planStep(graph, group, schedules)));
  for (const step of steps) checkKernelLimits(graph, step, limits);
  return { graph, fusion, steps, fused };
}

/** Every node a step writes. */
export function writtenBy(step: PlannedStep): readonly NodeId[] {
  return [step.group.node, ...(step.group.alsoWrites ?? [])];
}

/**
 * Steps in graph order, except that a step runs only after the steps writing what it reads (a group with two
 * outputs sits at its last member, possibly after a reader of its first output).
 */
function inDependencyOrder(steps: readonly PlannedStep[]): PlannedStep[] {
  const writer = new Map(steps.flatMap((s, i) => writtenBy(s).map((n) => [n, i] as const)));
  const done = new Set<number>();
  const ordered: PlannedStep[] = [];
  const visit = (i: number) => {
    if (done.has(i)) return;
    done.add(i);
    for (const r of steps[i].reads) {
      const w = writer.get(r);
      if (w !== undefined && w !== i) visit(w);
    }
    ordered.push(steps[i]);
  };
  steps.forEach((_, i) => {
    visit(i);
  });
  return ordered;
}

/** The buffer plan of one run size: each value's lifetime over the kernel order, slots reused. */
export function memoryPlanFor(plan: KernelPlan, env: Bindings): MemoryPlan {
  const graph = plan.graph;
  const writer = new Map(plan.steps.flatMap((s, i) => writtenBy(s).map((n) => [n, i] as const)));
  const readers = new Map<NodeId, number[]>();
  plan.steps.forEach((s, i) => {
    for (const r of s.reads) readers.set(r, [...(readers.get(r) ?? []), i]);
  });
  const outputs = new Set(graph.outputs.map((o) => o.node));
  const values = [...writer].map(([node, written]) => ({
    node,
    written,
    readBy: readers.get(node) ?? [],
    keep: outputs.has(node),
  }));
  return planMemory(values, (id) => evalShape(graph.nodes[id].shape, env).reduce((a, b) => a * b, 1) * 4);
}

/** One line per step: group kind, the nodes it computes (output last) and its kernels, for reports and tests. */
export function formatPlan(plan: KernelPlan): string {
  const lines = plan.steps.map((step) => {
    const { group } = step;
    const scope = plan.graph.nodes[group.node].scope;
    const members = group.members.map((m) => `%${m}`).join(' ');
    return `${group.kind.padEnd(16)} ${members.padEnd(24)} ${step.kernels.map((k) => k.name).join(', ')}  # ${scope}`;
  });
  return `${lines.join('\n')}\n`;
}

function checkParameterSizes(graph: Graph, limits: PlanLimits): void {
  for (const n of graph.nodes) {
    if (n.op !== 'param') continue;
    const bytes = n.shape.reduce((a, d) => a * d.c, 4);
    if (bytes > limits.maxStorageBufferBindingSize) {
      throw new PlanError(
        `parameter '${n.key}' ${formatShape(n.shape)} is ${bytes} bytes, over the device's storage binding limit of ${limits.maxStorageBufferBindingSize} bytes (splitting large weights is not implemented)`,
      );
    }
  }
}

function checkKernelLimits(graph: Graph, step: PlannedStep, limits: PlanLimits): void {
  for (const kernel of step.kernels) {
    const where = `kernel ${kernel.name} for %${step.group.node} (${graph.nodes[step.group.node].scope})`;
    const storage = kernel.bindings.filter((b) => b.kind === 'storage').length;
    if (storage > limits.maxStorageBuffersPerShaderStage) {
      throw new PlanError(
        `${where} binds ${storage} storage buffers; the device allows ${limits.maxStorageBuffersPerShaderStage} per shader stage`,
      );
    }
    if (kernel.workgroupSize > limits.maxComputeInvocationsPerWorkgroup) {
      throw new PlanError(
        `${where} uses ${kernel.workgroupSize} invocations per workgroup; the device allows ${limits.maxComputeInvocationsPerWorkgroup}`,
      );
    }
  }
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const node = (id: NodeId): BufferSource => ({ kind: 'node', node: id });
const align = (n: number): 1 | 4 => (n % 4 === 0 ? 4 : 1);

function planStep(graph: Graph, group: KernelGroup, schedules: KernelSchedules): PlannedStep {
  const shapeAt = (id: NodeId, env: Bindings) => evalShape(graph.nodes[id].shape, env);
  const staticLast = (id: NodeId) => {
    const shape = graph.nodes[id].shape;
    return evalDim(shape[shape.length - 1], { B: 1, T: 1 });
  };
  switch (group.kind) {
    case 'elementwise': {
      const lowered = lowerExpr(graph, group.expr);
      const kernel = elementwiseKernel({
        name: `elementwise_r${graph.nodes[group.node].shape.length}_${lowered.summary}`,
        rank: graph.nodes[group.node].shape.length,
        buffers: lowered.buffers,
        leaves: lowered.leaves,
        expr: lowered.expr,
        output: graph.nodes[group.node].dtype,
        outputView: false,
      });
      return {
        group,
        kernels: [kernel],
        reads: lowered.reads,
        launches: (env) => [
          {
            kernel,
            dims: elementwiseDims(
              shapeAt(group.node, env),
              lowered.views.map((v) => resolve(graph, v, env)),
            ),
            buffers: { ...lowered.bindings, out: node(group.node) },
          },
        ],
      };
    }
    case 'concat': {
      const target = graph.nodes[group.node];
      const parts = group.parts.map((part, i) => {
        const lowered = lowerExpr(graph, part);
        const partShape: Shape = graph.nodes[target.inputs[i]].shape;
        const shape = target.op === 'stack' ? [{ sym: null, k: 0, c: 1 }, ...partShape] : partShape;
        const kernel = elementwiseKernel({
          name: `copy_r${target.shape.length}_${lowered.summary}`,
          rank: target.shape.length,
          buffers: lowered.buffers,
          leaves: lowered.leaves,
          expr: lowered.expr,
          output: target.dtype,
          outputView: true,
        });
        return { lowered, kernel, shape };
      });
      return {
        group,
        kernels: parts.map((p) => p.kernel),
        reads: [...new Set(parts.flatMap((p) => p.lowered.reads))],
        launches: (env) => {
          const outShape = shapeAt(group.node, env);
          const strides = contiguousStrides(outShape);
          let start = 0;
          return parts.map(({ lowered, kernel, shape }) => {
            const partShape = evalShape(shape, env);
            const output: StridedView = {
              shape: partShape,
              strides,
              offset: start * strides[group.axis],
              wraps: partShape,
            };
            start += partShape[group.axis];
            return {
              kernel,
              dims: elementwiseDims(
                partShape,
                lowered.views.map((v) => resolve(graph, v, env)),
                output,
              ),
              buffers: { ...lowered.bindings, out: node(group.node) },
            };
          });
        },
      };
    }
    case 'linear':
    case 'segmented_linear': {
      // Sizes come from the contraction's own operands: `x` may be a larger buffer behind a plain view.
      const contraction = graph.nodes[group.members[0]];
      const K = staticLast(contraction.inputs[1]);
      const N = staticLast(contraction.id);
      const { epilogue } = group;
      const segmented = group.kind === 'segmented_linear';
      const kernel = matmulKernel({
        transposeB: true,
        schedule: schedules.matmul,
        alignK: align(K),
        alignN: align(N),
        ...(segmented ? { grid: 'segmented' as const } : {}),
        epilogue: {
          bias: group.bias !== undefined,
          ...(epilogue.scale !== undefined ? { scale: epilogue.scale } : {}),
          ...(epilogue.activation !== undefined ? { activation: epilogue.activation as Activation } : {}),
          residual: epilogue.residual !== undefined,
        },
      }) as WgslKernel<Dims>;
      const buffers: Record<string, BufferSource> = {
        a: node(group.x),
        b: node(group.weight),
        ...(group.bias !== undefined ? { bias: node(group.bias) } : {}),
        ...(epilogue.residual !== undefined ? { residual: node(epilogue.residual) } : {}),
        c: node(group.node),
      };
      return {
        group,
        kernels: [kernel],
        reads: [group.x, group.weight, group.bias, epilogue.residual].filter(
          (id): id is NodeId => id !== undefined,
        ),
        launches: (env) => {
          const xShape = shapeAt(contraction.inputs[0], env);
          const rows = numel(xShape) / K;
          if (!segmented) return [{ kernel, dims: { M: rows, N, K }, buffers }];
          const rowsPerBatch = rows / xShape[0];
          const bounds = (group.bounds ?? []).map((d) => evalDim(d, env));
          const segments = bounds.slice(0, -1).map((start, s) => ({
            rowStart: start * rowsPerBatch,
            rowCount: (bounds[s + 1] - start) * rowsPerBatch,
            weightOffset: s * N * K,
            biasOffset: s * N,
          }));
          return [
            {
              kernel,
              dims: { M: Math.max(0, ...segments.map((s) => s.rowCount)), N, K, segments: segments.length },
              buffers: { ...buffers, segments: { kind: 'table', data: segmentedMatmulTable(segments) } },
            },
          ];
        },
      };
    }
    case 'lowrank':
      return lowRankStep(graph, group, schedules.lowRank);
    case 'fusion_attention': {
      const H = staticLast(group.q);
      const kernel = fusionAttentionKernel({
        adapters: group.adapters,
        alignH: align(H),
      }) as WgslKernel<Dims>;
      return {
        group,
        kernels: [kernel],
        reads: [group.q, group.k, group.v],
        launches: (env) => [
          {
            kernel,
            dims: { rows: numel(shapeAt(group.node, env)) / H, H, temperature: group.temperature },
            buffers: {
              q: node(group.q),
              k: node(group.k),
              v: node(group.v),
              ctx: node(group.node),
              probs: node(group.alsoWrites![0]),
            },
          },
        ],
      };
    }
    case 'matmul': {
      const kernel = matmulKernel({
        transposeB: group.transB,
        schedule: schedules.matmul,
        grid: 'batched',
        ...batchedAlignment(graph, group),
        ...(group.scale !== undefined ? { epilogue: { scale: group.scale } } : {}),
      }) as WgslKernel<Dims>;
      return {
        group,
        kernels: [kernel],
        reads: [group.a.base, group.b.base],
        launches: (env) => [
          {
            kernel,
            dims: batchedMatmulDims(
              shapeAt(group.node, env),
              resolve(graph, group.a, env),
              resolve(graph, group.b, env),
            ),
            buffers: { a: node(group.a.base), b: node(group.b.base), c: node(group.node) },
          },
        ],
      };
    }
    case 'layernorm': {
      const H = staticLast(group.node);
      const kernel = layerNormKernel({
        schedule: schedules.layerNorm,
        eps: group.eps,
        residual: group.residual !== undefined,
        alignH: align(H),
      }) as WgslKernel<Dims>;
      const reads = [group.x, group.residual, group.gamma, group.beta].filter(
        (id): id is NodeId => id !== undefined,
      );
      return {
        group,
        kernels: [kernel],
        reads,
        launches: (env) => [
          {
            kernel,
            dims: { rows: numel(shapeAt(group.node, env)) / H, H },
            buffers: {
              x: node(group.x),
              ...(group.residual !== undefined ? { residual: node(group.residual) } : {}),
              gamma: node(group.gamma),
              beta: node(group.beta),
              y: node(group.node),
            },
          },
        ],
      };
    }
    case 'softmax': {
      const kernel = attentionSoftmaxKernel({ mask: group.mask !== undefined }) as WgslKernel<Dims>;
      return {
        group,
        kernels: [kernel],
        reads: group.mask !== undefined ? [group.x, group.mask] : [group.x],
        launches: (env) => {
          const shape = shapeAt(group.node, env);
          const Tk = shape[shape.length - 1];
          const rowsPerBatch = group.mask !== undefined ? shape[1] * shape[2] : 1;
          return [
            {
              kernel,
              dims: { rows: Tk === 0 ? 0 : numel(shape) / Tk, rowsPerBatch, Tk, prefix: 0 },
              buffers: {
                scores: node(group.x),
                ...(group.mask !== undefined ? { mask: node(group.mask) } : {}),
                probs: node(group.node),
              },
            },
          ];
        },
      };
    }
    case 'reduce': {
      const kernel = reduceKernel(group.fn) as WgslKernel<Dims>;
      return {
        group,
        kernels: [kernel],
        reads: [group.x],
        launches: (env) => {
          const shape = shapeAt(graph.nodes[group.node].inputs[0], env);
          return [
            {
              kernel,
              dims: {
                outer: numel(shape.slice(0, group.axis)),
                len: shape[group.axis],
                inner: numel(shape.slice(group.axis + 1)),
              },
              buffers: { x: node(group.x), y: node(group.node) },
            },
          ];
        },
      };
    }
    case 'layernorm_grad': {
      const H = staticLast(group.node);
      const kernel = layerNormGradKernel({ eps: group.eps, wrt: group.wrt }) as WgslKernel<Dims>;
      return {
        group,
        kernels: [kernel],
        reads: [group.x, group.gamma, group.dy],
        launches: (env) => [
          {
            kernel,
            dims: { rows: numel(shapeAt(group.node, env)) / H, H },
            buffers: {
              x: node(group.x),
              gamma: node(group.gamma),
              dy: node(group.dy),
              out: node(group.node),
            },
          },
        ],
      };
    }
    case 'cross_entropy': {
      const { grad, mask } = group;
      const kernel = crossEntropyKernel({
        grad: grad !== undefined,
        dloss: grad?.dloss !== undefined,
        mask: mask !== undefined,
      }) as WgslKernel<Dims>;
      const optional = [grad?.dloss, mask].filter((id): id is NodeId => id !== undefined);
      return {
        group,
        kernels: [kernel],
        reads: [group.logits, group.labels, ...optional],
        launches: (env) => {
          const classes = staticLast(group.logits);
          return [
            {
              kernel,
              dims: {
                rows: numel(shapeAt(group.logits, env)) / classes,
                classes,
                ...(grad ? { scale: grad.scale } : {}),
              },
              buffers: {
                logits: node(group.logits),
                labels: node(group.labels),
                ...(grad?.dloss !== undefined ? { dloss: node(grad.dloss) } : {}),
                ...(mask !== undefined ? { mask: node(mask) } : {}),
                out: node(group.node),
              },
            },
          ];
        },
      };
    }
    case 'gather_grad': {
      const H = staticLast(group.node);
      const fill = elementwiseKernel({
        name: 'fill_zero',
        rank: 1,
        buffers: [],
        leaves: [],
        expr: { kind: 'const', value: 0 },
        output: 'f32',
        outputView: false,
      });
      const scatter = gatherGradKernel() as WgslKernel<Dims>;
      return {
        group,
        kernels: [fill, scatter],
        reads: [group.ids, group.dy],
        launches: (env): PlannedLaunch[] => [
          {
            kernel: fill,
            dims: elementwiseDims([numel(shapeAt(group.node, env))], []),
            buffers: { out: node(group.node) },
          },
          {
            kernel: scatter,
            dims: { positions: numel(shapeAt(group.ids, env)), H },
            buffers: { ids: node(group.ids), dy: node(group.dy), out: node(group.node) },
          },
        ],
      };
    }
  }
}

function lowRankStep(
  graph: Graph,
  group: KernelGroup & { kind: 'lowrank' },
  schedule: LowRankSchedule,
): PlannedStep {
  const keyOf = (id: NodeId | undefined) => {
    const n = id === undefined ? undefined : graph.nodes[id];
    return n?.op === 'param' ? n.key : undefined;
  };
  const downNode = graph.nodes[group.down];
  const [inDim, outDim] = [downNode.shape.at(-1)!.c, graph.nodes[group.up].shape.at(-2)!.c];
  const segmented = group.bounds !== undefined;
  const branches = segmented ? downNode.shape[0].c : 1;
  const shape = {
    rank: group.rank,
    downBias: group.downBias !== undefined,
    upBias: group.upBias !== undefined,
  };
  const layout = lowRankLayout(shape, inDim, outDim);
  const keys = [group.down, group.downBias, group.up, group.upBias].map(keyOf);
  const packed: PackedWeights = {
    key: `lowrank:${keys.join('|')}`,
    params: keys.filter((k): k is string => k !== undefined),
    pack(weights) {
      const [down, downBias, up, upBias] = keys.map((k) => (k === undefined ? undefined : weights(k)?.data));
      if (!down || !up) throw new PlanError(`low-rank weights ${keys.join(', ')} are missing`);
      const slice = (data: Float32Array | undefined, i: number) =>
        data?.subarray((i * data.length) / branches, ((i + 1) * data.length) / branches);
      const parts: LowRankWeights[] = Array.from({ length: branches }, (_, i) => ({
        down: slice(down, i)!,
        up: slice(up, i)!,
        ...(downBias ? { downBias: slice(downBias, i) } : {}),
        ...(upBias ? { upBias: slice(upBias, i) } : {}),
      }));
      return packLowRankWeights(shape, inDim, outDim, parts).pool;
    },
  };
  const kernel = lowRankKernel({
    ...shape,
    schedule,
    activation: (group.activation ?? 'identity') as Activation,
    residual: group.residual !== undefined ? 'buffer' : 'none',
    segmented,
    ...(group.scale !== undefined && !segmented ? { scale: group.scale } : {}),
    alignIn: align(inDim),
    alignOut: align(outDim),
  }) as WgslKernel<Dims>;
  const buffers: Record<string, BufferSource> = {
    x: node(group.x),
    weights: { kind: 'packed', key: packed.key },
    ...(group.residual !== undefined ? { residual: node(group.residual) } : {}),
    out: node(group.node),
  };
  const xInput = graph.nodes[group.members[0]].inputs[0];
  return {
    group,
    kernels: [kernel],
    reads: [group.x, ...(group.residual !== undefined ? [group.residual] : [])],
    packed: [packed],
    launches: (env) => {
      const xShape = evalShape(graph.nodes[xInput].shape, env);
      const rows = numel(xShape) / inDim;
      if (!segmented) return [{ kernel, dims: { rows, inDim, outDim }, buffers }];
      const rowsPerBatch = rows / xShape[0];
      const bounds = (group.bounds ?? []).map((d) => evalDim(d, env));
      const table = segmentTable(
        bounds.slice(0, -1).map((start, s) => ({
          rowStart: start * rowsPerBatch,
          rowEnd: bounds[s + 1] * rowsPerBatch,
          weightOffset: s * layout.size,
          scale: group.scale ?? 1,
        })),
      );
      return [
        {
          kernel,
          dims: { rows, inDim, outDim, segments: bounds.length - 1 },
          buffers: { ...buffers, segments: { kind: 'table', data: table } },
        },
      ];
    },
  };
}

/**
 * vec4 loads along K (or N) when K (N) and every stride the batched grid steps along it are multiples of 4 at
 * every batch size and sequence length. Strides are integer polynomials in B and T, so their residues mod 4
 * repeat with period 4: B, T ∈ 1…4 cover all sizes. The kernel re-checks each launch.
 */
function batchedAlignment(
  graph: Graph,
  group: KernelGroup & { kind: 'matmul' },
): { alignK: 1 | 4; alignN: 1 | 4 } {
  let [alignK, alignN]: (1 | 4)[] = [4, 4];
  const aligned = (values: readonly number[]) => values.every((v) => v % 4 === 0);
  for (let B = 1; B <= 4; B++) {
    for (let T = 1; T <= 4; T++) {
      const env = { B, T };
      const d = batchedMatmulDims(
        evalShape(graph.nodes[group.node].shape, env),
        resolve(graph, group.a, env),
        resolve(graph, group.b, env),
      );
      const bStrides = [d.ldb, d.bBatchStride, d.bHeadStride];
      const kStrides = [d.K, d.lda, d.aBatchStride, d.aHeadStride, ...(group.transB ? bStrides : [])];
      const nStrides = [d.N, d.ldc, d.cBatchStride, d.cHeadStride, ...(group.transB ? [] : bStrides)];
      if (!aligned(kStrides)) alignK = 1;
      if (!aligned(nStrides)) alignN = 1;
    }
  }
  return { alignK, alignN };
}

function resolve(graph: Graph, view: ViewRef, env: Bindings): StridedView {
  return resolveView(evalShape(graph.nodes[view.base].shape, env), view.steps, env);
}

/**
 * Operands [..batch, M, K] and [..batch, K, N] (or [..batch, N, K]) as strided views, batch dimensions
 * broadcast from the right into the batched grid's (batch, heads); C is row-major.
 */
export function batchedMatmulDims(out: readonly number[], a: StridedView, b: StridedView): Dims {
  const r = out.length;
  if (r < 2 || r > 4) throw new PlanError(`matmul of rank ${r}: the batched grid takes ranks 2 to 4`);
  const [M, N] = [out[r - 2], out[r - 1]];
  const K = a.shape[a.shape.length - 1];
  const batchStride = (v: StridedView, outAxis: number): number => {
    if (outAxis < 0) return 0;
    const j = outAxis - (r - v.shape.length);
    return j < 0 || (v.shape[j] === 1 && out[outAxis] !== 1) ? 0 : v.strides[j];
  };
  const batchAxis = r - 4;
  const headAxis = r - 3;
  const batch = batchAxis >= 0 ? out[batchAxis] : 1;
  const heads = headAxis >= 0 ? out[headAxis] : 1;
  return {
    M,
    N,
    K,
    batch,
    heads,
    lda: a.strides[a.shape.length - 2],
    ldb: b.strides[b.shape.length - 2],
    ldc: N,
    aBatchStride: batchStride(a, batchAxis),
    aHeadStride: batchStride(a, headAxis),
    bBatchStride: batchStride(b, batchAxis),
    bHeadStride: batchStride(b, headAxis),
    cBatchStride: heads * M * N,
    cHeadStride: M * N,
  };
}

interface LoweredExpr {
  readonly expr: ScalarExpr;
  readonly buffers: readonly { readonly name: string; readonly element: ElementType }[];
  readonly leaves: readonly { readonly buffer: string; readonly wraps: boolean }[];
  readonly views: readonly ViewRef[];
  /** Binding name → the node whose buffer it binds. */
  readonly bindings: Readonly<Record<string, BufferSource>>;
  readonly reads: readonly NodeId[];
  /** Op names for the kernel name (identical structures share WGSL and pipelines). */
  readonly summary: string;
}

/** The IR expression as the elementwise emitter's scalar expression, with one binding per distinct buffer. */
function lowerExpr(graph: Graph, root: Expr): LoweredExpr {
  const bufferOf = new Map<NodeId, string>();
  const buffers: { name: string; element: ElementType }[] = [];
  const leaves: { buffer: string; wraps: boolean }[] = [];
  const views: ViewRef[] = [];
  const ops: string[] = [];
  const bufferName = (id: NodeId) => {
    let name = bufferOf.get(id);
    if (name === undefined) {
      name = `in${buffers.length}`;
      bufferOf.set(id, name);
      buffers.push({ name, element: graph.nodes[id].dtype });
    }
    return name;
  };
  const lower = (e: Expr): ScalarExpr => {
    switch (e.kind) {
      case 'leaf': {
        leaves.push({ buffer: bufferName(e.view.base), wraps: stepsWrap(e.view.steps) });
        views.push(e.view);
        return { kind: 'leaf', leaf: leaves.length - 1 };
      }
      case 'const':
        return e;
      case 'unary':
        ops.push(e.fn);
        return { kind: 'unary', fn: e.fn, x: lower(e.x) };
      case 'binary':
        ops.push(e.fn);
        return { kind: 'binary', fn: e.fn, a: lower(e.a), b: lower(e.b) };
      case 'mask_bias':
        ops.push('mask');
        return { kind: 'mask_bias', x: lower(e.x) };
      case 'gather':
        ops.push('gather');
        return { kind: 'gather', buffer: bufferName(e.table), width: e.width, ids: lower(e.ids) };
      case 'row_select':
        ops.push('select');
        return { kind: 'row_select', task: lower(e.task), choices: e.choices.map(lower) };
      case 'unary_grad':
        ops.push(`d${e.fn}`);
        return { kind: 'unary_grad', fn: e.fn, x: lower(e.x), dy: lower(e.dy) };
      case 'dropout':
        ops.push('dropout');
        return { kind: 'dropout', p: e.p, stream: e.stream, seed: lower(e.seed) };
    }
  };
  const expr = lower(root);
  return {
    expr,
    buffers,
    leaves,
    views,
    bindings: Object.fromEntries([...bufferOf].map(([id, name]) => [name, node(id)])),
    reads: [...bufferOf.keys()],
    summary:
      ops.length === 0 ? 'copy' : ops.slice(0, 4).join('_') + (ops.length > 4 ? `_${ops.length}ops` : ''),
  };
}
