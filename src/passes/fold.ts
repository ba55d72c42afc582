// Constant folding: every subgraph that reads only parameters and constants (a prefix-tuning MLP, a
// merged LoRA weight B·A·s + W, an IA³-scaled weight) is evaluated once, at compile time, by the
// reference interpreter; its result becomes a new parameter.
import { createHash } from 'node:crypto';
import type { HostTensor } from '../checkpoint/tensor.ts';
import type { Graph, Node, NodeId, ParamOrigin } from '../ir/graph.ts';
import { liveNodes, rewrite } from '../ir/rewrite.ts';
import { isStatic } from '../ir/shape.ts';
import { interpret } from '../runtime/reference/interpret.ts';
import type { Pass } from './pass.ts';

const DATA_MOVEMENT = new Set(['reshape', 'permute', 'slice', 'expand', 'tile', 'concat']);

function constantNodes(g: Graph): boolean[] {
  const constant: boolean[] = [];
  for (const n of g.nodes) {
    constant[n.id] =
      n.op === 'param' ||
      n.op === 'const' ||
      (n.op !== 'input' && n.inputs.every((i) => constant[i]) && n.shape.every(isStatic));
  }
  return constant;
}

/** Whether folding the subgraph under `root` saves work (it computes something, not just moves one tensor). */
function computes(g: Graph, root: Node): boolean {
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.op !== 'param' && n.op !== 'const' && !DATA_MOVEMENT.has(n.op)) return true;
    stack.push(...n.inputs.map((i) => g.nodes[i]));
  }
  return false;
}

/** A structural key of the folded expression: equal expressions fold to one parameter. */
function expressionKey(g: Graph, root: NodeId): string {
  const memo = new Map<NodeId, string>();
  const walk = (id: NodeId): string => {
    const known = memo.get(id);
    if (known) return known;
    const { id: _id, scope: _scope, inputs, ...rest } = g.nodes[id];
    const text = JSON.stringify([rest, inputs.map(walk)]);
    memo.set(id, text);
    return text;
  };
  return createHash('sha1').update(walk(root)).digest('hex').slice(0, 12);
}

function originOf(g: Graph, root: NodeId): ParamOrigin {
  const stack = [root];
  while (stack.length > 0) {
    const n = g.nodes[stack.pop()!];
    if (n.op === 'param' && n.origin.kind !== 'base') return n.origin;
    stack.push(...n.inputs);
  }
  return { kind: 'base' };
}

function countByScope(nodes: readonly Node[]): string {
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.scope || 'top', (counts.get(n.scope || 'top') ?? 0) + 1);
  return [...counts].map(([scope, n]) => (n === 1 ? scope : `${scope} ×${n}`)).join(', ');
}

export const foldConstants: Pass = {
  name: 'fold-constants',
  purpose: 'evaluate parameter-only subgraphs once at compile time',
  run({ graph, weights }) {
    const constant = constantNodes(graph);
    const neededAtRunTime = new Set<NodeId>(graph.outputs.map((o) => o.node));
    for (const m of graph.nodes) {
      if (!constant[m.id]) for (const i of m.inputs) neededAtRunTime.add(i);
    }
    const roots = graph.nodes.filter(
      (n) =>
        constant[n.id] &&
        n.op !== 'param' &&
        n.op !== 'const' &&
        neededAtRunTime.has(n.id) &&
        computes(graph, n),
    );
    if (roots.length === 0) return { graph, weights, notes: ['nothing to fold'] };
    const foldGraph = { nodes: graph.nodes, outputs: roots.map((r) => ({ name: String(r.id), node: r.id })) };
    const folded = interpret(
      { ...foldGraph, nodes: liveNodes(foldGraph) },
      (key) => weights.get(key),
      {},
      { B: 0, T: 0 },
    );
    const store = new Map<string, HostTensor>(weights);
    const keys = new Map<NodeId, string>();
    for (const r of roots) {
      const key = `folded.${expressionKey(graph, r.id)}`;
      keys.set(r.id, key);
      const value = folded.get(String(r.id))!;
      store.set(key, { shape: value.shape, data: Float32Array.from(value.data) });
    }
    const out = rewrite(
      graph,
      [
        (node, _inputs, b) => {
          const key = keys.get(node.id);
          return key === undefined ? null : b.param(key, originOf(graph, node.id), node.shape);
        },
      ],
      { maxRounds: 1 },
    );
    const live = new Set(out.graph.nodes.filter((n) => n.op === 'param').map((n) => n.key));
    return {
      graph: out.graph,
      weights: new Map([...store].filter(([k]) => live.has(k))),
      notes: [`folded ${roots.length} parameter-only subgraphs: ${countByScope(roots)}`],
    };
  },
};
