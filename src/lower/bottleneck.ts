// Bottleneck adapters (seq_bn, double_seq_bn, par_bn, …) and AdapterFusion at one sub-layer output
// (semantics §1.3–§1.6, §2.1): the state, the adapter math, and the Fuse and Split blocks.
import type { BnConfig, FusionConfig } from '../config/types.ts';
import type { Composition } from '../dsl/checked.ts';
import type { NodeId } from '../ir/graph.ts';
import { lit } from '../ir/shape.ts';
import { activationFn } from './activation.ts';
import { type Block, compose, flatten, last, type MethodOps, offsets, rowPrimitives } from './compose.ts';
import {
  adapterConfig,
  add,
  batchOf,
  concat,
  configMembers,
  type LowerContext,
  LoweringError,
  linear,
  mapTensors,
  mul,
  ONE,
  param,
  reshape,
  scale,
  sliceAxis,
  tileToBatchOf,
} from './context.ts';
import type { BottleneckLocation } from './keys.ts';

export interface LayerNormParams {
  readonly gamma: NodeId;
  readonly beta: NodeId;
  readonly eps: number;
}

const BN_TENSORS = ['hidden', 'input', 'residual', 'up'] as const;

interface BnState {
  readonly hidden: NodeId;
  readonly input: NodeId;
  readonly residual: NodeId;
  readonly up: NodeId | null;
  readonly last: string | null;
}

export interface BottleneckSite {
  readonly layer: number;
  readonly location: BottleneckLocation;
  readonly ln: LayerNormParams;
}

/** The bottleneck config of `name` at this site, or null when the adapter has no module here. */
export function bottleneckAt(ctx: LowerContext, name: string, site: BottleneckSite): BnConfig | null {
  const members = configMembers(adapterConfig(ctx, name)).filter(
    (c): c is BnConfig =>
      c.architecture === 'bottleneck' && c[site.location] && !c.leave_out.includes(site.layer),
  );
  return members[0] ?? null;
}

function layerNorm(ctx: LowerContext, x: NodeId, ln: LayerNormParams): NodeId {
  return ctx.g.add({ op: 'layernorm', eps: ln.eps }, [x, ln.gamma, ln.beta]);
}

function bottleneckWidth(config: BnConfig, hidden: number, layer: number): number {
  const rf = config.reduction_factor;
  const factor = typeof rf === 'number' ? rf : (rf[String(layer)] ?? rf.default);
  if (factor === undefined)
    throw new LoweringError(`reduction_factor has no entry for layer ${layer} and no default`);
  return Math.max(1, Math.floor(hidden / factor));
}

interface PreForward {
  readonly hidden: NodeId;
  readonly query: NodeId | null;
  readonly residual: NodeId;
}

/** Adapter.pre_forward / ParallelAdapter.pre_forward. */
function preForward(
  ctx: LowerContext,
  config: BnConfig,
  site: BottleneckSite,
  h: NodeId,
  x: NodeId,
  fusion: FusionConfig | null,
): PreForward {
  if (config.is_parallel) return { hidden: x, query: fusion ? x : null, residual: x };
  let residual: NodeId | null = config.residual_before_ln === true ? h : null;
  let query: NodeId | null = fusion?.query_before_ln ? h : null;
  if (config.original_ln_before) {
    h = add(ctx, h, x);
    if (config.residual_before_ln === 'post_add') residual = h;
    h = layerNorm(ctx, h, site.ln);
  }
  if (!config.residual_before_ln) residual = h;
  if (fusion && !fusion.query_before_ln) query = h;
  if (residual === null) throw new LoweringError(`residual_before_ln 'post_add' needs original_ln_before`);
  return { hidden: h, query, residual };
}

/** Adapter.forward / ParallelAdapter.forward: returns the output and the scaled up-projection. */
function adapterForward(
  ctx: LowerContext,
  name: string,
  config: BnConfig,
  site: BottleneckSite,
  z: NodeId,
  residual: NodeId,
): { out: NodeId; up: NodeId } {
  const H = ctx.model.hiddenSize;
  const d = bottleneckWidth(config, H, site.layer);
  const origin = { kind: 'adapter', name } as const;
  const key = (path: string) => ctx.keys.bottleneck(site.layer, site.location, name, path);
  let down = z;
  let downIndex = 0;
  if (config.ln_before) {
    down = ctx.g.add({ op: 'layernorm', eps: 1e-5 }, [
      down,
      param(ctx, key('adapter_down.0.weight'), origin, H),
      param(ctx, key('adapter_down.0.bias'), origin, H),
    ]);
    downIndex = 1;
  }
  down = linear(
    ctx,
    down,
    param(ctx, key(`adapter_down.${downIndex}.weight`), origin, d, H),
    param(ctx, key(`adapter_down.${downIndex}.bias`), origin, d),
  );
  down = ctx.g.add({ op: 'unary', fn: activationFn(config.non_linearity) }, [down]);
  let up = linear(
    ctx,
    down,
    param(ctx, key('adapter_up.weight'), origin, H, d),
    param(ctx, key('adapter_up.bias'), origin, H),
  );
  if (config.scaling === 'learned') up = mul(ctx, up, param(ctx, key('scaling'), origin, 1));
  else if (config.scaling === 'channel') up = mul(ctx, up, param(ctx, key('scaling'), origin, H));
  else if (config.scaling !== 1) up = scale(ctx, up, config.scaling);
  let out = up;
  if (config.use_gating) {
    const gateLogits = linear(
      ctx,
      z,
      param(ctx, key('gate.weight'), origin, 1, H),
      param(ctx, key('gate.bias'), origin, 1),
    );
    const gate = ctx.g.add({ op: 'mean', axis: 1 }, [
      ctx.g.add({ op: 'unary', fn: 'sigmoid' }, [gateLogits]),
    ]);
    out = mul(ctx, out, gate);
  }
  if (config.is_parallel) {
    if (config.ln_after)
      out = ctx.g.add({ op: 'layernorm', eps: 1e-5 }, [
        out,
        param(ctx, key('adapter_norm_after.weight'), origin, H),
        param(ctx, key('adapter_norm_after.bias'), origin, H),
      ]);
    return { out, up };
  }
  if (config.adapter_residual_before_ln) out = add(ctx, out, residual);
  if (config.ln_after)
    out = ctx.g.add({ op: 'layernorm', eps: 1e-5 }, [
      out,
      param(ctx, key('adapter_norm_after.weight'), origin, H),
      param(ctx, key('adapter_norm_after.bias'), origin, H),
    ]);
  if (!config.adapter_residual_before_ln) out = add(ctx, out, residual);
  return { out, up };
}

function fusionAttention(
  ctx: LowerContext,
  fusionName: string,
  config: FusionConfig,
  site: BottleneckSite,
  query: NodeId,
  ups: readonly NodeId[],
  residual: NodeId,
): NodeId {
  const H = ctx.model.hiddenSize;
  const n = ups.length;
  const origin = { kind: 'fusion', name: fusionName } as const;
  const key = (path: string) => ctx.keys.fusion(site.layer, site.location, fusionName, path);
  const rows = ctx.g.shape(query).slice(0, 2);
  // U: [b, T, N, H], the stacked up-projections.
  let stacked = concat(
    ctx,
    ups.map((u) => reshape(ctx, u, [...rows, ONE, lit(H)])),
    2,
  );
  // residual_before adds the residual to U in place, so keys and values both see it (quirk).
  if (config.residual_before) stacked = add(ctx, stacked, reshape(ctx, residual, [...rows, ONE, lit(H)]));
  const q = config.query
    ? linear(
        ctx,
        query,
        param(ctx, key('query.weight'), origin, H, H),
        param(ctx, key('query.bias'), origin, H),
      )
    : query;
  const k = config.key
    ? linear(
        ctx,
        stacked,
        param(ctx, key('key.weight'), origin, H, H),
        param(ctx, key('key.bias'), origin, H),
      )
    : stacked;
  const valueWeight = config.value ? param(ctx, key('value.weight'), origin, H, H) : null;
  const v =
    valueWeight !== null && config.value_before_softmax ? linear(ctx, stacked, valueWeight, null) : stacked;
  // Unscaled dot product per token: [b,T,1,H] · [b,T,N,H]ᵀ → [b,T,1,N].
  let scores = ctx.g.add({ op: 'matmul', transB: true }, [reshape(ctx, q, [...rows, ONE, lit(H)]), k]);
  const temperature = config.temperature ? 50 : 1;
  if (temperature !== 1) scores = scale(ctx, scores, 1 / temperature);
  const probs = ctx.g.add({ op: 'softmax' }, [scores]);
  ctx.g.output(
    `fusion_attentions.${fusionName}|layer${site.layer}|${site.location}`,
    reshape(ctx, probs, [...rows, lit(n)]),
  );
  let context = reshape(ctx, ctx.g.add({ op: 'matmul', transB: false }, [probs, v]), [...rows, lit(H)]);
  if (valueWeight !== null && !config.value_before_softmax) context = linear(ctx, context, valueWeight, null);
  return config.residual_before ? context : add(ctx, context, residual);
}

function bottleneckOps(ctx: LowerContext, site: BottleneckSite): MethodOps<BnState> {
  const configOf = (name: string): BnConfig => {
    const c = bottleneckAt(ctx, name, site);
    if (!c)
      throw new LoweringError(
        `adapter '${name}' has no bottleneck module at layer ${site.layer} ${site.location}`,
      );
    return c;
  };
  const pre = (setup: Composition, s: BnState): BnState => {
    const p = preForward(
      ctx,
      configOf(typeof setup === 'string' ? setup : flatten(setup)[0]),
      site,
      s.hidden,
      s.input,
      null,
    );
    return { ...s, hidden: p.hidden, residual: p.residual };
  };
  return {
    kind: 'bottleneck',
    multiParallelize: false,
    has: (name) => bottleneckAt(ctx, name, site) !== null,
    batch: (s) => batchOf(ctx, s.hidden),
    preBlock: pre,
    single(name, s) {
      const { out, up } = adapterForward(ctx, name, configOf(name), site, s.hidden, s.residual);
      return { ...s, hidden: out, up, last: name };
    },
    // Only Fuse reads `up`; where some children have none (a Split child) the library's torch.cat
    // raises, adaptc drops the unused value.
    ...rowPrimitives<BnState>(ctx, BN_TENSORS),
    mean: (states, weights) => {
      // torch.mean(stack(hᵢ) · wᵢ, 0) = Σ wᵢhᵢ / N, with weights already normalized (quirk: divides by N again).
      const weighted = states.map((s, i) => scale(ctx, s.hidden, weights[i]));
      const sum = weighted.reduce((a, b) => add(ctx, a, b));
      return { ...states[0], hidden: scale(ctx, sum, 1 / states.length), last: states.at(-1)!.last };
    },
    fuse(block, s, recurse) {
      const fusionName = flatten(block).join(',');
      const fusion = ctx.program.fusions.get(fusionName);
      if (!fusion) throw new LoweringError(`Fuse(${fusionName}) has no fusion declared`);
      const lastName = last(block);
      const p = preForward(ctx, configOf(lastName), site, s.hidden, s.input, fusion.config);
      const state = { ...s, hidden: p.hidden, residual: p.residual };
      const children = block.children
        .filter((c) => typeof c !== 'string' || bottleneckAt(ctx, c, site) !== null)
        .map((c) => recurse(c, state));
      const hidden = fusionAttention(
        ctx,
        fusionName,
        fusion.config,
        site,
        p.query!,
        children.map((c) => c.up!),
        state.residual,
      );
      return { ...state, hidden, last: lastName };
    },
    split(block, s, recurse) {
      const state = pre(block, s);
      const at = offsets(block.splits);
      const seq = ctx.g.shape(state.hidden)[1];
      const pieces = block.children.map((c, i) => {
        const start = lit(at[i]);
        const end = i === block.splits.length - 1 ? seq : lit(at[i + 1]);
        const tokens = mapTensors(state, BN_TENSORS, (x) => sliceAxis(ctx, x, 1, start, end));
        return recurse(c, { ...tokens, last: null });
      });
      const lastName = pieces.reduce<string | null>((acc, p) => p.last ?? acc, null);
      return {
        ...state,
        hidden: concat(
          ctx,
          pieces.map((p) => p.hidden),
          1,
        ),
        last: lastName,
      };
    },
  };
}

/** BottleneckLayer.bottleneck_layer_forward: the sub-layer output `LN(h + x)` with adapters composed in. */
export function bottleneckLayer(
  ctx: LowerContext,
  setup: Block | null,
  site: BottleneckSite,
  h: NodeId,
  x: NodeId,
): NodeId {
  x = tileToBatchOf(ctx, h, x);
  h = tileToBatchOf(ctx, x, h);
  const active = setup !== null && flatten(setup).some((n) => bottleneckAt(ctx, n, site) !== null);
  if (!active) return layerNorm(ctx, add(ctx, h, x), site.ln);
  const state = compose(ctx, bottleneckOps(ctx, site), setup, {
    hidden: h,
    input: x,
    residual: x,
    up: null,
    last: null,
  });
  if (state.last === null)
    throw new LoweringError(`no bottleneck adapter ran at layer ${site.layer} ${site.location}`);
  const config = bottleneckAt(ctx, state.last, site)!;
  let out = state.hidden;
  // ParallelAdapter.post_forward adds the sub-layer output it was given (not replicated under Parallel).
  if (config.is_parallel) out = add(ctx, out, tileToBatchOf(ctx, out, h));
  return config.original_ln_after ? layerNorm(ctx, add(ctx, out, state.input), site.ln) : out;
}
