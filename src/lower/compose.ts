// AdapterHub's composition recursion (ComposableAdapterLayerBase), written once over a method's
// primitives. Each method (bottleneck, LoRA/IA³, prefix tuning) supplies how its state is sliced,
// concatenated, repeated, averaged and sent through one adapter; the blocks' meaning lives here.
import type { Composition } from '../dsl/checked.ts';
import type { NodeId } from '../ir/graph.ts';
import { type Dim, dimEquals, formatDim, lit, scaleDim } from '../ir/shape.ts';
import {
  concat,
  type LowerContext,
  LoweringError,
  mapTensors,
  selectRows,
  sliceAxis,
  type TensorFields,
  zipTensors,
} from './context.ts';

export type Block = Exclude<Composition, string>;

export interface MethodOps<S> {
  readonly kind: string;
  /** The method has a module for this adapter here (AdapterHub's `name in self.adapter_modules`). */
  has(name: string): boolean;
  batch(s: S): Dim;
  preBlock(setup: Composition, s: S): S;
  single(name: string, s: S): S;
  vslice(s: S, start: Dim, end: Dim): S;
  padAndConcat(states: readonly S[]): S;
  repeat(s: S, times: number): S;
  mean(states: readonly S[], weights: readonly number[]): S;
  /** Row r of the result from states[taskIds[r]] (MultiTask). */
  selectRows(taskIds: NodeId, states: readonly S[]): S;
  /** AdapterHub's allow_multi_parallelize (LoRA: q, k and v replicate independently). */
  readonly multiParallelize: boolean;
  fuse?(block: Block & { type: 'Fuse' }, s: S, recurse: (child: Composition, s: S) => S): S;
  split?(block: Block & { type: 'Split' }, s: S, recurse: (child: Composition, s: S) => S): S;
}

/** Slicing, concatenating, tiling and row selection of a state, field by field along the batch. */
export function rowPrimitives<S extends object>(
  ctx: LowerContext,
  fields: readonly TensorFields<S>[],
): Pick<MethodOps<S>, 'vslice' | 'padAndConcat' | 'repeat' | 'selectRows'> {
  return {
    vslice: (s, start, end) => mapTensors(s, fields, (x) => sliceAxis(ctx, x, 0, start, end)),
    padAndConcat: (states) => zipTensors(states, fields, (xs) => concat(ctx, xs, 0)),
    repeat: (s, times) => mapTensors(s, fields, (x) => ctx.g.add({ op: 'tile', times }, [x])),
    selectRows: (taskIds, states) => zipTensors(states, fields, (xs) => selectRows(ctx, taskIds, xs)),
  };
}

export function flatten(c: Composition): string[] {
  return typeof c === 'string' ? [c] : c.children.flatMap(flatten);
}

export const first = (c: Composition): string => flatten(c)[0];
export const last = (c: Composition): string => flatten(c).at(-1)!;

/** Number of Parallel channels of a setup (AdapterHub's `parallel_channels`). */
export function parallelChannels(c: Composition): number {
  if (typeof c === 'string') return 1;
  if (c.type === 'Parallel') return c.children.length;
  return Math.max(1, ...c.children.map(parallelChannels));
}

/** Start offsets of consecutive parts, and the total at the end: [3, 5] → [0, 3, 8]. */
export function offsets(sizes: readonly number[]): number[] {
  const at = [0];
  for (const s of sizes) at.push(at[at.length - 1] + s);
  return at;
}

/** Runs `setup` through one method at one location; the setup is the library's top-level block. */
export function compose<S>(ctx: LowerContext, ops: MethodOps<S>, setup: Block, state: S): S {
  const child = (c: Composition, s: S): S => {
    if (typeof c !== 'string') return block(c, s);
    return ops.has(c) ? ops.single(c, s) : s;
  };

  const block = (b: Block, s: S): S => {
    switch (b.type) {
      case 'Stack':
        return b.children.reduce((acc, c) => {
          if (typeof c !== 'string') return block(c, acc);
          return ops.has(c) ? ops.single(c, ops.preBlock(c, acc)) : acc;
        }, s);
      case 'Fuse':
        if (!b.children.some((c) => flatten(c).some(ops.has))) return s;
        if (!ops.fuse) throw new LoweringError(`${ops.kind} adapters cannot be fused`);
        return ops.fuse(b, s, child);
      case 'Split':
        if (!b.children.some((c) => flatten(c).some(ops.has))) return s;
        if (!ops.split) throw new LoweringError(`${ops.kind} adapters do not support Split`);
        return ops.split(b, s, child);
      case 'BatchSplit':
        return batchSplit(b.children, b.batch_sizes, s);
      case 'MultiTask':
        return multiTask(b.children, s);
      case 'Parallel':
        return parallel(b, s);
      case 'Average': {
        const pre = ops.preBlock(b, s);
        const present = b.children
          .map((c, i) => ({ c, w: b.weights[i] }))
          .filter(({ c }) => typeof c !== 'string' || ops.has(c));
        if (present.length !== b.children.length) {
          throw new LoweringError(
            `Average: every child must be present at every location where one is (${ops.kind})`,
          );
        }
        return ops.mean(
          present.map(({ c }) => child(c, pre)),
          present.map(({ w }) => w),
        );
      }
    }
  };

  const perChild = (children: readonly Composition[], s: S, rows: (i: number) => [Dim, Dim]): S =>
    ops.padAndConcat(
      children.map((c, i) => {
        const [start, end] = rows(i);
        return child(c, ops.vslice(s, start, end));
      }),
    );

  const batchSplit = (children: readonly Composition[], sizes: readonly number[], s: S): S => {
    const pre = ops.preBlock({ type: 'BatchSplit', children, batch_sizes: sizes }, s);
    const at = offsets(sizes);
    const total = ops.batch(pre);
    // Sizes are static; the runtime checks that the batch equals their sum (AdapterHub raises IndexError).
    return perChild(children, pre, (i) => [lit(at[i]), i === sizes.length - 1 ? total : lit(at[i + 1])]);
  };

  // compose_multi_task_learning sorts rows by task id and runs a BatchSplit over them; rows are
  // independent, so row r is child task_ids[r] on that row. The library's pre-block runs twice
  // (once for MultiTask, once more inside the BatchSplit it builds): reproduced.
  const multiTask = (children: readonly Composition[], s: S): S => {
    if (ctx.forward.parallelized)
      throw new LoweringError('MultiTask after a Parallel block: task_ids name the original rows only');
    const setup: Block = { type: 'MultiTask', children };
    const pre = ops.preBlock(setup, ops.preBlock(setup, s));
    const taskIds = ctx.g.input('task_ids', [ops.batch(pre)]);
    return ops.selectRows(
      taskIds,
      children.map((c) => child(c, pre)),
    );
  };

  const parallel = (b: Block & { type: 'Parallel' }, s: S): S => {
    const channels = b.children.length;
    const fwd = ctx.forward;
    let orig: Dim;
    if (!fwd.parallelized) {
      orig = ops.batch(s);
      s = ops.repeat(s, channels);
      fwd.parallelized = true;
      fwd.originalBatch = orig;
    } else if (ops.multiParallelize && fwd.originalBatch && dimEquals(ops.batch(s), fwd.originalBatch)) {
      orig = ops.batch(s);
      s = ops.repeat(s, channels);
    } else {
      const bsz = ops.batch(s);
      if (bsz.k % channels !== 0 || bsz.c % channels !== 0) {
        throw new LoweringError(
          `a batch of ${formatDim(bsz)} rows cannot be divided into ${channels} Parallel channels`,
        );
      }
      orig = scaleDim(bsz, 1 / channels);
    }
    const pre = ops.preBlock(b, s);
    return perChild(b.children, pre, (i) => [scaleDim(orig, i), scaleDim(orig, i + 1)]);
  };

  return block(setup, state);
}
