// State shared by one lowering: the graph under construction, the model, and AdapterHub's
// per-forward ForwardContext (whether the batch was already replicated for a Parallel block).
import type { AdapterConfig, SingleAdapterConfig } from '../config/types.ts';
import type { CheckedProgram } from '../dsl/checked.ts';
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId, ParamOrigin } from '../ir/graph.ts';
import { type Dim, dimEquals, formatDim, lit, type Shape, shapeOf } from '../ir/shape.ts';
import type { CheckpointKeys } from './keys.ts';
import type { EncoderConfig } from './model-config.ts';

export class LoweringError extends Error {
  override name = 'LoweringError';
}

export interface ForwardState {
  /** AdapterHub's `adapters_parallelized`: the batch has been replicated by a Parallel block. */
  parallelized: boolean;
  /** AdapterHub's `original_batch_size`, as a symbolic dimension. */
  originalBatch: Dim | null;
}

export interface LowerContext {
  readonly g: GraphBuilder;
  readonly model: EncoderConfig;
  readonly keys: CheckpointKeys;
  readonly program: CheckedProgram;
  readonly forward: ForwardState;
}

export function adapterConfig(ctx: LowerContext, name: string): AdapterConfig {
  const a = ctx.program.adapters.get(name);
  if (!a) throw new LoweringError(`unknown adapter '${name}'`);
  return a.config;
}

/** The members of an adapter's config (one, or several for a union). */
export function configMembers(config: AdapterConfig): readonly SingleAdapterConfig[] {
  return config.architecture === 'union' ? config.configs : [config];
}

export const batchOf = (ctx: LowerContext, id: NodeId): Dim => ctx.g.shape(id)[0];

/** AdapterHub's adjust_tensors_for_parallel: tiles `x` along the batch when `target` has more rows. */
export function tileToBatchOf(ctx: LowerContext, target: NodeId, x: NodeId): NodeId {
  const want = batchOf(ctx, target);
  const have = batchOf(ctx, x);
  if (dimEquals(want, have) || want.k <= have.k) return x;
  const times = want.k / have.k;
  if (!Number.isInteger(times))
    throw new LoweringError(`cannot replicate a batch of ${formatDim(have)} to ${formatDim(want)}`);
  return ctx.g.add({ op: 'tile', times }, [x]);
}

export function param(ctx: LowerContext, key: string, origin: ParamOrigin, ...dims: number[]): NodeId {
  return ctx.g.param(key, origin, shapeOf(...dims));
}

export function constant(ctx: LowerContext, value: number): NodeId {
  return ctx.g.add({ op: 'const', value }, []);
}

export function linear(ctx: LowerContext, x: NodeId, weight: NodeId, bias: NodeId | null): NodeId {
  return ctx.g.add({ op: 'linear' }, bias === null ? [x, weight] : [x, weight, bias]);
}

export const add = (ctx: LowerContext, a: NodeId, b: NodeId) =>
  ctx.g.add({ op: 'binary', fn: 'add' }, [a, b]);
export const mul = (ctx: LowerContext, a: NodeId, b: NodeId) =>
  ctx.g.add({ op: 'binary', fn: 'mul' }, [a, b]);
export const scale = (ctx: LowerContext, a: NodeId, factor: number) => mul(ctx, a, constant(ctx, factor));

export function sliceAxis(ctx: LowerContext, x: NodeId, axis: number, start: Dim, end: Dim): NodeId {
  return ctx.g.add({ op: 'slice', axis, start, end }, [x]);
}

export function concat(ctx: LowerContext, parts: readonly NodeId[], axis: number): NodeId {
  return parts.length === 1 ? parts[0] : ctx.g.add({ op: 'concat', axis }, parts);
}

export function reshape(ctx: LowerContext, x: NodeId, shape: Shape): NodeId {
  return ctx.g.add({ op: 'reshape', to: shape }, [x]);
}

export function expand(ctx: LowerContext, x: NodeId, shape: Shape): NodeId {
  return ctx.g.add({ op: 'expand', to: shape }, [x]);
}

export const ONE = lit(1);

/** The fields of a method's state that hold tensors (the rest, like `last`, are bookkeeping). */
export type TensorFields<S> = { [K in keyof S]-?: S[K] extends NodeId | null ? K : never }[keyof S];

/** Applies `f` to every tensor field of a state; an absent (null) tensor stays absent. */
export function mapTensors<S extends object>(
  s: S,
  fields: readonly TensorFields<S>[],
  f: (id: NodeId) => NodeId,
): S {
  const out: Record<string, unknown> = { ...(s as Record<string, unknown>) };
  for (const k of fields) {
    const v = s[k] as NodeId | null;
    out[k as string] = v === null ? null : f(v);
  }
  return out as S;
}

/**
 * Combines the tensor fields of several states with `f`; a field some state lacks is absent in the
 * result. The other fields come from the last state, as the library's `pad_and_concat` takes `last`.
 */
export function zipTensors<S extends object>(
  states: readonly S[],
  fields: readonly TensorFields<S>[],
  f: (ids: NodeId[]) => NodeId,
): S {
  const out: Record<string, unknown> = { ...(states[states.length - 1] as Record<string, unknown>) };
  for (const k of fields) {
    const parts = states.map((s) => s[k] as NodeId | null);
    out[k as string] = parts.some((p) => p === null) ? null : f(parts as NodeId[]);
  }
  return out as S;
}

/** Row r from parts[taskIds[r]]; parts that are the same node stay one node. */
export function selectRows(ctx: LowerContext, taskIds: NodeId, parts: readonly NodeId[]): NodeId {
  return parts.every((p) => p === parts[0]) ? parts[0] : ctx.g.add({ op: 'row_select' }, [taskIds, ...parts]);
}
