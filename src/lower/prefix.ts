// Prefix tuning at self-attention (semantics §2.2): per-layer key/value prefixes prepended to K and V,
// always attended. The prefixes do not depend on the input, so they are computed once per adapter.
import type { PrefixTuningConfig } from '../config/types.ts';
import type { NodeId } from '../ir/graph.ts';
import { type Dim, lit } from '../ir/shape.ts';
import { activationFn } from './activation.ts';
import { type Block, compose, flatten, type MethodOps, rowPrimitives } from './compose.ts';
import {
  adapterConfig,
  batchOf,
  concat,
  configMembers,
  constant,
  expand,
  type LowerContext,
  LoweringError,
  linear,
  ONE,
  param,
  reshape,
  sliceAxis,
} from './context.ts';

interface PrefixState {
  /** [b, heads, Tk, d] */
  readonly key: NodeId;
  readonly value: NodeId;
  /** BERT's additive mask, [b, 1, 1, Tk]. */
  readonly mask: NodeId;
}

export function prefixConfigOf(ctx: LowerContext, name: string): PrefixTuningConfig | null {
  const members = configMembers(adapterConfig(ctx, name)).filter(
    (c): c is PrefixTuningConfig => c.architecture === 'prefix_tuning' && c.encoder_prefix,
  );
  return members[0] ?? null;
}

function prefixAt(ctx: LowerContext, name: string, layer: number): PrefixTuningConfig | null {
  const c = prefixConfigOf(ctx, name);
  return c && !c.leave_out.includes(layer) ? c : null;
}

/** The prefix's key and value for one layer, each [1, heads, L, d]. */
function prefixKeyValue(
  ctx: LowerContext,
  name: string,
  config: PrefixTuningConfig,
  layer: number,
): [NodeId, NodeId] {
  if (config.use_gating)
    throw new LoweringError(`prefix tuning with use_gating is not supported yet (adapter '${name}')`);
  const { hiddenSize: H, numHeads, numLayers } = ctx.model;
  const d = H / numHeads;
  const L = config.prefix_length;
  const registered = Array.from({ length: numLayers }, (_, i) => i).filter(
    (i) => !config.leave_out.includes(i),
  );
  const nLayers = registered.length;
  const chunk = registered.indexOf(layer);
  const origin = { kind: 'adapter', name } as const;
  const width = nLayers * 2 * H;
  let flat: NodeId;
  if (config.flat) {
    flat = reshape(ctx, param(ctx, ctx.keys.prefix(name, 'control_trans'), origin, L * width), [
      lit(L),
      lit(width),
    ]);
  } else {
    const bottleneck = config.bottleneck_size;
    const embeddings = param(ctx, ctx.keys.prefix(name, 'wte.weight'), origin, L, H);
    const hidden = ctx.g.add({ op: 'unary', fn: activationFn(config.non_linearity) }, [
      linear(
        ctx,
        embeddings,
        param(ctx, ctx.keys.prefix(name, 'control_trans.0.weight'), origin, bottleneck, H),
        param(ctx, ctx.keys.prefix(name, 'control_trans.0.bias'), origin, bottleneck),
      ),
    ]);
    flat = linear(
      ctx,
      hidden,
      param(ctx, ctx.keys.prefix(name, 'control_trans.2.weight'), origin, width, bottleneck),
      param(ctx, ctx.keys.prefix(name, 'control_trans.2.bias'), origin, width),
    );
  }
  // [L, nLayers·2, heads, d] → [nLayers·2, heads, L, d]; chunk 2j is layer j's keys, 2j+1 its values.
  const split = ctx.g.add({ op: 'permute', perm: [1, 2, 0, 3] }, [
    reshape(ctx, flat, [lit(L), lit(nLayers * 2), lit(numHeads), lit(d)]),
  ]);
  const pick = (i: number) => sliceAxis(ctx, split, 0, lit(i), lit(i + 1));
  return [pick(2 * chunk), pick(2 * chunk + 1)];
}

function prefixOps(ctx: LowerContext, layer: number): MethodOps<PrefixState> {
  const { hiddenSize: H, numHeads } = ctx.model;
  const d = H / numHeads;
  const rows = rowPrimitives<PrefixState>(ctx, ['key', 'value', 'mask']);
  const seqLen = (s: PrefixState): Dim => ctx.g.shape(s.key)[2];
  /** Left-pads K/V with pad_token_id and the mask with +1.0, as the library's pad_and_concat does (quirk). */
  const padTo = (s: PrefixState, target: Dim): PrefixState => {
    const missing = target.c - seqLen(s).c;
    if (missing === 0) return s;
    const b = batchOf(ctx, s.key);
    const fill = (value: number, shape: Dim[]) => expand(ctx, constant(ctx, value), shape);
    const pad = ctx.model.padTokenId;
    return {
      key: concat(ctx, [fill(pad, [b, lit(numHeads), lit(missing), lit(d)]), s.key], 2),
      value: concat(ctx, [fill(pad, [b, lit(numHeads), lit(missing), lit(d)]), s.value], 2),
      mask: concat(ctx, [fill(1, [b, ONE, ONE, lit(missing)]), s.mask], 3),
    };
  };
  return {
    kind: 'prefix tuning',
    multiParallelize: false,
    has: (name) => prefixAt(ctx, name, layer) !== null,
    batch: (s) => batchOf(ctx, s.key),
    preBlock: (_setup, s) => s,
    single(name, s) {
      const config = prefixAt(ctx, name, layer)!;
      const [pk, pv] = prefixKeyValue(ctx, name, config, layer);
      const b = batchOf(ctx, s.key);
      const L = lit(config.prefix_length);
      const prefixShape = [b, lit(numHeads), L, lit(d)];
      return {
        key: concat(ctx, [expand(ctx, pk, prefixShape), s.key], 2),
        value: concat(ctx, [expand(ctx, pv, prefixShape), s.value], 2),
        // BERT's mask is inverted (additive), so the prefix positions get 1 − 1 = 0: always attended.
        mask: concat(ctx, [expand(ctx, constant(ctx, 0), [b, ONE, ONE, L]), s.mask], 3),
      };
    },
    ...rows,
    padAndConcat: (states) => {
      const longest = states.map(seqLen).reduce((a, b) => (a.c >= b.c ? a : b));
      return rows.padAndConcat(states.map((s) => padTo(s, longest)));
    },
    selectRows: () => {
      throw new LoweringError('prefix tuning does not support MultiTask');
    },
    mean: () => {
      throw new LoweringError(
        'prefix tuning does not support Average (the library raises NotImplementedError)',
      );
    },
  };
}

/** PrefixTuningLayer.forward: keys, values and mask with the active prefixes prepended. */
export function prefixLayer(
  ctx: LowerContext,
  setup: Block | null,
  layer: number,
  key: NodeId,
  value: NodeId,
  mask: NodeId,
): { key: NodeId; value: NodeId; mask: NodeId } {
  if (setup === null || !flatten(setup).some((n) => prefixAt(ctx, n, layer) !== null))
    return { key, value, mask };
  return compose(ctx, prefixOps(ctx, layer), setup, { key, value, mask });
}
