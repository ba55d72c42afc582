// Head losses as the library computes them (semantics §5): cross-entropy for classification and
// multiple choice, cross-entropy over attention_mask = 1 positions for tagging, and for several heads
// (Parallel) the plain sum of their losses. Labels come in as one i32 input, `labels`.
import type { HeadConfig } from '../config/types.ts';
import type { Graph, NodeId } from '../ir/graph.ts';
import { B, formatShape, type Shape, shapeEquals, shapeOf, T } from '../ir/shape.ts';
import { extendGraph } from './extend.ts';
import { binary } from './ops.ts';
import { AutodiffError } from './rules.ts';

export const LOSS_OUTPUT = 'loss';
const HEAD_PREFIX = 'heads.';

/** The head outputs of a lowered graph, by head name. */
export function headOutputs(g: Graph): ReadonlyMap<string, NodeId> {
  return new Map(
    g.outputs
      .filter((o) => o.name.startsWith(HEAD_PREFIX))
      .map((o) => [o.name.slice(HEAD_PREFIX.length), o.node]),
  );
}

function checkLossKind(name: string, config: HeadConfig): void {
  const ok =
    config.head_type === 'tagging' ||
    config.head_type === 'multiple_choice' ||
    (config.head_type === 'classification' && config.num_labels > 1);
  if (!ok) {
    throw new AutodiffError(
      `head '${name}' (${config.head_type}, ${config.num_labels} labels): only cross-entropy heads (classification with 2+ labels, tagging, multiple choice) can be trained`,
    );
  }
}

/** Adds the `labels` input and a scalar output `loss`: the sum of every head's loss. */
export function appendLoss(g: Graph, heads: (name: string) => HeadConfig): Graph {
  const outputs = headOutputs(g);
  if (outputs.size === 0) throw new AutodiffError('nothing to train: the setup runs no head');
  const b = extendGraph(g);
  b.scope = 'loss';
  let labelShape: Shape | null = null;
  const losses = [...outputs].map(([name, logits]) => {
    const config = heads(name);
    checkLossKind(name, config);
    const shape = g.nodes[logits].shape.slice(0, -1);
    if (labelShape !== null && !shapeEquals(labelShape, shape)) {
      throw new AutodiffError(
        `head '${name}' needs labels ${formatShape(shape)}, another head ${formatShape(labelShape)}`,
      );
    }
    labelShape = shape;
    const labels = b.input('labels', shape, 'i32');
    const mask = config.head_type === 'tagging' ? [b.input('attention_mask', shapeOf(B, T))] : [];
    return b.add({ op: 'cross_entropy' }, [logits, labels, ...mask]);
  });
  b.output(
    LOSS_OUTPUT,
    losses.reduce((acc, l) => binary(b, 'add', acc, l)),
  );
  return b.build();
}
