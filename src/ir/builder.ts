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
  /** Scope prefix recorded on every node created while it is set. */
  scope = '';

  node(id: NodeId): Node {
    return this.nodes[id];
  }

  shape(id: NodeId): Shape {
    return this.nodes[id].shape;
  }

  /** Adds a node whose type follows from its inputs. */
  add(op: Exclude<Op, { op: 'input' } | { op: 'param' }>, inputs: readonly NodeId[]): NodeId {
    const typed = inferType(
      op,
      inputs.map((i) => this.nodes[i]),
    );
    return this.push({ ...op, inputs, shape: typed.shape, dtype: typed.dtype });
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
