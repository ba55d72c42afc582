// Prediction heads (semantics §5): the PredictionHead MLP, its module indices, and what each head reads.
import type { HeadConfig } from '../config/types.ts';
import type { NodeId } from '../ir/graph.ts';
import { type Dim, lit, scaleDim } from '../ir/shape.ts';
import { activationFn } from './activation.ts';
import { type LowerContext, LoweringError, linear, param, reshape, sliceAxis } from './context.ts';

/** The head's MLP over `x` [..., H]: Dropout, then Linear(+activation) per layer; module indices as the library numbers them. */
function headMlp(
  ctx: LowerContext,
  name: string,
  config: HeadConfig,
  x: NodeId,
  outFeatures: number,
): NodeId {
  const H = ctx.model.hiddenSize;
  const origin = { kind: 'head', name } as const;
  let index = 0;
  for (let layer = 0; layer < config.layers; layer++) {
    index++; // Dropout (identity at inference)
    if (layer < config.layers - 1) {
      x = linear(
        ctx,
        x,
        param(ctx, ctx.keys.head(name, index, 'weight'), origin, H, H),
        param(ctx, ctx.keys.head(name, index, 'bias'), origin, H),
      );
      index++;
      if (config.activation_function) {
        x = ctx.g.add({ op: 'unary', fn: activationFn(config.activation_function) }, [x]);
        index++;
      }
    } else {
      const bias = config.bias ? param(ctx, ctx.keys.head(name, index, 'bias'), origin, outFeatures) : null;
      x = linear(ctx, x, param(ctx, ctx.keys.head(name, index, 'weight'), origin, outFeatures, H), bias);
    }
  }
  return x;
}

/** Runs one head on its rows of the encoder output; `pooled` is the BERT pooler output for those rows. */
export function lowerHead(
  ctx: LowerContext,
  name: string,
  config: HeadConfig,
  sequence: NodeId,
  pooled: NodeId,
): NodeId {
  const [rows, seq] = ctx.g.shape(sequence);
  const H = lit(ctx.model.hiddenSize);
  const cls = (): NodeId =>
    config.use_pooler ? pooled : reshape(ctx, sliceAxis(ctx, sequence, 1, lit(0), lit(1)), [rows, H]);
  switch (config.head_type) {
    case 'classification':
    case 'multilabel_classification':
      return headMlp(ctx, name, config, cls(), config.num_labels);
    case 'multiple_choice': {
      const choices = config.num_labels;
      const logits = headMlp(ctx, name, config, cls(), 1);
      const groups: Dim = scaleDim(rows, 1 / choices);
      return reshape(ctx, logits, [groups, lit(choices)]);
    }
    case 'tagging':
      return headMlp(ctx, name, config, sequence, config.num_labels);
    case 'question_answering':
      if (seq === undefined) throw new LoweringError('question answering needs the token sequence');
      return headMlp(ctx, name, config, sequence, 2);
  }
}
