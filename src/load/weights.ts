// Loading a checked program's weights: the base model, then every adapter, head and fusion folder it
// names, renamed to the names the program binds them to (load_as), under the library's state-dict keys.
import { readAdapterHubFolder, renameModuleKeys, withBasePrefix } from '../checkpoint/adapterhub.ts';
import { readModelFolder } from '../checkpoint/hf-model.ts';
import { CheckpointError, type HostTensor, type StateDict } from '../checkpoint/tensor.ts';
import type { CheckedProgram } from '../dsl/checked.ts';
import type { Graph, Node, ParamOrigin } from '../ir/graph.ts';
import { evalShape } from '../ir/shape.ts';
import { lowerProgram } from '../lower/bert.ts';
import { basePrefixOf } from '../lower/keys.ts';
import { type EncoderConfig, encoderConfigFromJson } from '../lower/model-config.ts';
import { initialValue } from './init.ts';

/** Parameter values by checkpoint key. Immutable once built. */
export type WeightStore = ReadonlyMap<string, HostTensor>;

export interface LoadedModel {
  readonly config: EncoderConfig;
  readonly weights: WeightStore;
}

function savedName(json: Record<string, unknown>, dir: string): string {
  if (typeof json.name !== 'string') throw new CheckpointError(dir, "config file has no 'name'");
  return json.name;
}

/** A module of the program: which adapter, head or fusion a parameter belongs to. */
export type ModuleRef = Exclude<ParamOrigin, { kind: 'base' }>;

/**
 * Reads the model folder and the loaded modules of the program that `needed` selects (all by
 * default); renames modules to their bound names. Modules not needed are never opened.
 */
export function loadProgramWeights(
  program: CheckedProgram,
  needed: (m: ModuleRef) => boolean = () => true,
): LoadedModel {
  const model = readModelFolder(program.model);
  const config = encoderConfigFromJson(model.config);
  const prefix = `${basePrefixOf(config.modelType)}.`;
  const weights = new Map<string, HostTensor>(withBasePrefix(model.weights, prefix));
  const merge = (dict: StateDict) => {
    for (const [k, t] of dict) weights.set(k, t);
  };
  for (const a of program.adapters.values()) {
    if (a.origin !== 'load' || !needed({ kind: 'adapter', name: a.name })) continue;
    const module = readAdapterHubFolder(a.dir, 'adapter');
    merge(
      withBasePrefix(
        renameModuleKeys('adapter', module.weights, savedName(module.json, a.dir), a.name),
        prefix,
      ),
    );
  }
  for (const h of program.heads.values()) {
    if (h.origin !== 'load' || !needed({ kind: 'head', name: h.name })) continue;
    const module = readAdapterHubFolder(h.dir, 'head');
    merge(renameModuleKeys('head', module.weights, savedName(module.json, h.dir), h.name));
  }
  for (const f of program.fusions.values()) {
    if (f.origin !== 'load' || !needed({ kind: 'fusion', name: f.name })) continue;
    const module = readAdapterHubFolder(f.dir, 'fusion');
    merge(
      withBasePrefix(
        renameModuleKeys('fusion', module.weights, savedName(module.json, f.dir), f.name),
        prefix,
      ),
    );
  }
  return { config, weights };
}

/** Every parameter a module would have in the library once added (all layers, whatever the setup drops). */
function moduleParameters(
  program: CheckedProgram,
  model: EncoderConfig,
  origin: ParamOrigin,
): readonly Node[] {
  if (origin.kind === 'base') return [];
  const alone: CheckedProgram = {
    ...program,
    setup:
      origin.kind === 'adapter'
        ? { type: 'Stack', children: [origin.name] }
        : origin.kind === 'fusion'
          ? { type: 'Fuse', children: program.fusions.get(origin.name)!.adapters }
          : null,
    headSetup: origin.kind === 'head' ? { kind: 'single', head: origin.name } : null,
    skipLayers: [],
    merged: [],
  };
  const graph = lowerProgram(alone, model);
  return graph.nodes.filter(
    (n) =>
      n.op === 'param' &&
      n.origin.kind === origin.kind &&
      'name' in n.origin &&
      n.origin.name === origin.name,
  );
}

/** The modules the program declares new (not loaded): their parameters are initialized, not read. */
function newModules(program: CheckedProgram): ParamOrigin[] {
  return [
    ...[...program.adapters.values()]
      .filter((a) => a.origin === 'new')
      .map((a) => ({ kind: 'adapter' as const, name: a.name })),
    ...[...program.fusions.values()]
      .filter((f) => f.origin === 'new')
      .map((f) => ({ kind: 'fusion' as const, name: f.name })),
    ...[...program.heads.values()]
      .filter((h) => h.origin === 'new')
      .map((h) => ({ kind: 'head' as const, name: h.name })),
  ];
}

/**
 * Binds the weights a graph reads: checks every loaded tensor's shape against the graph (an error
 * names the key and both shapes), and gives every parameter of every new module (declared in the
 * program, not loaded) the library's initialization, seeded — in every layer, as add_adapter would.
 */
export function bindWeights(
  graph: Graph,
  program: CheckedProgram,
  model: EncoderConfig,
  loaded: WeightStore,
  seed = 0,
): WeightStore {
  const store = new Map(loaded);
  for (const origin of newModules(program)) {
    for (const p of moduleParameters(program, model, origin)) {
      if (p.op === 'param' && !store.has(p.key))
        store.set(p.key, initialValue(p.key, evalShape(p.shape, { B: 0, T: 0 }), seed));
    }
  }
  for (const n of graph.nodes) {
    if (n.op !== 'param') continue;
    const expected = evalShape(n.shape, { B: 0, T: 0 });
    const have = store.get(n.key);
    if (!have) {
      const owner =
        n.origin.kind === 'base'
          ? `the model folder ${program.model}`
          : `${n.origin.kind} '${n.origin.name}'`;
      throw new CheckpointError(owner, `missing tensor of shape [${expected}]`, n.key);
    }
    if (have.shape.join() !== expected.join()) {
      throw new CheckpointError(
        n.origin.kind === 'base' ? program.model : n.origin.name,
        `has shape [${have.shape}] but the model needs [${expected}]`,
        n.key,
      );
    }
  }
  return store;
}
