// Trained modules in AdapterHub's folder layout, as AdapterTrainer saves a checkpoint
// (save_all_adapters, save_all_adapter_fusions, save_all_heads): one folder per module under `dir`,
// named like the module (a fusion folder's name is its adapters joined by ','), each holding the
// library's config JSON and both weight formats. The modules saved are those with trainable parameters.
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type AdapterHubModule, selectModuleKeys, writeAdapterHubFolder } from '../checkpoint/adapterhub.ts';
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

function moduleFiles(
  m: SavedModule,
  program: CheckedProgram,
  weights: WeightStore,
  meta: (name: string) => SavedConfigMeta,
): AdapterHubModule {
  const tensors = selectModuleKeys(m.kind, weights, m.name);
  switch (m.kind) {
    case 'adapter':
      return {
        json: adapterConfigFileJson(program.adapters.get(m.name)!.config, meta(m.name)),
        weights: tensors,
      };
    case 'fusion': {
      const fusion = program.fusions.get(m.name)!;
      return { json: fusionConfigFileJson(fusion.config, fusion.adapters, meta(m.name)), weights: tensors };
    }
    case 'head':
      return { json: headConfigFileJson(program.heads.get(m.name)!.config, meta(m.name)), weights: tensors };
  }
}

/**
 * Writes every trained module under `dir`; returns what was written (dir relative to `dir`). A head
 * named like an adapter shares its folder, as save_adapter(with_head=True) then save_all_heads leave it:
 * it is written next to the folder first, then its files are moved in.
 */
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
  const written = new Set<string>();
  for (const m of modules) {
    const target = join(dir, m.dir);
    const files = moduleFiles(m, program, weights, meta);
    if (!written.has(m.dir)) writeAdapterHubFolder(target, m.kind, files);
    else {
      const staging = join(dir, `.${m.dir}.${m.kind}`);
      writeAdapterHubFolder(staging, m.kind, files);
      for (const file of readdirSync(staging)) renameSync(join(staging, file), join(target, file));
      rmSync(staging, { recursive: true, force: true });
    }
    written.add(m.dir);
  }
  return modules;
}
