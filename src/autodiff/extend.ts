// A builder that starts as a copy of a finished graph, so transforms can append nodes to it.
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph } from '../ir/graph.ts';

/** Copies every node (ids are kept: node i of `g` is node i of the builder) and every output. */
export function extendGraph(g: Graph): GraphBuilder {
  const b = new GraphBuilder();
  for (const n of g.nodes) {
    if (b.copy(n, n.inputs) !== n.id) throw new Error(`graph is not in canonical order at %${n.id}`);
  }
  for (const o of g.outputs) b.output(o.name, o.node);
  return b;
}
