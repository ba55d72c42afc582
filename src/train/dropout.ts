// Dropout in training mode, where BERT and the heads have it (the lowering emits the eval-mode graph,
// without dropout): after the embeddings' LayerNorm and after the attention-output and FFN-output
// dense layers (hidden_dropout_prob), on the attention probabilities (attention_probs_dropout_prob),
// and before every head linear layer (the head's dropout_prob, else classifier_dropout, else
// hidden_dropout_prob; semantics §5.1). Each site
// multiplies by a `dropout_mask` drawn from the graph input `dropout_seed`, which changes every step
// (the backward pass reuses the step's masks).
// Not covered: dropout inside adapters, LoRA and fusion (0 unless configured).
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph, Node, NodeId } from '../ir/graph.ts';

export interface DropoutRates {
  readonly hidden: number;
  readonly attention: number;
  /** classifier_dropout: the heads' rate when a head sets no dropout_prob (else `hidden`). */
  readonly classifier: number | null;
}

/** BertConfig's defaults. */
export const BERT_DROPOUT: DropoutRates = { hidden: 0.1, attention: 0.1, classifier: null };

const rate = (json: Record<string, unknown>, key: string, fallback: number): number =>
  typeof json[key] === 'number' ? (json[key] as number) : fallback;

/** The rates a model's config.json sets. */
export function dropoutRatesOf(configJson: Record<string, unknown>): DropoutRates {
  return {
    hidden: rate(configJson, 'hidden_dropout_prob', BERT_DROPOUT.hidden),
    attention: rate(configJson, 'attention_probs_dropout_prob', BERT_DROPOUT.attention),
    classifier: typeof configJson.classifier_dropout === 'number' ? configJson.classifier_dropout : null,
  };
}

const HIDDEN_DENSE = /encoder\.layer\.\d+\.(?:attention\.output|output)\.dense\.weight$/;
const EMBEDDINGS_NORM = /embeddings\.LayerNorm\.weight$/;
const HEAD_WEIGHT = /^heads\.([^.]+)\./;
const ATTENTION_SCOPE = /^layer\d+\.attention$/;

function paramKey(g: Graph, id: NodeId | undefined): string {
  const n = id === undefined ? undefined : g.nodes[id];
  return n?.op === 'param' ? n.key : '';
}

/** The rate of dropout applied to a node's output, or 0. */
function outputRate(g: Graph, n: Node, rates: DropoutRates): number {
  if (n.op === 'linear' && HIDDEN_DENSE.test(paramKey(g, n.inputs[1]))) return rates.hidden;
  if (n.op === 'layernorm' && EMBEDDINGS_NORM.test(paramKey(g, n.inputs[1]))) return rates.hidden;
  if (n.op === 'softmax' && ATTENTION_SCOPE.test(n.scope)) return rates.attention;
  return 0;
}

/** The forward graph with training-mode dropout; `headRate` gives a head's dropout_prob. */
export function withDropout(g: Graph, rates: DropoutRates, headRate: (head: string) => number | null): Graph {
  const b = new GraphBuilder();
  const mapped = new Map<NodeId, NodeId>();
  let stream = 0;
  const drop = (x: NodeId, p: number): NodeId => {
    if (p <= 0) return x;
    const seed = b.input('dropout_seed', [], 'i32');
    const mask = b.add({ op: 'dropout_mask', p, stream: stream++ }, [x, seed]);
    return b.add({ op: 'binary', fn: 'mul' }, [x, mask]);
  };
  for (const n of g.nodes) {
    b.scope = n.scope;
    const inputs = n.inputs.map((i) => mapped.get(i)!);
    const head = n.op === 'linear' ? HEAD_WEIGHT.exec(paramKey(g, n.inputs[1])) : null;
    if (head) inputs[0] = drop(inputs[0], headRate(head[1]) ?? rates.classifier ?? rates.hidden);
    mapped.set(n.id, drop(b.copy(n, inputs), outputRate(g, n, rates)));
  }
  for (const o of g.outputs) b.output(o.name, mapped.get(o.node)!);
  return b.build();
}

/** The `dropout_seed` input of a step: an i32 scalar. */
export const dropoutSeedInput = (seed: number) => ({ shape: [], data: Int32Array.of(seed) });
