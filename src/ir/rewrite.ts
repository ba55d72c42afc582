// The one rewrite engine every pass uses. It rebuilds the graph from its outputs, so nodes no output
// needs disappear (dead-code elimination comes free), hash-conses equal nodes when asked (CSE), and
// offers each node to the rules with its inputs already rewritten. Rules are applied to a fixpoint.
import { GraphBuilder } from './builder.ts';
import type { Graph, GraphOutput, Node, NodeId } from './graph.ts';
import { formatShape, shapeEquals } from './shape.ts';

/** A rule sees an old node with its inputs already in the new graph; it returns a replacement or null. */
export type Rule = (node: Node, inputs: readonly NodeId[], b: GraphBuilder) => NodeId | null;

/** A rule over the graph outputs (already in the new graph): new outputs, or null to keep them. */
export type OutputRule = (outputs: readonly GraphOutput[], b: GraphBuilder) => readonly GraphOutput[] | null;

export interface RewriteOptions {
  /** Hash-cons equal nodes (common-subexpression elimination). */
  readonly cse?: boolean;
  readonly maxRounds?: number;
  readonly outputRule?: OutputRule;
}

export interface RewriteResult {
  readonly graph: Graph;
  /** How often a rule fired. */
  readonly fired: number;
}

/** Nodes reachable from the outputs, in topological order. */
export function liveNodes(g: Graph): Node[] {
  const live = new Uint8Array(g.nodes.length);
  const stack = g.outputs.map((o) => o.node);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (live[id]) continue;
    live[id] = 1;
    stack.push(...g.nodes[id].inputs);
  }
  return g.nodes.filter((n) => live[n.id]);
}

function rewriteOnce(g: Graph, rules: readonly Rule[], options: RewriteOptions): RewriteResult {
  const b = new GraphBuilder({ cse: options.cse ?? false });
  const mapped = new Map<NodeId, NodeId>();
  let fired = 0;
  for (const node of liveNodes(g)) {
    const inputs = node.inputs.map((i) => mapped.get(i)!);
    b.scope = node.scope;
    let replacement: NodeId | null = null;
    for (const rule of rules) {
      replacement = rule(node, inputs, b);
      if (replacement === null) continue;
      if (!shapeEquals(b.shape(replacement), node.shape)) {
        throw new Error(
          `rewrite rule '${rule.name}' replaced %${node.id} ${node.op} ${formatShape(node.shape)} with ${formatShape(b.shape(replacement))}`,
        );
      }
      break;
    }
    if (replacement !== null) fired++;
    mapped.set(node.id, replacement ?? b.copy(node, inputs));
  }
  const outputs = g.outputs.map((o) => ({ name: o.name, node: mapped.get(o.node)! }));
  const replaced = options.outputRule?.(outputs, b) ?? null;
  if (replaced !== null) fired++;
  for (const o of replaced ?? outputs) b.output(o.name, o.node);
  return { graph: b.build(), fired };
}

/** Applies `rules` until none fires (at most `maxRounds` rebuilds). */
export function rewrite(g: Graph, rules: readonly Rule[], options: RewriteOptions = {}): RewriteResult {
  let graph = g;
  let fired = 0;
  for (let round = 0; round < (options.maxRounds ?? 16); round++) {
    const step = rewriteOnce(graph, rules, options);
    graph = step.graph;
    fired += step.fired;
    if (step.fired === 0) break;
  }
  return { graph, fired };
}
