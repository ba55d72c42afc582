// Trained modules in AdapterHub's folder layout, as AdapterTrainer saves a checkpoint
// (save_all_adapters, save_all_adapter_fusions, save_all_heads): one folder per module under `dir`,
// named like the module (a fusion folder's name is its adapters joined by ','), each holding the
// library's config JSON and both weight formats. The modules saved are those with trainable parameters.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { selectModuleKeys, writeAdapterHubFolder } from '../checkpoint/adapterhub.ts';
import {
  adapterConfigFileJson,
  fusionConfigFileJson,
  headConfigFileJson,
  type SavedConfigMeta,
} from '../config/index.ts';
import type { CheckedProgram } from '../dsl/checked.ts';
import type { WeightStore } from '../load/weights.ts';
import type { EncoderConfig } from '../lower/model-config.ts';
import { ownerOfKey, trainableParameters } from '../passes/freeze.ts';

export interface SavedModule {
  readonly kind: 'adapter' | 'fusion' | 'head';
  readonly name: string;
  readonly dir: string;
}

/** The modules that own a trainable parameter, adapters first, then fusions, then heads. */
export function trainedModules(program: CheckedProgram, weights: WeightStore): SavedModule[] {
  const seen = new Map<string, Omit<SavedModule, 'dir'>>();
  for (const key of trainableParameters(weights, program.training!).names) {
    const owner = ownerOfKey(key);
    if (owner.kind !== 'base')
      seen.set(`${owner.kind} ${owner.name}`, { kind: owner.kind, name: owner.name });
  }
  const order = { adapter: 0, fusion: 1, head: 2 };
  return [...seen.values()]
    .sort((a, b) => order[a.kind] - order[b.kind] || a.name.localeCompare(b.name))
    .map((m) => ({ ...m, dir: m.name }));
}

/** Writes every trained module under `dir`; returns what was written (dir relative to `dir`). */
export function saveTrainedModules(
  dir: string,
  program: CheckedProgram,
  model: EncoderConfig,
  weights: WeightStore,
): SavedModule[] {
  const meta = (name: string): SavedConfigMeta => ({
    name,
    hiddenSize: model.hiddenSize,
    modelType: model.modelType,
    modelName: basename(program.model),
  });
  const modules = trainedModules(program, weights);
  mkdirSync(dir, { recursive: true });
  for (const m of modules) {
    const target = join(dir, m.dir);
    const tensors = selectModuleKeys(m.kind, weights, m.name);
    if (m.kind === 'adapter') {
      const config = program.adapters.get(m.name)!.config;
      writeAdapterHubFolder(target, 'adapter', {
        json: adapterConfigFileJson(config, meta(m.name)),
        weights: tensors,
      });
    } else if (m.kind === 'fusion') {
      const fusion = program.fusions.get(m.name)!;
      writeAdapterHubFolder(target, 'fusion', {
        json: fusionConfigFileJson(fusion.config, fusion.adapters, meta(m.name)),
        weights: tensors,
      });
    } else {
      const head = program.heads.get(m.name)!;
      writeAdapterHubFolder(target, 'head', {
        json: headConfigFileJson(head.config, meta(m.name)),
        weights: tensors,
      });
    }
  }
  return modules;
}
