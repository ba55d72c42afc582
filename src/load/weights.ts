// Loading a checked program's weights: the base model, then every adapter, head and fusion folder it
// names, renamed to the names the program binds them to (load_as), under the library's state-dict keys.
import { readAdapterHubFolder, renameModuleKeys, withBasePrefix } from '../checkpoint/adapterhub.ts';
import { readModelFolder } from '../checkpoint/hf-model.ts';
import { CheckpointError, type HostTensor, type StateDict } from '../checkpoint/tensor.ts';
import type { CheckedProgram } from '../dsl/checked.ts';
import type { Graph } from '../ir/graph.ts';
import { evalShape } from '../ir/shape.ts';
import { BASE } from '../lower/keys.ts';
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

/** Reads the model folder and every loaded module of the program; renames modules to their bound names. */
export function loadProgramWeights(program: CheckedProgram): LoadedModel {
  const model = readModelFolder(program.model);
  const config = encoderConfigFromJson(model.config);
  const weights = new Map<string, HostTensor>(withBasePrefix(model.weights, `${BASE}.`));
  const merge = (dict: StateDict) => {
    for (const [k, t] of dict) weights.set(k, t);
  };
  for (const a of program.adapters.values()) {
    if (a.origin !== 'load') continue;
    const module = readAdapterHubFolder(a.dir, 'adapter');
    merge(
      withBasePrefix(
        renameModuleKeys('adapter', module.weights, savedName(module.json, a.dir), a.name),
        `${BASE}.`,
      ),
    );
  }
  for (const h of program.heads.values()) {
    if (h.origin !== 'load') continue;
    const module = readAdapterHubFolder(h.dir, 'head');
    merge(renameModuleKeys('head', module.weights, savedName(module.json, h.dir), h.name));
  }
  for (const f of program.fusions.values()) {
    if (f.origin !== 'load') continue;
    const module = readAdapterHubFolder(f.dir, 'fusion');
    merge(
      withBasePrefix(
        renameModuleKeys('fusion', module.weights, savedName(module.json, f.dir), f.name),
        `${BASE}.`,
      ),
    );
  }
  return { config, weights };
}

/**
 * Checks every parameter the graph reads against the loaded weights and fills the parameters of new
 * modules (declared in the program, not loaded) with the library's initialization, seeded.
 * A loaded tensor of the wrong shape is an error naming the key and both shapes.
 */
export function bindWeights(
  graph: Graph,
  program: CheckedProgram,
  loaded: WeightStore,
  seed = 0,
): WeightStore {
  const store = new Map(loaded);
  for (const n of graph.nodes) {
    if (n.op !== 'param') continue;
    const expected = evalShape(n.shape, { B: 0, T: 0 });
    const have = store.get(n.key);
    if (have) {
      if (have.shape.join() !== expected.join()) {
        throw new CheckpointError(
          n.origin.kind === 'base' ? program.model : n.origin.name,
          `has shape [${have.shape}] but the model needs [${expected}]`,
          n.key,
        );
      }
      continue;
    }
    const isNew =
      (n.origin.kind === 'adapter' && program.adapters.get(n.origin.name)?.origin === 'new') ||
      (n.origin.kind === 'head' && program.heads.get(n.origin.name)?.origin === 'new') ||
      (n.origin.kind === 'fusion' && program.fusions.get(n.origin.name)?.origin === 'new');
    if (!isNew) {
      const owner =
        n.origin.kind === 'base'
          ? `the model folder ${program.model}`
          : `${n.origin.kind} '${n.origin.name}'`;
      throw new CheckpointError(owner, `missing tensor of shape [${expected}]`, n.key);
    }
    store.set(n.key, initialValue(n.key, expected, seed));
  }
  return store;
}
