// AdapterHub module folders (adapter / head / fusion) with the library's file names, key filters,
// load_as renaming and legacy key segments (`adapters/loading.py`, `utils.py`).

import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ADAPTER_FLOAT_KEYS } from '../config/adapter.ts';
import { FUSION_FLOAT_KEYS } from '../config/fusion.ts';
import { HEAD_FLOAT_KEYS } from '../config/head.ts';
import { pythonJson } from '../config/python-json.ts';
import { readJsonObject, readWeightFile } from './hf-model.ts';
import { serializeSafetensors } from './safetensors.ts';
import { CheckpointError, type HostTensor, type StateDict } from './tensor.ts';
import { serializeTorchBin } from './torch-bin.ts';

export type ModuleKind = 'adapter' | 'head' | 'fusion';

export interface ModuleFiles {
  readonly config: string;
  readonly weights: string;
  readonly safeWeights: string;
}

export const MODULE_FILES: Readonly<Record<ModuleKind, ModuleFiles>> = {
  adapter: {
    config: 'adapter_config.json',
    weights: 'pytorch_adapter.bin',
    safeWeights: 'adapter.safetensors',
  },
  head: {
    config: 'head_config.json',
    weights: 'pytorch_model_head.bin',
    safeWeights: 'model_head.safetensors',
  },
  fusion: {
    config: 'adapter_fusion_config.json',
    weights: 'pytorch_model_adapter_fusion.bin',
    safeWeights: 'model_adapter_fusion.safetensors',
  },
};

export interface AdapterHubModule {
  /** The config file's object as written (`config`, `name`, `model_type`, …). */
  readonly json: Record<string, unknown>;
  /** The weight file's tensors under the file's own keys. */
  readonly weights: StateDict;
}

/** Reads a saved module; safetensors wins when both weight files exist. */
export function readAdapterHubFolder(dir: string, kind: ModuleKind): AdapterHubModule {
  const files = MODULE_FILES[kind];
  const json = readJsonObject(join(dir, files.config));
  const weightFile = [files.safeWeights, files.weights]
    .map((f) => join(dir, f))
    .find((f) => fs.existsSync(f));
  if (weightFile === undefined) {
    throw new CheckpointError(dir, `no ${kind} weights: expected ${files.safeWeights} or ${files.weights}`);
  }
  return { json, weights: readWeightFile(weightFile) };
}

/** Python floats in AdapterHub config files: `json.dump` prints them with a '.0'. */
const FLOAT_KEYS: ReadonlySet<string> = new Set([
  ...ADAPTER_FLOAT_KEYS,
  ...HEAD_FLOAT_KEYS,
  ...FUSION_FLOAT_KEYS,
]);

/** The config file text exactly as the library writes it: `json.dump(config, indent=2, sort_keys=True)`. */
export function formatModuleConfig(json: Record<string, unknown>): string {
  return pythonJson(json, { indent: 2, floatKeys: FLOAT_KEYS });
}

/**
 * Writes config + both weight formats (so the library loads the folder with default arguments).
 * Everything goes to a sibling temp folder first, which then replaces `dir`: no half-written folder.
 */
export function writeAdapterHubFolder(dir: string, kind: ModuleKind, module: AdapterHubModule): void {
  const files = MODULE_FILES[kind];
  const contents: [string, Uint8Array | string][] = [
    [files.config, formatModuleConfig(module.json)],
    [files.weights, serializeTorchBin(files.weights.split('.')[0], module.weights)],
    [files.safeWeights, serializeSafetensors(module.weights)],
  ];
  replaceFolderAtomically(dir, contents);
}

function replaceFolderAtomically(dir: string, contents: readonly [string, Uint8Array | string][]): void {
  const stamp = `${process.pid}-${Date.now()}`;
  const temp = join(dirname(dir), `.${basename(dir)}.tmp-${stamp}`);
  const previous = join(dirname(dir), `.${basename(dir)}.old-${stamp}`);
  let movedAside = false;
  try {
    fs.mkdirSync(temp);
    for (const [name, data] of contents) fs.writeFileSync(join(temp, name), data);
    if (fs.existsSync(dir)) {
      fs.renameSync(dir, previous);
      movedAside = true;
    }
    fs.renameSync(temp, dir);
  } catch (e) {
    if (movedAside && !fs.existsSync(dir)) fs.renameSync(previous, dir);
    fs.rmSync(temp, { recursive: true, force: true });
    throw new CheckpointError(dir, `cannot write: ${(e as Error).message}`);
  }
  if (movedAside) fs.rmSync(previous, { recursive: true, force: true });
}

/** Segments that carry an adapter's name inside parameter keys (`AdapterLoader.filter_func`). */
const ADAPTER_SEGMENTS = [
  '_adapters',
  '.adapters',
  '.prefix_tunings',
  '.prefix_gates',
  '.loras',
  '.refts',
  '.prompt_tunings',
  '.shared_parameters',
];

/** Pre-`adapters` key names, mapped in the library's order. */
const LEGACY_SEGMENTS: readonly [string, string][] = [
  ['attention_text_task_adapters', 'adapters'],
  ['attention_text_lang_adapters', 'adapters'],
  ['layer_text_task_adapters', 'adapters'],
  ['layer_text_lang_adapters', 'adapters'],
  ['invertible_lang_adapters', 'invertible_adapters'],
];

export function renameLegacyKey(key: string): string {
  return LEGACY_SEGMENTS.reduce((k, [from, to]) => k.replaceAll(from, to), key);
}

function nameSegments(kind: ModuleKind, name: string): string[] {
  switch (kind) {
    case 'adapter':
      return ADAPTER_SEGMENTS.map((s) => `${s}.${name}.`);
    case 'head':
      return [`heads.${name}.`];
    case 'fusion':
      return [`adapter_fusion_layer.${name}.`];
  }
}

/**
 * The library's selection filter: the keys that belong to module `name`. Heads additionally must not
 * live under the base model (`basePrefix`).
 */
export function selectModuleKeys(
  kind: ModuleKind,
  weights: StateDict,
  name: string,
  basePrefix = 'bert.',
): StateDict {
  const segments = nameSegments(kind, name);
  const keep = (key: string) =>
    segments.some((s) => key.includes(s)) && (kind !== 'head' || !key.startsWith(basePrefix));
  return new Map([...weights].filter(([key]) => keep(key)));
}

/**
 * load_as: renames module `from` to `to` in every key (adapters also get legacy segments mapped first).
 * Pure; fails if two keys collapse into one.
 */
export function renameModuleKeys(kind: ModuleKind, weights: StateDict, from: string, to: string): StateDict {
  const pairs = nameSegments(kind, from).map((s, i) => [s, nameSegments(kind, to)[i]] as const);
  const renameKey = (key: string) =>
    pairs.reduce((k, [a, b]) => k.replaceAll(a, b), kind === 'adapter' ? renameLegacyKey(key) : key);
  return rekey(weights, renameKey);
}

/** Adds `basePrefix` to base-model keys saved from a bare model (`adapters.init(BertModel)`); heads stay. */
export function withBasePrefix(weights: StateDict, basePrefix = 'bert.'): StateDict {
  return rekey(weights, (key) =>
    key.startsWith(basePrefix) || key.startsWith('heads.') ? key : basePrefix + key,
  );
}

/** The inverse: keys as a bare base model names them. */
export function withoutBasePrefix(weights: StateDict, basePrefix = 'bert.'): StateDict {
  return rekey(weights, (key) => (key.startsWith(basePrefix) ? key.slice(basePrefix.length) : key));
}

function rekey(weights: StateDict, rename: (key: string) => string): StateDict {
  const out = new Map<string, HostTensor>();
  for (const [key, tensor] of weights) {
    const renamed = rename(key);
    if (out.has(renamed)) throw new CheckpointError('<in memory>', `two keys map to '${renamed}'`, key);
    out.set(renamed, tensor);
  }
  return out;
}
