// Lowering a checked program to the IR: the BERT encoder with every adapter method at its hook point
// (semantics §0), heads on their rows, and the outputs `adaptc run` reports.
import type { PromptTuningConfig } from '../config/types.ts';
import type { CheckedProgram, Composition } from '../dsl/checked.ts';
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph, NodeId } from '../ir/graph.ts';
import { B, type Dim, lit, scaleDim, shapeOf, T } from '../ir/shape.ts';
import { activationFn } from './activation.ts';
import { bottleneckLayer, type LayerNormParams } from './bottleneck.ts';
import { type Block, first, parallelChannels } from './compose.ts';
import {
  adapterConfig,
  add,
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
  tileToBatchOf,
} from './context.ts';
import { lowerHead } from './heads.ts';
import { basePrefixOf, CheckpointKeys, type LoraLocation } from './keys.ts';
import { type LoraSite, loraAt, loraLinear, mergedWeight } from './lora.ts';
import type { EncoderConfig } from './model-config.ts';
import { prefixLayer } from './prefix.ts';

const base = { kind: 'base' } as const;

function layerNormParams(ctx: LowerContext, prefix: string): LayerNormParams {
  const H = ctx.model.hiddenSize;
  return {
    gamma: param(ctx, `${prefix}.LayerNorm.weight`, base, H),
    beta: param(ctx, `${prefix}.LayerNorm.bias`, base, H),
    eps: ctx.model.layerNormEps,
  };
}

/** The library wraps a bare adapter name as Stack(name). */
function asBlock(setup: Composition | null): Block | null {
  if (setup === null) return null;
  return typeof setup === 'string' ? { type: 'Stack', children: [setup] } : setup;
}

function embeddings(ctx: LowerContext): NodeId {
  const m = ctx.model;
  const g = ctx.g;
  const ids = g.input('input_ids', shapeOf(B, T));
  const types = g.input('token_type_ids', shapeOf(B, T));
  const key = (p: string) => ctx.keys.model(`embeddings.${p}`);
  const words = g.add({ op: 'gather' }, [
    param(ctx, key('word_embeddings.weight'), base, m.vocabSize, m.hiddenSize),
    ids,
  ]);
  const typeRows = g.add({ op: 'gather' }, [
    param(ctx, key('token_type_embeddings.weight'), base, m.typeVocabSize, m.hiddenSize),
    types,
  ]);
  const positionTable = param(ctx, key('position_embeddings.weight'), base, m.maxPositions, m.hiddenSize);
  // BERT numbers positions 0..T-1; RoBERTa counts non-padding tokens from padding_idx + 1.
  const positions =
    m.modelType === 'bert'
      ? sliceAxis(ctx, positionTable, 0, lit(0), T)
      : g.add({ op: 'gather' }, [positionTable, g.add({ op: 'position_ids', padding: m.padTokenId }, [ids])]);
  const sum = add(ctx, add(ctx, words, typeRows), positions);
  const ln = layerNormParams(ctx, ctx.keys.model('embeddings'));
  return g.add({ op: 'layernorm', eps: ln.eps }, [sum, ln.gamma, ln.beta]);
}

/**
 * Prompt tuning (semantics §2.4): the first adapter of the setup, if it has a prompt, puts its L prompt
 * vectors before the embedded tokens (`prefix`) or after the first one (`prefix_after_bos`); the mask
 * attends to them. It is a base-level module: AdapterDrop does not remove it.
 */
function promptTuning(
  ctx: LowerContext,
  setup: Block | null,
  hidden: NodeId,
  mask: NodeId,
): { hidden: NodeId; mask: NodeId } {
  if (setup === null) return { hidden, mask };
  const name = first(setup);
  const config = configMembers(adapterConfig(ctx, name)).find(
    (c): c is PromptTuningConfig => c.architecture === 'prompt_tuning',
  );
  if (!config) return { hidden, mask };
  const { hiddenSize: H } = ctx.model;
  const L = lit(config.prompt_length);
  const rows = batchOf(ctx, hidden);
  const weight = param(ctx, ctx.keys.prompt(name), { kind: 'adapter', name }, config.prompt_length, H);
  const prompt = expand(ctx, reshape(ctx, weight, [ONE, L, lit(H)]), [rows, L, lit(H)]);
  const attended = expand(ctx, constant(ctx, 0), [rows, ONE, ONE, L]);
  if (config.combine === 'prefix') {
    return { hidden: concat(ctx, [prompt, hidden], 1), mask: concat(ctx, [attended, mask], 3) };
  }
  const split = (x: NodeId, axis: number): [NodeId, NodeId] => [
    sliceAxis(ctx, x, axis, lit(0), ONE),
    sliceAxis(ctx, x, axis, ONE, ctx.g.shape(x)[axis]),
  ];
  const [bos, tokens] = split(hidden, 1);
  const [bosMask, tokensMask] = split(mask, 3);
  return {
    hidden: concat(ctx, [bos, prompt, tokens], 1),
    mask: concat(ctx, [bosMask, attended, tokensMask], 3),
  };
}

/** A LoRA-wrapped nn.Linear of the encoder, merged or composed. */
function adaptedLinear(
  ctx: LowerContext,
  setup: Block | null,
  layer: number,
  location: LoraLocation,
  module: string,
  x: NodeId,
  inFeatures: number,
  outFeatures: number,
): NodeId {
  const site: LoraSite = { layer, location, inFeatures, outFeatures };
  let weight = param(ctx, ctx.keys.layer(layer, `${module}.weight`), base, outFeatures, inFeatures);
  const bias = param(ctx, ctx.keys.layer(layer, `${module}.bias`), base, outFeatures);
  const merged = (ctx.program.merged ?? []).filter((name) => loraAt(ctx, name, site) !== null);
  if (merged.length > 1)
    throw new LoweringError(`only one adapter can be merged into layer ${layer} ${module}`);
  if (merged.length === 1) {
    // A merged layer skips all composition (LoRALinear.forward with `merged` set).
    weight = mergedWeight(ctx, merged[0], site, weight);
    return linear(ctx, x, weight, bias);
  }
  return loraLinear(ctx, setup, site, x, weight, bias);
}

function toHeads(ctx: LowerContext, x: NodeId): NodeId {
  const { numHeads, hiddenSize } = ctx.model;
  const [rows, seq] = ctx.g.shape(x);
  return ctx.g.add({ op: 'permute', perm: [0, 2, 1, 3] }, [
    reshape(ctx, x, [rows, seq, lit(numHeads), lit(hiddenSize / numHeads)]),
  ]);
}

function maxBatch(ctx: LowerContext, ids: readonly NodeId[]): NodeId {
  return ids.reduce((a, b) => (batchOf(ctx, b).k > batchOf(ctx, a).k ? b : a));
}

function encoderLayer(
  ctx: LowerContext,
  setup: Block | null,
  layer: number,
  x: NodeId,
  maskBias: NodeId,
): { out: NodeId; mask: NodeId } {
  const g = ctx.g;
  const { hiddenSize: H, intermediateSize: I, numHeads } = ctx.model;
  const d = H / numHeads;
  g.scope = `layer${layer}.attention`;
  let q = toHeads(ctx, adaptedLinear(ctx, setup, layer, 'q', 'attention.self.query', x, H, H));
  let k = toHeads(ctx, adaptedLinear(ctx, setup, layer, 'k', 'attention.self.key', x, H, H));
  let v = toHeads(ctx, adaptedLinear(ctx, setup, layer, 'v', 'attention.self.value', x, H, H));
  // match_attn_matrices_for_parallel: q, k and v follow the largest batch.
  const widest = maxBatch(ctx, [q, k, v]);
  [q, k, v] = [q, k, v].map((t) => tileToBatchOf(ctx, widest, t));
  const mask = tileToBatchOf(ctx, q, maskBias);
  const prefixed = prefixLayer(ctx, setup, layer, k, v, mask);
  k = prefixed.key;
  v = prefixed.value;
  q = tileToBatchOf(ctx, k, q);
  const scores = g.add({ op: 'binary', fn: 'div' }, [
    g.add({ op: 'matmul', transB: true }, [q, k]),
    g.add({ op: 'const', value: Math.sqrt(d) }, []),
  ]);
  const probs = g.add({ op: 'softmax' }, [add(ctx, scores, prefixed.mask)]);
  const context = g.add({ op: 'permute', perm: [0, 2, 1, 3] }, [
    g.add({ op: 'matmul', transB: false }, [probs, v]),
  ]);
  const [rows, seq] = ctx.g.shape(context);
  const merged = reshape(ctx, context, [rows, seq, lit(H)]);
  const attnOut = linear(
    ctx,
    merged,
    param(ctx, ctx.keys.layer(layer, 'attention.output.dense.weight'), base, H, H),
    param(ctx, ctx.keys.layer(layer, 'attention.output.dense.bias'), base, H),
  );
  g.scope = `layer${layer}.attention.output`;
  const attention = bottleneckLayer(
    ctx,
    setup,
    { layer, location: 'mh_adapter', ln: layerNormParams(ctx, ctx.keys.layer(layer, 'attention.output')) },
    attnOut,
    x,
  );
  g.scope = `layer${layer}.ffn`;
  const inter = g.add({ op: 'unary', fn: activationFn(ctx.model.hiddenAct) }, [
    adaptedLinear(ctx, setup, layer, 'intermediate', 'intermediate.dense', attention, H, I),
  ]);
  const ffnOut = adaptedLinear(ctx, setup, layer, 'output', 'output.dense', inter, I, H);
  g.scope = `layer${layer}.output`;
  const out = bottleneckLayer(
    ctx,
    setup,
    { layer, location: 'output_adapter', ln: layerNormParams(ctx, ctx.keys.layer(layer, 'output')) },
    ffnOut,
    attention,
  );
  // The layer's forward_pre_hook replicates the mask once the hidden states outgrow it.
  return { out, mask: tileToBatchOf(ctx, out, maskBias) };
}

function rowsOf(ctx: LowerContext, x: NodeId, start: Dim, end: Dim): NodeId {
  return sliceAxis(ctx, x, 0, start, end);
}

function lowerHeads(ctx: LowerContext, sequence: NodeId, pooled: NodeId): void {
  const { headSetup, heads } = ctx.program;
  if (headSetup === null) return;
  const configOf = (name: string) => {
    const h = heads.get(name);
    if (!h) throw new LoweringError(`unknown head '${name}'`);
    return h.config;
  };
  ctx.g.scope = 'heads';
  if (headSetup.kind === 'single') {
    ctx.g.output(
      `heads.${headSetup.head}`,
      lowerHead(ctx, headSetup.head, configOf(headSetup.head), sequence, pooled),
    );
    return;
  }
  const total = batchOf(ctx, sequence);
  const bounds =
    headSetup.kind === 'parallel'
      ? headSetup.heads.map((_, i): [Dim, Dim] => {
          const per = scaleDim(total, 1 / headSetup.heads.length);
          return [scaleDim(per, i), scaleDim(per, i + 1)];
        })
      : headSetup.batch_sizes.map((_, i, sizes): [Dim, Dim] => {
          const start = sizes.slice(0, i).reduce((a, b) => a + b, 0);
          return [lit(start), i === sizes.length - 1 ? total : lit(start + sizes[i])];
        });
  headSetup.heads.forEach((name, i) => {
    const [start, end] = bounds[i];
    ctx.g.output(
      `heads.${name}`,
      lowerHead(
        ctx,
        name,
        configOf(name),
        rowsOf(ctx, sequence, start, end),
        rowsOf(ctx, pooled, start, end),
      ),
    );
  });
}

/** Lowers a checked program over a model config to the IR graph. */
export function lowerProgram(program: CheckedProgram, model: EncoderConfig): Graph {
  const g = new GraphBuilder();
  const ctx: LowerContext = {
    g,
    model,
    keys: new CheckpointKeys(basePrefixOf(model.modelType)),
    program,
    forward: { parallelized: false, originalBatch: null },
  };
  const setup = asBlock(program.setup);
  const skip = new Set(program.skipLayers);
  g.scope = 'embeddings';
  const embedded = promptTuning(
    ctx,
    setup,
    embeddings(ctx),
    g.add({ op: 'mask_bias' }, [g.input('attention_mask', shapeOf(B, T))]),
  );
  let hidden = embedded.hidden;
  let mask = embedded.mask;
  for (let layer = 0; layer < model.numLayers; layer++) {
    const step = encoderLayer(ctx, skip.has(layer) ? null : setup, layer, hidden, mask);
    hidden = step.out;
    mask = step.mask;
  }
  g.scope = 'pooler';
  const H = model.hiddenSize;
  const rows = batchOf(ctx, hidden);
  const cls = reshape(ctx, sliceAxis(ctx, hidden, 1, lit(0), lit(1)), [rows, lit(H)]);
  const pooled = g.add({ op: 'unary', fn: 'tanh' }, [
    linear(
      ctx,
      cls,
      param(ctx, ctx.keys.model('pooler.dense.weight'), base, H, H),
      param(ctx, ctx.keys.model('pooler.dense.bias'), base, H),
    ),
  ]);
  g.output('last_hidden_state', hidden);
  g.output('pooler_output', pooled);
  lowerHeads(ctx, hidden, pooled);
  if (setup !== null && parallelChannels(setup) > 1 && !ctx.forward.parallelized) {
    throw new LoweringError('the Parallel block never ran: no layer has one of its adapters');
  }
  return g.build();
}
