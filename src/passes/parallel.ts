// Parallel-batch merging (XLA's horizontal fusion, Punica's segmented gather), in two rewrites:
//  1. Replication sinks: a row-wise op over tiled inputs runs once on the untiled rows and is tiled
//     after, so work shared by all Parallel channels happens once (and identical channels collapse
//     under CSE).
//  2. Branch vectorization: concat(f₁(x₁), …, fₙ(xₙ)) of structurally equal branches becomes one
//     graph over all rows, each per-branch linear layer a segmented op over weights packed side by side.
//     The number of ops then stops growing with the number of branches.
import type { GraphBuilder } from '../ir/builder.ts';
import type { Node, NodeId, Op } from '../ir/graph.ts';
import { type OutputRule, type Rule, rewrite } from '../ir/rewrite.ts';
import { addDims, type Dim, dimEquals, lit, shapeEquals } from '../ir/shape.ts';
import type { Pass } from './pass.ts';
import { SIMPLIFY_RULES } from './simplify.ts';

type ComputeOp = Exclude<Op, { op: 'input' } | { op: 'param' }>;

function opOf(node: Node): ComputeOp {
  const { id: _id, inputs: _inputs, shape: _shape, dtype: _dtype, scope: _scope, ...op } = node;
  return op as ComputeOp;
}

/** The op with its batch-sized attributes (reshape/expand targets) rescaled to `batch` rows. */
function withBatch(op: ComputeOp, batch: Dim): ComputeOp {
  if (op.op === 'reshape' || op.op === 'expand') return { ...op, to: [batch, ...op.to.slice(1)] };
  return op;
}

/** Which inputs carry rows (axis 0 = batch) for a row-wise op; null if the op mixes rows. */
function rowInputs(node: Node, b: GraphBuilder, inputs: readonly NodeId[]): readonly number[] | null {
  switch (node.op) {
    case 'unary':
    case 'softmax':
    case 'mask_bias':
      return [0];
    case 'mean':
      return node.axis === 0 ? null : [0];
    case 'permute':
      return node.perm[0] === 0 ? [0] : null;
    case 'slice':
    case 'concat':
      return node.axis === 0 ? null : inputs.map((_, i) => i);
    case 'reshape':
    case 'expand': {
      const from = b.shape(inputs[0]);
      return from.length === node.to.length && dimEquals(node.to[0], from[0]) ? [0] : null;
    }
    case 'linear':
    case 'layernorm':
      return [0];
    case 'gather':
      return [1];
    case 'binary':
    case 'matmul': {
      const rank = node.shape.length;
      return inputs.flatMap((_, i) =>
        b.shape(inputs[i]).length === rank && !dimEquals(b.shape(inputs[i])[0], lit(1)) ? [i] : [],
      );
    }
    default:
      return null;
  }
}

const sinkReplication: Rule = (node, inputs, b) => {
  const rows = rowInputs(node, b, inputs);
  if (rows === null || rows.length === 0) return null;
  const tiles = rows.map((i) => b.node(inputs[i]));
  if (!tiles.every((t) => t.op === 'tile')) return null;
  const times = (tiles[0] as Node & { op: 'tile' }).times;
  if (!tiles.every((t) => (t as Node & { op: 'tile' }).times === times)) return null;
  const untiled = inputs.map((id, i) => (rows.includes(i) ? b.node(id).inputs[0] : id));
  const batch = b.shape(untiled[rows[0]])[0];
  const inner = b.add(withBatch(opOf(node), batch), untiled);
  return b.add({ op: 'tile', times }, [inner]);
};

type Lane = { readonly kind: 'rows' | 'shared' | 'stacked'; readonly id: NodeId };

/** Row offsets of consecutive parts: [0, d₀, d₀+d₁, …]. */
function bounds(sizes: readonly Dim[]): Dim[] {
  const at: Dim[] = [lit(0)];
  for (const s of sizes) at.push(addDims(at[at.length - 1], s));
  return at;
}

/** Walks n branches in lockstep; returns their values over all rows, or null when they differ in structure. */
function vectorizer(b: GraphBuilder, segments: readonly Dim[]) {
  const memo = new Map<string, Lane | null>();
  const n = segments.length - 1;
  const rowsOf = (lane: Lane | null): NodeId | null => (lane?.kind === 'rows' ? lane.id : null);
  const dependsOnInput = (id: NodeId): boolean => {
    const node = b.node(id);
    return node.op === 'input' || node.inputs.some(dependsOnInput);
  };
  const lanes = (ids: readonly NodeId[]): Lane | null => {
    const key = ids.join(',');
    if (memo.has(key)) return memo.get(key)!;
    const result = compute(ids);
    memo.set(key, result);
    return result;
  };
  const compute = (ids: readonly NodeId[]): Lane | null => {
    const nodes = ids.map((id) => b.node(id));
    const first = nodes[0];
    if (ids.every((id) => id === ids[0])) {
      const shape = b.shape(ids[0]);
      // Shared means batch-free: a parameter expression, not something broadcast to the batch.
      if (!dependsOnInput(ids[0]) && (shape.length === 0 || shape[0].k === 0))
        return { kind: 'shared', id: ids[0] };
      // Every branch reads the same rows: equal-sized segments read them tiled.
      if (b.shape(ids[0]).length === 0) return null;
      const equal = ids.every((_, i) => dimEquals(addDims(segments[i], b.shape(ids[0])[0]), segments[i + 1]));
      return equal ? { kind: 'rows', id: b.add({ op: 'tile', times: n }, [ids[0]]) } : null;
    }
    if (nodes.every((m) => m.op === 'slice' && m.axis === 0 && m.inputs[0] === first.inputs[0])) {
      const slices = nodes as (Node & { op: 'slice' })[];
      const contiguous = slices.every((s, i) => i === 0 || dimEquals(s.start, slices[i - 1].end));
      if (!contiguous) return null;
      const whole = b.shape(first.inputs[0])[0];
      if (dimEquals(slices[0].start, lit(0)) && dimEquals(slices[n - 1].end, whole))
        return { kind: 'rows', id: first.inputs[0] };
      return {
        kind: 'rows',
        id: b.add({ op: 'slice', axis: 0, start: slices[0].start, end: slices[n - 1].end }, [
          first.inputs[0],
        ]),
      };
    }
    if (nodes.every((m) => m.op === 'param')) {
      const sameShape = nodes.every((m) => shapeEquals(m.shape, first.shape));
      return sameShape ? { kind: 'stacked', id: b.add({ op: 'stack' }, ids) } : null;
    }
    const op = opOf(first);
    if (
      !nodes.every(
        (m) => JSON.stringify(opOf(m)) === JSON.stringify(op) && m.inputs.length === first.inputs.length,
      )
    ) {
      return null;
    }
    const args = first.inputs.map((_, k) => lanes(nodes.map((m) => m.inputs[k])));
    if (args.some((a) => a === null)) return null;
    const total = segments[n];
    if (op.op === 'linear') {
      const [x, w, bias] = args as Lane[];
      const rows = rowsOf(x);
      if (rows === null) return null;
      if (w.kind === 'shared' && (bias === undefined || bias.kind === 'shared')) {
        return {
          kind: 'rows',
          id: b.add(
            op,
            args.map((a) => a!.id),
          ),
        };
      }
      if (w.kind !== 'stacked' || (bias !== undefined && bias.kind !== 'stacked')) return null;
      const inputs = bias === undefined ? [rows, w.id] : [rows, w.id, bias.id];
      return { kind: 'rows', id: b.add({ op: 'segmented_linear', bounds: segments }, inputs) };
    }
    const rowWise = [
      'unary',
      'binary',
      'layernorm',
      'softmax',
      'mean',
      'reshape',
      'permute',
      'slice',
      'concat',
      'expand',
    ];
    if (
      !rowWise.includes(op.op) ||
      (op.op === 'mean' && op.axis === 0) ||
      ((op.op === 'slice' || op.op === 'concat') && op.axis === 0)
    ) {
      return null;
    }
    if (args.some((a) => a!.kind === 'stacked') || !args.some((a) => a!.kind === 'rows')) return null;
    if (op.op === 'layernorm' && args[0]!.kind !== 'rows') return null;
    return {
      kind: 'rows',
      id: b.add(
        withBatch(op, total),
        args.map((a) => a!.id),
      ),
    };
  };
  return lanes;
}

const vectorizeBranches: Rule = (node, inputs, b) => {
  if (node.op !== 'concat' || node.axis !== 0 || inputs.length < 2) return null;
  const segments = bounds(inputs.map((i) => b.shape(i)[0]));
  const lane = vectorizer(b, segments)(inputs);
  return lane?.kind === 'rows' ? lane.id : null;
};

/**
 * Consecutive outputs computed by equal branches on consecutive rows (the heads of Parallel channels)
 * become one vectorized computation, each output a slice of it.
 */
const vectorizeOutputs: OutputRule = (outputs, b) => {
  const result = [...outputs];
  let changed = false;
  for (let start = 0; start < result.length; start++) {
    for (let end = result.length; end >= start + 2; end--) {
      const group = result.slice(start, end).map((o) => o.node);
      if (group.some((id) => b.node(id).op === 'slice' || b.shape(id).length === 0)) continue;
      const segments = bounds(group.map((id) => b.shape(id)[0]));
      const lane = vectorizer(b, segments)(group);
      if (lane?.kind !== 'rows') continue;
      group.forEach((_, i) => {
        result[start + i] = {
          name: result[start + i].name,
          node: b.add({ op: 'slice', axis: 0, start: segments[i], end: segments[i + 1] }, [lane.id]),
        };
      });
      changed = true;
      start = end - 1;
      break;
    }
  }
  return changed ? result : null;
};

export const mergeParallel: Pass = {
  name: 'merge-parallel',
  purpose:
    'run work shared by Parallel/BatchSplit branches once, and merge per-branch ops into segmented ops',
  run({ graph, weights }) {
    const sunk = rewrite(graph, [...SIMPLIFY_RULES, sinkReplication], { cse: true });
    const merged = rewrite(sunk.graph, [vectorizeBranches], {
      cse: true,
      maxRounds: 1,
      outputRule: vectorizeOutputs,
    });
    const cleaned = rewrite(merged.graph, [...SIMPLIFY_RULES, sinkReplication], { cse: true });
    return {
      graph: cleaned.graph,
      weights,
      notes: [
        `${sunk.fired + cleaned.fired} replications sunk or undone`,
        `${merged.fired} branch groups merged into segmented ops`,
        `${graph.nodes.length} → ${cleaned.graph.nodes.length} nodes`,
      ],
    };
  },
};
