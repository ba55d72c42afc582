// Fusion grouping: a schedule over the optimized IR, not a new algorithm. Every node gets a TVM-style pattern kind
// and lands in exactly one kernel group (or is a free view, a leaf or a constant); the graph itself is unchanged.
// Groups: a linear/matmul/segmented_linear with its single-consumer epilogue chain (scale by a constant,
// activation, residual add); a layer norm with the residual add before it; scores + additive mask + softmax;
// chains of elementwise/broadcast ops as one generated elementwise kernel; gathers inlined into that kernel;
// reshape/permute/slice/expand as views folded into a consumer's indexing where the consumer can read them, else
// materialized by the generic copy (the elementwise kernel with an identity expression).
import type { BinaryFn, Graph, Node, NodeId, OpKind, UnaryFn } from '../ir/graph.ts';
import { type Dim, dimEquals, lit, type Shape, shapeEquals } from '../ir/shape.ts';

export type PatternKind =
  | 'leaf'
  | 'elementwise'
  | 'broadcast'
  | 'injective'
  | 'reduction'
  | 'out-fusable'
  | 'opaque';

const PATTERN_KINDS: Readonly<Partial<Record<OpKind, PatternKind>>> = {
  input: 'leaf',
  param: 'leaf',
  const: 'leaf',
  unary: 'elementwise',
  mask_bias: 'elementwise',
  binary: 'broadcast',
  expand: 'broadcast',
  reshape: 'injective',
  permute: 'injective',
  slice: 'injective',
  concat: 'injective',
  tile: 'injective',
  stack: 'injective',
  gather: 'injective',
  row_select: 'injective',
  layernorm: 'reduction',
  softmax: 'reduction',
  mean: 'reduction',
  sum: 'reduction',
  unary_grad: 'broadcast',
  dropout_mask: 'elementwise',
  layernorm_grad: 'reduction',
  cross_entropy: 'reduction',
  cross_entropy_grad: 'reduction',
  linear: 'out-fusable',
  matmul: 'out-fusable',
  segmented_linear: 'out-fusable',
};

/** Ops this schedule has no fusion rule for are opaque (their own kernel, if one exists). */
export function patternKind(n: Node): PatternKind {
  return PATTERN_KINDS[n.op] ?? 'opaque';
}

/** One shape change a consumer applies while indexing its operand (evaluated to strides per run). */
export type ViewStep =
  | { readonly kind: 'reshape'; readonly to: Shape }
  | { readonly kind: 'permute'; readonly perm: readonly number[] }
  | { readonly kind: 'slice'; readonly axis: number; readonly start: Dim; readonly end: Dim }
  /** numpy broadcast_to (new dimensions on the left, size-1 dimensions stretched). */
  | { readonly kind: 'expand'; readonly to: Shape }
  /** Repeats along axis 0: coordinates wrap at the original extent. */
  | { readonly kind: 'tile'; readonly times: number }
  /** New trailing dimensions with stride 0 (an index read once per row of a gather). */
  | { readonly kind: 'append'; readonly dims: Shape };

/** A buffer (a materialized node, an input or a parameter) seen through view steps. */
export interface ViewRef {
  readonly base: NodeId;
  readonly steps: readonly ViewStep[];
}

/** The expression an elementwise kernel computes at each coordinate of its output. */
export type Expr =
  | { readonly kind: 'leaf'; readonly view: ViewRef }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'unary'; readonly fn: UnaryFn; readonly x: Expr }
  | { readonly kind: 'binary'; readonly fn: BinaryFn; readonly a: Expr; readonly b: Expr }
  | { readonly kind: 'mask_bias'; readonly x: Expr }
  /** table[ids, last coordinate]; `ids` is indexed at the output coordinate (its last axis has stride 0). */
  | { readonly kind: 'gather'; readonly table: NodeId; readonly width: number; readonly ids: Expr }
  | { readonly kind: 'row_select'; readonly task: Expr; readonly choices: readonly Expr[] }
  | { readonly kind: 'unary_grad'; readonly fn: UnaryFn; readonly x: Expr; readonly dy: Expr }
  | { readonly kind: 'dropout'; readonly p: number; readonly stream: number; readonly seed: Expr };

export interface MatmulEpilogueNodes {
  readonly scale?: number;
  readonly activation?: UnaryFn;
  readonly residual?: NodeId;
}

interface GroupBase {
  /** The node whose value the group writes (its output buffer). */
  readonly node: NodeId;
  /** Every IR node the group computes, the output node last. */
  readonly members: readonly NodeId[];
  /** Further nodes the group writes (AdapterFusion's attention probabilities). */
  readonly alsoWrites?: readonly NodeId[];
}

export type KernelGroup = GroupBase &
  (
    | { readonly kind: 'elementwise'; readonly expr: Expr }
    | {
        readonly kind: 'linear' | 'segmented_linear';
        readonly x: NodeId;
        readonly weight: NodeId;
        readonly bias?: NodeId;
        readonly bounds?: readonly Dim[];
        readonly epilogue: MatmulEpilogueNodes;
      }
    /**
     * A whole low-rank branch in one kernel: out = residual + scale·(up·act(down·x + downBias) + upBias), the
     * rank-wide hidden state kept in registers (bottleneck adapters, LoRA); segmented for merged branches.
     */
    | {
        readonly kind: 'lowrank';
        readonly x: NodeId;
        readonly down: NodeId;
        readonly downBias?: NodeId;
        readonly up: NodeId;
        readonly upBias?: NodeId;
        readonly rank: number;
        readonly activation?: UnaryFn;
        readonly scale?: number;
        readonly residual?: NodeId;
        /** Row bounds of the segments (merged Parallel/BatchSplit branches), as in segmented_linear. */
        readonly bounds?: readonly Dim[];
      }
    /**
     * AdapterFusion's attention over N adapters in one kernel: q [rows,H], k and v [rows,N,H]; writes the
     * context (`node`) and the probabilities softmax(q·kᵀ / temperature) (`alsoWrites[0]`).
     */
    | {
        readonly kind: 'fusion_attention';
        readonly q: NodeId;
        readonly k: NodeId;
        readonly v: NodeId;
        readonly adapters: number;
        readonly temperature: number;
      }
    | {
        readonly kind: 'matmul';
        readonly a: ViewRef;
        readonly b: ViewRef;
        readonly transB: boolean;
        readonly scale?: number;
      }
    | {
        readonly kind: 'layernorm';
        readonly x: NodeId;
        readonly residual?: NodeId;
        readonly gamma: NodeId;
        readonly beta: NodeId;
        readonly eps: number;
      }
    | { readonly kind: 'softmax'; readonly x: NodeId; readonly mask?: NodeId }
    | { readonly kind: 'reduce'; readonly fn: 'sum' | 'mean'; readonly x: NodeId; readonly axis: number }
    | {
        readonly kind: 'layernorm_grad';
        readonly x: NodeId;
        readonly gamma: NodeId;
        readonly dy: NodeId;
        readonly eps: number;
        readonly wrt: 'input' | 'scale';
      }
    /**
     * The loss, or (with `grad`) its gradient scaled by the scalar `grad.dloss` buffer, or by the constant
     * `grad.scale` when the loss's gradient is a constant.
     */
    | {
        readonly kind: 'cross_entropy';
        readonly logits: NodeId;
        readonly labels: NodeId;
        readonly grad?: { readonly dloss?: NodeId; readonly scale: number };
        readonly mask?: NodeId;
      }
    | { readonly kind: 'gather_grad'; readonly ids: NodeId; readonly dy: NodeId }
    /** Parts copied side by side along `axis` (stack: parts viewed as [1, ...] along axis 0). */
    | { readonly kind: 'concat'; readonly axis: number; readonly parts: readonly Expr[] }
  );

export interface FusionOptions {
  /** false: one kernel per IR op (views other than reshape materialized too), for benchmarks and debugging. */
  readonly fuse: boolean;
  /** Widest low-rank branch run as one kernel (its hidden state lives in registers); 0 disables. */
  readonly maxLowRank?: number;
}

/** The low-rank kernel's register budget (DEFAULT_LOW_RANK_SCHEDULE.maxRank). */
export const DEFAULT_MAX_LOW_RANK = 64;

export interface FusionGroups {
  readonly groups: readonly KernelGroup[];
  /** Nodes with a buffer written by a group (every group's `node`). */
  readonly materialized: ReadonlySet<NodeId>;
  readonly patternKinds: readonly PatternKind[];
}

const VIEW_OPS = new Set(['reshape', 'permute', 'slice', 'expand', 'tile']);
const ELEMENTWISE_OPS = new Set([
  'binary',
  'unary',
  'mask_bias',
  'gather',
  'row_select',
  'unary_grad',
  'dropout_mask',
]);
const ACTIVATIONS = new Set<UnaryFn>(['relu', 'gelu', 'gelu_new', 'silu', 'tanh', 'sigmoid', 'leakyrelu']);

const isView = (n: Node) => VIEW_OPS.has(n.op);
const isLeaf = (n: Node) => n.op === 'input' || n.op === 'param' || n.op === 'const';

function viewStep(n: Node): ViewStep {
  switch (n.op) {
    case 'reshape':
      return { kind: 'reshape', to: n.to };
    case 'permute':
      return { kind: 'permute', perm: n.perm };
    case 'slice':
      return {
        kind: 'slice',
        axis: n.axis < 0 ? n.axis + n.shape.length : n.axis,
        start: n.start,
        end: n.end,
      };
    case 'expand':
      return { kind: 'expand', to: n.to };
    case 'tile':
      return { kind: 'tile', times: n.times };
    default:
      throw new Error(`${n.op} is not a view`);
  }
}

const isZero = (d: Dim) => dimEquals(d, lit(0));

/** Row-major with no offset: readable by kernels that index their operand as a flat array. */
export function isPlainView(steps: readonly ViewStep[]): boolean {
  return steps.every((s) => s.kind === 'reshape' || (s.kind === 'slice' && s.axis === 0 && isZero(s.start)));
}

/** Affine with unit stride along the last axis and no offset: what the batched matmul grid reads in place. */
export function isStridedView(steps: readonly ViewStep[], shapes: readonly Shape[]): boolean {
  return steps.every((s, i) => {
    const before = shapes[i];
    switch (s.kind) {
      case 'reshape':
        return isPlainView(steps.slice(0, i));
      case 'permute':
        return s.perm[s.perm.length - 1] === s.perm.length - 1;
      case 'slice':
        return isZero(s.start);
      case 'expand':
        return dimEquals(before[before.length - 1], s.to[s.to.length - 1]);
      default:
        return false;
    }
  });
}

type ContractionGroup = KernelGroup & { kind: 'linear' | 'segmented_linear' };

const sameBounds = (a: readonly Dim[] = [], b: readonly Dim[] = []) =>
  a.length === b.length && a.every((d, i) => dimEquals(d, b[i]));

/**
 * down-projection (+ activation) feeding only an up-projection (+ scale, residual) of rank ≤ maxRank: one
 * low-rank group replaces both (the intermediate never reaches memory).
 */
function mergeLowRankPairs(
  nodes: readonly Node[],
  groupAt: Map<NodeId, KernelGroup>,
  absorbedInto: Map<NodeId, NodeId>,
  maxRank: number,
  singleUse: (id: NodeId) => boolean,
): void {
  for (const [tail, upGroup] of [...groupAt]) {
    if (upGroup.kind !== 'linear' && upGroup.kind !== 'segmented_linear') continue;
    const up = nodes[upGroup.members[0]];
    const downGroup = groupAt.get(up.inputs[0]);
    if (downGroup?.kind !== upGroup.kind) continue;
    const down = downGroup as ContractionGroup;
    const rank = nodes[up.inputs[1]].shape.at(-1)!.c;
    const weights = [down.weight, down.bias, upGroup.weight, upGroup.bias];
    if (
      weights.some((w) => w !== undefined && nodes[w].op !== 'param') ||
      rank > maxRank ||
      upGroup.x !== down.node ||
      !singleUse(down.node) ||
      down.epilogue.scale !== undefined ||
      down.epilogue.residual !== undefined ||
      upGroup.epilogue.activation !== undefined ||
      !sameBounds(down.bounds, upGroup.bounds)
    ) {
      continue;
    }
    groupAt.delete(down.node);
    for (const m of down.members) absorbedInto.set(m, tail);
    const { epilogue } = upGroup;
    groupAt.set(tail, {
      kind: 'lowrank',
      node: tail,
      members: [...down.members, ...upGroup.members],
      x: down.x,
      down: down.weight,
      ...(down.bias !== undefined ? { downBias: down.bias } : {}),
      up: upGroup.weight,
      ...(upGroup.bias !== undefined ? { upBias: upGroup.bias } : {}),
      rank,
      ...(down.epilogue.activation !== undefined ? { activation: down.epilogue.activation } : {}),
      ...(epilogue.scale !== undefined ? { scale: epilogue.scale } : {}),
      ...(epilogue.residual !== undefined ? { residual: epilogue.residual } : {}),
      ...(upGroup.bounds !== undefined ? { bounds: upGroup.bounds } : {}),
    });
  }
}

export function groupNodes(g: Graph, options: FusionOptions = { fuse: true }): FusionGroups {
  const nodes = g.nodes;
  const consumers: NodeId[][] = nodes.map(() => []);
  for (const n of nodes) for (const i of new Set(n.inputs)) consumers[i].push(n.id);
  const outputs = new Set(g.outputs.map((o) => o.node));
  const forced = new Set<NodeId>();
  /** Nodes claimed by a group other than as its output, mapped to that group's output node. */
  const absorbedInto = new Map<NodeId, NodeId>();

  /** The view chain from `id` back to its buffer, with the shape after each step (the base's first). */
  const chainOf = (id: NodeId): { ref: ViewRef; shapes: Shape[] } => {
    const n = nodes[id];
    if (!isView(n) || forced.has(id)) return { ref: { base: id, steps: [] }, shapes: [n.shape] };
    const inner = chainOf(n.inputs[0]);
    return {
      ref: { base: inner.ref.base, steps: [...inner.ref.steps, viewStep(n)] },
      shapes: [...inner.shapes, n.shape],
    };
  };
  const viewOf = (id: NodeId): ViewRef => chainOf(id).ref;
  /** The buffer behind a plain view (same layout, no offset): what flat-indexing kernels bind. */
  const bufferOf = (id: NodeId): NodeId => viewOf(id).base;
  const plain = (id: NodeId) => nodes[viewOf(id).base].op !== 'const' && isPlainView(viewOf(id).steps);
  const strided = (id: NodeId) => {
    const { ref, shapes } = chainOf(id);
    return nodes[ref.base].op !== 'const' && isStridedView(ref.steps, shapes);
  };
  const requirePlain = (id: NodeId) => {
    if (!plain(id)) forced.add(id);
  };

  // Views that cannot be folded into their consumers become copies.
  for (const n of nodes) {
    if (n.op === 'tile' || (!options.fuse && isView(n) && n.op !== 'reshape')) forced.add(n.id);
    if (n.op === 'reshape') requirePlain(n.inputs[0]);
    switch (n.op) {
      case 'linear':
      case 'segmented_linear':
      case 'layernorm':
      case 'layernorm_grad':
      case 'cross_entropy':
      case 'cross_entropy_grad':
        n.inputs.forEach(requirePlain);
        break;
      case 'softmax':
      case 'mean':
      case 'sum':
        requirePlain(n.inputs[0]);
        break;
      case 'gather_grad':
        requirePlain(n.inputs[1]);
        requirePlain(n.inputs[2]);
        break;
      case 'matmul':
        for (const i of n.inputs) if (!strided(i)) forced.add(i);
        break;
      case 'gather':
      case 'mask_bias':
        requirePlain(n.inputs[0]);
        break;
      default:
    }
  }
  for (const o of outputs) if (isView(nodes[o]) || isLeaf(nodes[o])) forced.add(o);

  const single = (id: NodeId) => consumers[id].length === 1 && !outputs.has(id) && !absorbedInto.has(id);
  const onlyConsumer = (id: NodeId) => nodes[consumers[id][0]];
  const constOperand = (n: Node): number | undefined => {
    const other = nodes[n.inputs[1]];
    return other.op === 'const' ? other.value : undefined;
  };

  const groupAt = new Map<NodeId, KernelGroup>();
  if (options.fuse) {
    // Layer norms take the residual add before them.
    for (const n of nodes) {
      if (n.op !== 'layernorm') continue;
      const add = nodes[n.inputs[0]];
      if (
        add.op === 'binary' &&
        add.fn === 'add' &&
        single(add.id) &&
        add.inputs.every((i) => plain(i) && shapeEquals(nodes[i].shape, add.shape))
      ) {
        absorbedInto.set(add.id, n.id);
      }
    }
    // Softmax takes the additive attention mask ([b,1,1,k] against [b,h,q,k] scores).
    for (const n of nodes) {
      if (n.op !== 'softmax' || n.shape.length !== 4) continue;
      const add = nodes[n.inputs[0]];
      if (add.op !== 'binary' || add.fn !== 'add' || !single(add.id)) continue;
      const [scores, mask] = add.inputs.map((i) => nodes[i]);
      const m = mask.shape;
      if (
        shapeEquals(scores.shape, add.shape) &&
        m.length === 4 &&
        dimEquals(m[0], add.shape[0]) &&
        dimEquals(m[1], lit(1)) &&
        dimEquals(m[2], lit(1)) &&
        dimEquals(m[3], add.shape[3]) &&
        plain(scores.id)
      ) {
        if (!plain(mask.id)) forced.add(mask.id);
        absorbedInto.set(add.id, n.id);
      }
    }
  }

  if (options.fuse) {
    for (const n of nodes) {
      const group = fusionAttention(n);
      if (!group) continue;
      for (const m of group.members.slice(0, -1)) absorbedInto.set(m, group.node);
      groupAt.set(group.node, group);
    }
  }

  /**
   * softmax([b,t,1,N] = q [b,t,1,H] · k [b,t,N,H]ᵀ, optionally ÷ a constant temperature) · v [b,t,N,H], every
   * operand plain: AdapterFusion's attention, written as context plus probabilities by one kernel.
   */
  function fusionAttention(softmax: Node): KernelGroup | undefined {
    const s = softmax.shape;
    if (softmax.op !== 'softmax' || s.length !== 4 || !dimEquals(s[2], lit(1)) || outputs.has(softmax.id)) {
      return undefined;
    }
    let scores = nodes[softmax.inputs[0]];
    let temperature = 1;
    const divisor = scores.op === 'binary' && scores.fn === 'div' ? constOperand(scores) : undefined;
    if (divisor !== undefined && single(scores.id)) {
      temperature = divisor;
      scores = nodes[scores.inputs[0]];
    }
    const context = consumers[softmax.id].map((c) => nodes[c]).find((c) => c.op === 'matmul');
    if (
      scores.op !== 'matmul' ||
      !scores.transB ||
      !single(scores.id) ||
      context?.op !== 'matmul' ||
      context.transB ||
      context.inputs[0] !== softmax.id ||
      ![scores.inputs[0], scores.inputs[1], context.inputs[1]].every(plain) ||
      !shapeEquals(nodes[context.inputs[1]].shape, nodes[scores.inputs[1]].shape) ||
      s[3].k !== 0
    ) {
      return undefined;
    }
    const members = [...new Set([scores.id, softmax.inputs[0], softmax.id, context.id])];
    return {
      kind: 'fusion_attention',
      node: context.id,
      members,
      alsoWrites: [softmax.id],
      q: bufferOf(scores.inputs[0]),
      k: bufferOf(scores.inputs[1]),
      v: bufferOf(context.inputs[1]),
      adapters: s[3].c,
      temperature,
    };
  }

  // Contractions with their epilogue chains.
  for (const n of nodes) {
    if (n.op !== 'linear' && n.op !== 'segmented_linear' && n.op !== 'matmul') continue;
    if (absorbedInto.has(n.id) || groupAt.has(n.id)) continue;
    const members: NodeId[] = [n.id];
    const epilogue: { scale?: number; activation?: UnaryFn; residual?: NodeId } = {};
    let tail: Node = n;
    const next = (stage: number): number => {
      if (!options.fuse || !single(tail.id)) return -1;
      const c = onlyConsumer(tail.id);
      if (absorbedInto.has(c.id) || !shapeEquals(c.shape, tail.shape) || c.inputs[0] !== tail.id) return -1;
      const value = c.op === 'binary' ? constOperand(c) : undefined;
      if (stage < 1 && c.op === 'binary' && (c.fn === 'mul' || c.fn === 'div') && value !== undefined) {
        epilogue.scale = c.fn === 'mul' ? value : 1 / value;
        return 1;
      }
      if (n.op === 'matmul') return -1;
      if (stage < 2 && c.op === 'unary' && ACTIVATIONS.has(c.fn)) {
        epilogue.activation = c.fn;
        return 2;
      }
      if (
        stage < 3 &&
        c.op === 'binary' &&
        c.fn === 'add' &&
        c.inputs[1] !== tail.id &&
        plain(c.inputs[1]) &&
        shapeEquals(nodes[c.inputs[1]].shape, c.shape)
      ) {
        epilogue.residual = bufferOf(c.inputs[1]);
        return 3;
      }
      return -1;
    };
    // Stages only move forward: scale, then activation, then the residual add (the last one).
    for (let stage = next(0); stage >= 0; stage = stage === 3 ? -1 : next(stage)) {
      tail = onlyConsumer(tail.id);
      members.push(tail.id);
    }
    for (const m of members.slice(0, -1)) absorbedInto.set(m, tail.id);
    const group: KernelGroup =
      n.op === 'matmul'
        ? {
            kind: 'matmul',
            node: tail.id,
            members,
            a: viewOf(n.inputs[0]),
            b: viewOf(n.inputs[1]),
            transB: n.transB,
            ...(epilogue.scale !== undefined ? { scale: epilogue.scale } : {}),
          }
        : {
            kind: n.op,
            node: tail.id,
            members,
            x: bufferOf(n.inputs[0]),
            weight: bufferOf(n.inputs[1]),
            ...(n.inputs[2] !== undefined ? { bias: bufferOf(n.inputs[2]) } : {}),
            ...(n.op === 'segmented_linear' ? { bounds: n.bounds } : {}),
            epilogue,
          };
    groupAt.set(tail.id, group);
  }

  if (options.fuse) {
    const singleUse = (id: NodeId) => consumers[id].length === 1 && !outputs.has(id);
    mergeLowRankPairs(nodes, groupAt, absorbedInto, options.maxLowRank ?? DEFAULT_MAX_LOW_RANK, singleUse);
  }

  // Elementwise ops: inlined into their single elementwise consumer of the same shape, else a kernel root.
  const inlined = new Set<NodeId>();
  for (let id = nodes.length - 1; id >= 0; id--) {
    const n = nodes[id];
    if (!ELEMENTWISE_OPS.has(n.op) || absorbedInto.has(id) || groupAt.has(id)) continue;
    const c = consumers[id].length === 1 ? onlyConsumer(id) : undefined;
    if (
      options.fuse &&
      c &&
      !outputs.has(id) &&
      ELEMENTWISE_OPS.has(c.op) &&
      !absorbedInto.has(c.id) &&
      !groupAt.has(c.id) &&
      shapeEquals(c.shape, n.shape)
    ) {
      inlined.add(id);
    }
  }

  const leafExpr = (id: NodeId, shape: Shape): Expr => {
    const ref = viewOf(id);
    const base = nodes[ref.base];
    if (base.op === 'const') return { kind: 'const', value: base.value };
    const here = nodes[id].shape;
    const steps = shapeEquals(here, shape)
      ? ref.steps
      : [...ref.steps, { kind: 'expand' as const, to: shape }];
    return { kind: 'leaf', view: { base: ref.base, steps } };
  };
  /** The root's expression; `members` collects the root and every node inlined into it. */
  const exprOf = (id: NodeId, shape: Shape, members: NodeId[]): Expr => {
    const n = nodes[id];
    members.push(id);
    const operand = (i: number): Expr =>
      inlined.has(n.inputs[i]) ? exprOf(n.inputs[i], shape, members) : leafExpr(n.inputs[i], shape);
    const withSteps = (input: NodeId, extra: ViewStep): Expr => {
      const ref = viewOf(input);
      return { kind: 'leaf', view: { base: ref.base, steps: [...ref.steps, extra] } };
    };
    switch (n.op) {
      case 'unary':
        return { kind: 'unary', fn: n.fn, x: operand(0) };
      case 'binary':
        return { kind: 'binary', fn: n.fn, a: operand(0), b: operand(1) };
      case 'mask_bias':
        return { kind: 'mask_bias', x: withSteps(n.inputs[0], { kind: 'reshape', to: n.shape }) };
      case 'gather': {
        const width = nodes[n.inputs[0]].shape[1];
        return {
          kind: 'gather',
          table: viewOf(n.inputs[0]).base,
          width: width.c,
          ids: withSteps(n.inputs[1], { kind: 'append', dims: [width] }),
        };
      }
      case 'row_select':
        return {
          kind: 'row_select',
          task: withSteps(n.inputs[0], { kind: 'append', dims: n.shape.slice(1) }),
          choices: n.inputs.slice(1).map((_, i) => operand(i + 1)),
        };
      case 'unary_grad':
        return { kind: 'unary_grad', fn: n.fn, x: operand(0), dy: operand(1) };
      case 'dropout_mask':
        return { kind: 'dropout', p: n.p, stream: n.stream, seed: leafExpr(n.inputs[1], shape) };
      default:
        throw new Error(`${n.op} (%${id}) is not elementwise`);
    }
  };

  const groups: KernelGroup[] = [];
  for (const n of nodes) {
    const id = n.id;
    if (absorbedInto.has(id) || inlined.has(id) || isLeaf(n)) continue;
    const grouped = groupAt.get(id);
    if (grouped) {
      groups.push(grouped);
      continue;
    }
    if (isView(n) && !forced.has(id)) continue;
    groups.push(standaloneGroup(n));
  }

  function standaloneGroup(n: Node): KernelGroup {
    const id = n.id;
    if (isView(n)) {
      const ref = viewOf(n.inputs[0]);
      const base = nodes[ref.base];
      const expr: Expr =
        base.op === 'const'
          ? { kind: 'const', value: base.value }
          : { kind: 'leaf', view: { base: ref.base, steps: [...ref.steps, viewStep(n)] } };
      return { kind: 'elementwise', node: id, members: [id], expr };
    }
    switch (n.op) {
      case 'layernorm': {
        const add = nodes[n.inputs[0]];
        const fused = absorbedInto.get(add.id) === id;
        return {
          kind: 'layernorm',
          node: id,
          members: fused ? [add.id, id] : [id],
          x: bufferOf(fused ? add.inputs[0] : n.inputs[0]),
          ...(fused ? { residual: bufferOf(add.inputs[1]) } : {}),
          gamma: bufferOf(n.inputs[1]),
          beta: bufferOf(n.inputs[2]),
          eps: n.eps,
        };
      }
      case 'softmax': {
        const add = nodes[n.inputs[0]];
        const fused = absorbedInto.get(add.id) === id;
        return fused
          ? {
              kind: 'softmax',
              node: id,
              members: [add.id, id],
              x: bufferOf(add.inputs[0]),
              mask: bufferOf(add.inputs[1]),
            }
          : { kind: 'softmax', node: id, members: [id], x: bufferOf(n.inputs[0]) };
      }
      case 'mean':
      case 'sum':
        return {
          kind: 'reduce',
          fn: n.op,
          node: id,
          members: [id],
          x: bufferOf(n.inputs[0]),
          axis: n.axis < 0 ? n.axis + n.shape.length : n.axis,
        };
      case 'layernorm_grad':
        return {
          kind: 'layernorm_grad',
          node: id,
          members: [id],
          x: bufferOf(n.inputs[0]),
          gamma: bufferOf(n.inputs[1]),
          dy: bufferOf(n.inputs[2]),
          eps: n.eps,
          wrt: n.wrt,
        };
      case 'cross_entropy':
      case 'cross_entropy_grad': {
        const [logits, labels, ...rest] = n.inputs.map(bufferOf);
        const [dloss, mask] = n.op === 'cross_entropy' ? [undefined, rest[0]] : rest;
        const dlossNode = dloss === undefined ? undefined : nodes[dloss];
        const grad =
          dlossNode === undefined
            ? undefined
            : dlossNode.op === 'const'
              ? { scale: dlossNode.value }
              : { dloss: dlossNode.id, scale: 1 };
        return {
          kind: 'cross_entropy',
          node: id,
          members: [id],
          logits,
          labels,
          ...(grad !== undefined ? { grad } : {}),
          ...(mask !== undefined ? { mask } : {}),
        };
      }
      case 'gather_grad':
        return {
          kind: 'gather_grad',
          node: id,
          members: [id],
          ids: bufferOf(n.inputs[1]),
          dy: bufferOf(n.inputs[2]),
        };
      case 'concat':
        return {
          kind: 'concat',
          node: id,
          members: [id],
          axis: n.axis < 0 ? n.axis + n.shape.length : n.axis,
          parts: n.inputs.map((i) => leafExpr(i, nodes[i].shape)),
        };
      case 'stack':
        return {
          kind: 'concat',
          node: id,
          members: [id],
          axis: 0,
          parts: n.inputs.map((i) => leafExpr(i, [lit(1), ...nodes[i].shape])),
        };
      default: {
        if (!ELEMENTWISE_OPS.has(n.op)) throw new Error(`no kernel group for ${n.op} (%${id}, ${n.scope})`);
        const members: NodeId[] = [];
        const expr = exprOf(id, n.shape, members);
        return { kind: 'elementwise', node: id, members: members.reverse(), expr };
      }
    }
  }

  return {
    groups,
    materialized: new Set(groups.flatMap((gr) => [gr.node, ...(gr.alsoWrites ?? [])])),
    patternKinds: nodes.map(patternKind),
  };
}
