// LoRA and IA³ on a wrapped nn.Linear (semantics §2.3): the LoRALinear state and its composition.
import type { LoRAConfig } from '../config/types.ts';
import type { NodeId } from '../ir/graph.ts';
import { lit } from '../ir/shape.ts';
import { type Block, compose, flatten, type MethodOps, rowPrimitives } from './compose.ts';
import {
  adapterConfig,
  add,
  batchOf,
  configMembers,
  expand,
  type LowerContext,
  LoweringError,
  linear,
  mul,
  ONE,
  param,
  reshape,
  scale,
} from './context.ts';
import type { LoraLocation } from './keys.ts';

export interface LoraSite {
  readonly layer: number;
  readonly location: LoraLocation;
  readonly inFeatures: number;
  readonly outFeatures: number;
}

interface LoraState {
  readonly input: NodeId;
  /** The adapter branch: LoRA's delta, or IA³'s scaling vector; null before the first adapter. */
  readonly hidden: NodeId | null;
  readonly output: NodeId;
  readonly last: string | null;
}

function placedAt(c: LoRAConfig, site: LoraSite): boolean {
  if (c.leave_out.includes(site.layer)) return false;
  switch (site.location) {
    case 'q':
    case 'k':
    case 'v':
      return c.selfattn_lora && c.attn_matrices.includes(site.location);
    case 'intermediate':
      return c.intermediate_lora;
    case 'output':
      return c.output_lora;
  }
}

export function loraAt(ctx: LowerContext, name: string, site: LoraSite): LoRAConfig | null {
  const members = configMembers(adapterConfig(ctx, name)).filter(
    (c): c is LoRAConfig => c.architecture === 'lora' && placedAt(c, site),
  );
  return members[0] ?? null;
}

/** The gate of a gated LoRA/IA³ module: mean over tokens of sigmoid(W_g x + b_g), shape [b, 1, 1]. */
function gate(ctx: LowerContext, name: string, site: LoraSite, x: NodeId): NodeId {
  const origin = { kind: 'adapter', name } as const;
  const logits = linear(
    ctx,
    x,
    param(ctx, ctx.keys.lora(site.layer, site.location, name, 'gate.weight'), origin, 1, site.inFeatures),
    param(ctx, ctx.keys.lora(site.layer, site.location, name, 'gate.bias'), origin, 1),
  );
  return ctx.g.add({ op: 'mean', axis: 1 }, [ctx.g.add({ op: 'unary', fn: 'sigmoid' }, [logits])]);
}

function loraOps(ctx: LowerContext, site: LoraSite): MethodOps<LoraState> {
  const configOf = (name: string) => {
    const c = loraAt(ctx, name, site);
    if (!c)
      throw new LoweringError(`adapter '${name}' has no LoRA module at layer ${site.layer} ${site.location}`);
    return c;
  };
  return {
    kind: 'LoRA',
    multiParallelize: true,
    has: (name) => loraAt(ctx, name, site) !== null,
    batch: (s) => batchOf(ctx, s.input),
    preBlock: (_setup, s) => s,
    single(name, s) {
      const c = configOf(name);
      const origin = { kind: 'adapter', name } as const;
      const key = (path: string) => ctx.keys.lora(site.layer, site.location, name, path);
      let hidden: NodeId;
      if (c.composition_mode === 'add') {
        const a = param(ctx, key('lora_A'), origin, c.r, site.inFeatures);
        const b = param(ctx, key('lora_B'), origin, site.outFeatures, c.r);
        if (s.hidden !== null && site.inFeatures !== site.outFeatures) {
          throw new LoweringError(
            `stacking LoRA '${name}' after '${s.last}' at layer ${site.layer} ${site.location} feeds a ${site.outFeatures}-wide delta into a ${site.inFeatures}-wide LoRA; stacked LoRAs need a square layer`,
          );
        }
        hidden = linear(ctx, linear(ctx, s.hidden ?? s.input, a, null), b, null);
        hidden = c.use_gating
          ? mul(ctx, hidden, gate(ctx, name, site, s.input))
          : scale(ctx, hidden, c.alpha / c.r);
      } else {
        const vector = reshape(ctx, param(ctx, key('lora_B'), origin, site.outFeatures, 1), [
          ONE,
          ONE,
          lit(site.outFeatures),
        ]);
        hidden =
          s.hidden === null
            ? expand(ctx, vector, [batchOf(ctx, s.input), ONE, lit(site.outFeatures)])
            : mul(ctx, s.hidden, vector);
        hidden = c.use_gating
          ? mul(ctx, hidden, gate(ctx, name, site, s.input))
          : scale(ctx, hidden, c.alpha);
      }
      return { ...s, hidden, last: name };
    },
    ...rowPrimitives<LoraState>(ctx, ['input', 'hidden', 'output']),
    mean: (states, weights) => {
      // Σ wᵢ·δᵢ / N, as the library's torch.mean(stack(δᵢ)·wᵢ) (quirk).
      const weighted = states.map((s, i) => scale(ctx, s.hidden!, weights[i]));
      const sum = weighted.reduce((a, b) => add(ctx, a, b));
      return { ...states[0], hidden: scale(ctx, sum, 1 / states.length), last: states.at(-1)!.last };
    },
  };
}

/** LoRALinear.forward: `W x + b` with the active LoRA/IA³ composition applied. */
export function loraLinear(
  ctx: LowerContext,
  setup: Block | null,
  site: LoraSite,
  x: NodeId,
  weight: NodeId,
  bias: NodeId,
): NodeId {
  const output = linear(ctx, x, weight, bias);
  if (setup === null || !flatten(setup).some((n) => loraAt(ctx, n, site) !== null)) return output;
  const state = compose(ctx, loraOps(ctx, site), setup, { input: x, hidden: null, output, last: null });
  if (state.last === null || state.hidden === null) return state.output;
  const mode = loraAt(ctx, state.last, site)!.composition_mode;
  return ctx.g.add({ op: 'binary', fn: mode === 'add' ? 'add' : 'mul' }, [state.output, state.hidden]);
}

/** merge_adapter: the weight with one LoRA/IA³ folded in, as the library computes it (IA³ leaves the bias alone). */
export function mergedWeight(ctx: LowerContext, name: string, site: LoraSite, weight: NodeId): NodeId {
  const c = loraAt(ctx, name, site);
  if (!c) return weight;
  if (c.use_gating) throw new LoweringError(`adapter '${name}' is gated and cannot be merged`);
  const origin = { kind: 'adapter', name } as const;
  const key = (path: string) => ctx.keys.lora(site.layer, site.location, name, path);
  if (c.composition_mode === 'scale') {
    return mul(ctx, weight, scale(ctx, param(ctx, key('lora_B'), origin, site.outFeatures, 1), c.alpha));
  }
  const a = param(ctx, key('lora_A'), origin, c.r, site.inFeatures);
  const b = param(ctx, key('lora_B'), origin, site.outFeatures, c.r);
  const delta = ctx.g.add({ op: 'matmul', transB: false }, [b, a]);
  return add(ctx, weight, scale(ctx, delta, c.alpha / c.r));
}
