// What `adaptc graph` draws, read off the checked program and its lowered IR: which adapter or fusion
// runs at which layer and hook point, the dropped layers, where Parallel replicates the batch, the heads.
// Everything comes from the graph the compiler built, so the picture cannot disagree with what runs.
import type { AdapterConfig } from '../config/types.ts';
import type { CheckedProgram } from '../dsl/checked.ts';
import { compositionToJson, formatStatement, parseFile } from '../dsl/index.ts';
import type { Graph, Node } from '../ir/graph.ts';

export interface PlanColumn {
  /** The owner name parameters carry in the IR: the adapter's name, or the fusion's `a,b,c`. */
  readonly owner: string;
  /** What the column is called in the picture: the adapter's name, or `Fuse(a, b, c)`. */
  readonly label: string;
  readonly kind: 'adapter' | 'fusion';
  /** Text under the name: the adapter's method (`bottleneck`, `lora`, …), or `AdapterFusion`. */
  readonly detail: string;
}

/** One column active in one layer, at these hook points (`output_adapter`, `LoRA q`, `prefix`, …). */
export interface PlanCell {
  readonly layer: number;
  readonly column: number;
  readonly locations: readonly string[];
}

export interface PlanHead {
  readonly name: string;
  readonly labels: readonly string[];
  /** The Parallel channel whose rows it reads, or null when it reads the whole batch. */
  readonly channel: number | null;
}

/** From `layer` (at `scope`, e.g. `layer0.output`) on, every row runs `channels` times. */
export interface Replication {
  readonly layer: number;
  readonly scope: string;
  readonly channels: number;
}

export interface CompositionPlan {
  readonly title: string;
  readonly setup: string;
  readonly layers: number;
  readonly columns: readonly PlanColumn[];
  readonly cells: readonly PlanCell[];
  readonly dropped: readonly number[];
  readonly replication: Replication | null;
  readonly heads: readonly PlanHead[];
}

/** The file's `setup` line as written (or its composition JSON when the setup lives in an include). */
export function setupText(program: CheckedProgram): string {
  const statement = parseFile(program.file)?.program.statements.find((s) => s.kind === 'setup');
  if (statement !== undefined) return formatStatement(statement);
  return program.setup === null
    ? 'no setup (the base model alone)'
    : JSON.stringify(compositionToJson(program.setup));
}

const LAYER_SCOPE = /^layer(\d+)(\.|$)/;

export const layerOfScope = (scope: string): number | null => {
  const match = LAYER_SCOPE.exec(scope);
  return match ? Number(match[1]) : null;
};

/** The hook point a parameter key belongs to, in the library's state-dict naming (semantics §6). */
export function hookPoint(key: string): string {
  const lora = /\.(query|key|value|intermediate\.dense|output\.dense)\.loras\./.exec(key);
  if (lora) {
    const site = {
      query: 'q',
      key: 'k',
      value: 'v',
      'intermediate.dense': 'intermediate',
      'output.dense': 'output',
    };
    return `LoRA ${site[lora[1] as keyof typeof site]}`;
  }
  if (key.includes('prefix_tuning') || key.includes('.prefix_gates.')) return 'prefix';
  if (key.includes('.prompt_tunings.')) return 'prompt';
  if (key.includes('.attention.output.'))
    return key.includes('adapter_fusion_layer') ? 'fusion (mh)' : 'mh_adapter';
  if (key.includes('.output.')) return key.includes('adapter_fusion_layer') ? 'fusion' : 'output_adapter';
  return 'other';
}

const ORDER = [
  'prefix',
  'LoRA q',
  'LoRA k',
  'LoRA v',
  'mh_adapter',
  'fusion (mh)',
  'LoRA intermediate',
  'LoRA output',
  'output_adapter',
  'fusion',
];
const byHookOrder = (a: string, b: string) => ORDER.indexOf(a) - ORDER.indexOf(b);

/** Adapter and fusion parameters grouped by the layer of the node that reads them. */
function activeCells(graph: Graph, columnOf: (node: Node) => number | null): PlanCell[] {
  const found = new Map<string, { layer: number; column: number; locations: Set<string> }>();
  for (const node of graph.nodes) {
    const layer = layerOfScope(node.scope);
    if (layer === null) continue;
    for (const input of node.inputs) {
      const param = graph.nodes[input];
      const column = param.op === 'param' ? columnOf(param) : null;
      if (column === null || param.op !== 'param') continue;
      const id = `${layer}:${column}`;
      const cell = found.get(id) ?? { layer, column, locations: new Set<string>() };
      cell.locations.add(hookPoint(param.key));
      found.set(id, cell);
    }
  }
  return [...found.values()]
    .map((c) => ({ layer: c.layer, column: c.column, locations: [...c.locations].sort(byHookOrder) }))
    .sort((a, b) => a.layer - b.layer || a.column - b.column);
}

/** The first tile op in layer order: where Parallel starts to replicate the batch. */
function replicationOf(graph: Graph): Replication | null {
  const tile = graph.nodes.find((n) => n.op === 'tile' && layerOfScope(n.scope) !== null);
  if (tile === undefined || tile.op !== 'tile') return null;
  return { layer: layerOfScope(tile.scope)!, scope: tile.scope, channels: tile.times };
}

function headsOf(program: CheckedProgram, graph: Graph): PlanHead[] {
  const setup = program.headSetup;
  return graph.outputs
    .filter((o) => o.name.startsWith('heads.'))
    .map((o) => {
      const name = o.name.slice('heads.'.length);
      const label2id = program.heads.get(name)?.config.label2id ?? {};
      const labels = Object.entries(label2id)
        .sort(([, a], [, b]) => a - b)
        .map(([label]) => label);
      const channel = setup?.kind === 'parallel' ? setup.heads.indexOf(name) : -1;
      return { name, labels, channel: channel >= 0 ? channel : null };
    });
}

/** The plan of a lowered program; `setup` is the composition as the user wrote it. */
export function compositionPlan(
  program: CheckedProgram,
  graph: Graph,
  layers: number,
  title: string,
  setup: string,
): CompositionPlan {
  const usedAdapters = new Set<string>();
  const usedFusions = new Set<string>();
  for (const n of graph.nodes) {
    if (n.op !== 'param') continue;
    if (n.origin.kind === 'adapter') usedAdapters.add(n.origin.name);
    if (n.origin.kind === 'fusion') usedFusions.add(n.origin.name);
  }
  const columns: PlanColumn[] = [
    ...[...program.adapters.values()]
      .filter((a) => usedAdapters.has(a.name))
      .map(
        (a): PlanColumn => ({ owner: a.name, label: a.name, kind: 'adapter', detail: methodName(a.config) }),
      ),
    ...[...program.fusions.values()]
      .filter((f) => usedFusions.has(f.name))
      .map(
        (f): PlanColumn => ({
          owner: f.name,
          label: `Fuse(${f.adapters.join(', ')})`,
          kind: 'fusion',
          detail: 'AdapterFusion',
        }),
      ),
  ];
  const columnOf = (node: Node): number | null => {
    if (node.op !== 'param' || node.origin.kind === 'base' || node.origin.kind === 'head') return null;
    const { kind, name } = node.origin;
    const index = columns.findIndex((c) => c.kind === kind && c.owner === name);
    return index >= 0 ? index : null;
  };
  return {
    title,
    setup,
    layers,
    columns,
    cells: activeCells(graph, columnOf),
    dropped: [...program.skipLayers].sort((a, b) => a - b),
    replication: replicationOf(graph),
    heads: headsOf(program, graph),
  };
}

const methodName = (config: AdapterConfig): string =>
  config.architecture === 'union'
    ? `union(${config.configs.map((c) => c.architecture).join(', ')})`
    : config.architecture;
