// Builds graphs node by node with shape checking. Lowering uses it; passes rebuild through it too.
import { freeze } from 'immer';
import type { DType, Graph, GraphOutput, InputName, Node, NodeId, Op, ParamOrigin } from './graph.ts';
import { inferType } from './infer.ts';
import type { Shape } from './shape.ts';

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly outputs: GraphOutput[] = [];
  private readonly paramIds = new Map<string, NodeId>();
  private readonly inputIds = new Map<InputName, NodeId>();
  /** Hash-consing table: structurally equal nodes are created once (common-subexpression elimination). */
  private readonly interned: Map<string, NodeId> | null;
  /** Scope prefix recorded on every node created while it is set. */
  scope = '';

  constructor(options: { readonly cse?: boolean } = {}) {
    this.interned = options.cse ? new Map() : null;
  }

  node(id: NodeId): Node {
    return this.nodes[id];
  }

  shape(id: NodeId): Shape {
    return this.nodes[id].shape;
  }

  /** Adds a node whose type follows from its inputs. */
  add(op: Exclude<Op, { op: 'input' } | { op: 'param' }>, inputs: readonly NodeId[]): NodeId {
    const key = this.interned ? JSON.stringify([op, inputs]) : '';
    const known = this.interned?.get(key);
    if (known !== undefined) return known;
    const typed = inferType(
      op,
      inputs.map((i) => this.nodes[i]),
    );
    const id = this.push({ ...op, inputs, shape: typed.shape, dtype: typed.dtype });
    this.interned?.set(key, id);
    return id;
  }

  /** Re-creates `node` (from another graph) over new inputs, keeping its scope. */
  copy(node: Node, inputs: readonly NodeId[]): NodeId {
    const saved = this.scope;
    this.scope = node.scope;
    try {
      switch (node.op) {
        case 'input':
          return this.input(node.name, node.shape, node.dtype);
        case 'param':
          return this.param(node.key, node.origin, node.shape);
        default: {
          const { id: _id, inputs: _inputs, shape: _shape, dtype: _dtype, scope: _scope, ...op } = node;
          return this.add(op as Exclude<Op, { op: 'input' } | { op: 'param' }>, inputs);
        }
      }
    } finally {
      this.scope = saved;
    }
  }

  input(name: InputName, shape: Shape, dtype: DType = 'i32'): NodeId {
    const known = this.inputIds.get(name);
    if (known !== undefined) return known;
    const id = this.push({ op: 'input', name, inputs: [], shape, dtype });
    this.inputIds.set(name, id);
    return id;
  }

  /** One node per checkpoint key, however often lowering asks for it. */
  param(key: string, origin: ParamOrigin, shape: Shape): NodeId {
    const known = this.paramIds.get(key);
    if (known !== undefined) return known;
    const id = this.push({ op: 'param', key, origin, inputs: [], shape, dtype: 'f32' });
    this.paramIds.set(key, id);
    return id;
  }

  output(name: string, node: NodeId): void {
    this.outputs.push({ name, node });
  }

  build(): Graph {
    return freeze({ nodes: [...this.nodes], outputs: [...this.outputs] }, true);
  }

  private push(partial: Omit<Node, 'id' | 'scope'> & Op): NodeId {
    const id = this.nodes.length;
    this.nodes.push({ ...partial, id, scope: this.scope } as Node);
    return id;
  }
}
