// PEFT LoRA folders → AdapterHub LoRA adapters. Only what AdapterHub's LoRA can express is accepted:
// q/k/v, intermediate.dense and output.dense targets, one rank, plain (non-rs, non-DoRA) scaling, no bias.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { readJsonObject, readWeightFile } from './hf-model.ts';
import { CheckpointError, type HostTensor, type StateDict } from './tensor.ts';

const PEFT_WEIGHT_FILES = ['adapter_model.safetensors', 'adapter_model.bin'];

/** The BERT linear layers PEFT may wrap, by module path inside a layer. */
export type TargetModule =
  | 'query'
  | 'key'
  | 'value'
  | 'intermediate.dense'
  | 'output.dense'
  | 'attention.output.dense';

const MODULE_PATHS: Readonly<Record<TargetModule, string>> = {
  query: 'attention.self.query',
  key: 'attention.self.key',
  value: 'attention.self.value',
  'intermediate.dense': 'intermediate.dense',
  'output.dense': 'output.dense',
  'attention.output.dense': 'attention.output.dense',
};

const ATTN_MATRIX: Partial<Record<TargetModule, string>> = { query: 'q', key: 'k', value: 'v' };

export interface PeftLoraAdapter {
  /** AdapterHub LoRA config dict (the `config` object of adapter_config.json). */
  readonly config: Record<string, unknown>;
  /** Weights under AdapterHub keys, e.g. `bert.encoder.layer.0.attention.self.query.loras.<name>.lora_A`. */
  readonly weights: StateDict;
}

export function readPeftLoraFolder(dir: string, name: string, basePrefix = 'bert.'): PeftLoraAdapter {
  const configFile = join(dir, 'adapter_config.json');
  const peftConfig = readJsonObject(configFile);
  const weightFile = PEFT_WEIGHT_FILES.map((f) => join(dir, f)).find((f) => fs.existsSync(f));
  if (weightFile === undefined)
    throw new CheckpointError(dir, `no PEFT weights: expected ${PEFT_WEIGHT_FILES.join(' or ')}`);
  const weights = mapPeftWeights(weightFile, readWeightFile(weightFile), name, basePrefix);
  const config = peftLoraConfigToAdapterHub(configFile, peftConfig, weights.targets);
  checkRank(weightFile, weights.dict, config.r as number);
  const targets = resolveTargets(configFile, peftConfig, weights.targets);
  const leaveOut = checkLayerCoverage(weightFile, weights, targets, (layer, module) =>
    adapterHubKey(basePrefix, layer, MODULE_PATHS[module], name, 'A'),
  );
  return { config: { ...config, leave_out: leaveOut }, weights: weights.dict };
}

function adapterHubKey(basePrefix: string, layer: number, path: string, name: string, which: string): string {
  return `${basePrefix}encoder.layer.${layer}.${path}.loras.${name}.lora_${which}`;
}

/**
 * AdapterHub applies one LoRA config to every layer not left out: each layer that has LoRA weights
 * must have them for every target. Layers without any (gaps below the highest) become `leave_out`.
 */
function checkLayerCoverage(
  file: string,
  weights: MappedWeights,
  targets: ReadonlySet<TargetModule>,
  keyOf: (layer: number, module: TargetModule) => string,
): number[] {
  for (const layer of weights.layers) {
    for (const module of targets) {
      const key = keyOf(layer, module);
      if (!weights.dict.has(key))
        throw new CheckpointError(file, 'missing: other layers have this LoRA', key);
    }
  }
  const highest = Math.max(-1, ...weights.layers);
  return Array.from({ length: highest + 1 }, (_, i) => i).filter((i) => !weights.layers.has(i));
}

/** Config fields AdapterHub's LoRA has no counterpart for, with the value that means "not used". */
const UNSUPPORTED_WHEN_SET: readonly [string, (v: unknown) => boolean][] = [
  ['use_rslora', (v) => v === true],
  ['use_dora', (v) => v === true],
  ['fan_in_fan_out', (v) => v === true],
  ['bias', (v) => v !== undefined && v !== 'none'],
  ['rank_pattern', isNonEmpty],
  ['alpha_pattern', isNonEmpty],
  ['modules_to_save', isNonEmpty],
  ['layers_to_transform', (v) => v !== undefined && v !== null],
  ['use_qalora', (v) => v === true],
  ['lora_bias', (v) => v === true],
];

function isNonEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  return typeof v !== 'object' || Object.keys(v).length > 0;
}

/**
 * PEFT LoraConfig → AdapterHub LoRAConfig dict. `keyTargets` are the modules the weights actually wrap;
 * target_modules given as a list must agree with them.
 */
export function peftLoraConfigToAdapterHub(
  file: string,
  peft: Record<string, unknown>,
  keyTargets: ReadonlySet<TargetModule>,
): Record<string, unknown> {
  if (peft.peft_type !== 'LORA')
    throw new CheckpointError(file, `peft_type ${JSON.stringify(peft.peft_type)} is not "LORA"`);
  for (const [key, isSet] of UNSUPPORTED_WHEN_SET) {
    if (isSet(peft[key])) {
      throw new CheckpointError(
        file,
        `${key} = ${JSON.stringify(peft[key])} cannot be expressed as an AdapterHub LoRA`,
      );
    }
  }
  const r = peft.r;
  const alpha = peft.lora_alpha;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0)
    throw new CheckpointError(file, `r = ${String(r)} is not a positive integer`);
  if (typeof alpha !== 'number')
    throw new CheckpointError(file, `lora_alpha = ${String(alpha)} is not a number`);
  const targets = resolveTargets(file, peft, keyTargets);
  const attnMatrices = (['query', 'key', 'value'] as const)
    .filter((t) => targets.has(t))
    .map((t) => ATTN_MATRIX[t]);
  return {
    alpha,
    architecture: 'lora',
    attn_matrices: attnMatrices,
    composition_mode: 'add',
    dropout: typeof peft.lora_dropout === 'number' ? peft.lora_dropout : 0,
    dtype: null,
    init_weights: 'lora',
    intermediate_lora: targets.has('intermediate.dense'),
    leave_out: [],
    output_lora: targets.has('output.dense'),
    r,
    selfattn_lora: attnMatrices.length > 0,
    use_gating: false,
  };
}

/** The wrapped modules: target_modules when it is a list (checked against the weights), else the weights'. */
function resolveTargets(
  file: string,
  peft: Record<string, unknown>,
  keyTargets: ReadonlySet<TargetModule>,
): ReadonlySet<TargetModule> {
  if (!Array.isArray(peft.target_modules)) return keyTargets;
  const targets = listedTargets(file, peft.target_modules);
  for (const t of keyTargets) {
    if (!targets.has(t))
      throw new CheckpointError(file, `weights wrap '${t}', which target_modules does not name`);
  }
  return targets;
}

/** PEFT matches a target by exact name or dotted suffix of the module path. */
function listedTargets(file: string, list: readonly unknown[]): Set<TargetModule> {
  const out = new Set<TargetModule>();
  for (const target of list) {
    if (typeof target !== 'string')
      throw new CheckpointError(file, `target_modules entry ${JSON.stringify(target)} is not a string`);
    const hits = (Object.keys(MODULE_PATHS) as TargetModule[]).filter((m) => {
      const path = MODULE_PATHS[m];
      return path === target || path.endsWith(`.${target}`);
    });
    if (hits.length === 0 || hits.includes('attention.output.dense')) {
      throw new CheckpointError(file, `target module '${target}' cannot be expressed as an AdapterHub LoRA`);
    }
    for (const h of hits) out.add(h);
  }
  return out;
}

const PEFT_KEY =
  /^base_model\.model\.(?:(?:bert|roberta)\.)?encoder\.layer\.(\d+)\.(attention\.self\.(?:query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)\.lora_([AB])(?:\.[^.]+)?\.weight$/;

interface MappedWeights {
  readonly dict: StateDict;
  readonly targets: ReadonlySet<TargetModule>;
  readonly layers: ReadonlySet<number>;
}

function moduleOfPath(path: string): TargetModule {
  return (Object.keys(MODULE_PATHS) as TargetModule[]).find((m) => MODULE_PATHS[m] === path)!;
}

/** PEFT key → AdapterHub key; anything else (embeddings LoRA, modules_to_save copies, …) is an error. */
function mapPeftWeights(file: string, peft: StateDict, name: string, basePrefix = 'bert.'): MappedWeights {
  const dict = new Map<string, HostTensor>();
  const targets = new Set<TargetModule>();
  const layers = new Set<number>();
  for (const [key, tensor] of peft) {
    const match = PEFT_KEY.exec(key);
    if (match === null)
      throw new CheckpointError(file, 'not a LoRA weight of a BERT encoder linear layer', key);
    const [, layer, path, which] = match;
    const module = moduleOfPath(path);
    if (module === 'attention.output.dense') {
      throw new CheckpointError(file, 'AdapterHub LoRA cannot wrap attention.output.dense', key);
    }
    targets.add(module);
    layers.add(Number(layer));
    const mapped = adapterHubKey(basePrefix, Number(layer), path, name, which);
    if (dict.has(mapped)) throw new CheckpointError(file, `second weight for '${mapped}'`, key);
    dict.set(mapped, tensor);
  }
  for (const key of dict.keys()) {
    const partner = key.endsWith('lora_A') ? `${key.slice(0, -1)}B` : `${key.slice(0, -1)}A`;
    if (!dict.has(partner)) throw new CheckpointError(file, `has no matching ${partner.slice(-6)}`, key);
  }
  return { dict, targets, layers };
}

function checkRank(file: string, weights: StateDict, r: number): void {
  for (const [key, t] of weights) {
    const rank = key.endsWith('lora_A') ? t.shape[0] : t.shape[1];
    if (t.shape.length !== 2 || rank !== r) {
      throw new CheckpointError(file, `shape ${JSON.stringify(t.shape)} does not have rank r = ${r}`, key);
    }
  }
}
