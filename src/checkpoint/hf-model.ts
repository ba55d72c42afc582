// Hugging Face model folders (config.json + model.safetensors / pytorch_model.bin, possibly sharded),
// normalized to the encoder parameter names of a bare BertModel/RobertaModel.

import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import { readSafetensors } from './safetensors.ts';
import { CheckpointError, type HostTensor, type StateDict } from './tensor.ts';
import { readTorchBin } from './torch-bin.ts';

/** model_type → the prefix task models put before the encoder's parameter names. */
const BASE_PREFIX: Readonly<Record<string, string>> = {
  bert: 'bert.',
  roberta: 'roberta.',
  'xlm-roberta': 'roberta.',
};

export const SUPPORTED_MODEL_TYPES: readonly string[] = Object.keys(BASE_PREFIX);

const ENCODER_PARTS = ['embeddings.', 'encoder.', 'pooler.'];
/** Buffers, not weights: transformers recreates them. */
const IGNORED_KEYS = new Set(['embeddings.position_ids', 'embeddings.token_type_ids']);

export interface ModelFolder {
  /** config.json as written. */
  readonly config: Record<string, unknown>;
  /** Encoder weights under BertModel names (no `bert.`/`roberta.` prefix), heads such as `cls.*` dropped. */
  readonly weights: StateDict;
}

/** Weight files in the order transformers prefers them. */
const WEIGHT_SOURCES: readonly { file: string; sharded: boolean }[] = [
  { file: 'model.safetensors', sharded: false },
  { file: 'model.safetensors.index.json', sharded: true },
  { file: 'pytorch_model.bin', sharded: false },
  { file: 'pytorch_model.bin.index.json', sharded: true },
];

export function readModelFolder(dir: string): ModelFolder {
  const config = readJsonObject(join(dir, 'config.json'));
  const modelType = config.model_type;
  if (typeof modelType !== 'string' || !Object.hasOwn(BASE_PREFIX, modelType)) {
    throw new CheckpointError(
      join(dir, 'config.json'),
      `model_type ${JSON.stringify(modelType)} is not one of ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    );
  }
  const source = WEIGHT_SOURCES.find(({ file }) => fs.existsSync(join(dir, file)));
  if (source === undefined) {
    throw new CheckpointError(
      dir,
      `no weights: expected one of ${WEIGHT_SOURCES.map((s) => s.file).join(', ')}`,
    );
  }
  const path = join(dir, source.file);
  const raw = source.sharded ? readShardedWeights(dir, path) : readWeightFile(path);
  return { config, weights: normalizeEncoderKeys(path, raw, BASE_PREFIX[modelType]) };
}

export function readJsonObject(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckpointError(file, `cannot read: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CheckpointError(file, 'not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** safetensors or torch zip, by extension. */
export function readWeightFile(file: string): StateDict {
  return file.endsWith('.safetensors') ? readSafetensors(file) : readTorchBin(file);
}

/** `{"weight_map": {key: shard}}`: each shard is read once; every mapped key must be in its shard. */
function readShardedWeights(dir: string, indexFile: string): StateDict {
  const weightMap = readJsonObject(indexFile).weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new CheckpointError(indexFile, 'weight_map is not an object');
  }
  const byShard = new Map<string, string[]>();
  for (const [key, shard] of Object.entries(weightMap)) {
    // Shards must be plain file names next to the index: no paths out of the folder.
    if (typeof shard !== 'string' || shard !== basename(shard) || shard.startsWith('.')) {
      throw new CheckpointError(
        indexFile,
        `shard ${JSON.stringify(shard)} is not a file name in the folder`,
        key,
      );
    }
    byShard.set(shard, [...(byShard.get(shard) ?? []), key]);
  }
  const merged = new Map<string, HostTensor>();
  for (const [shard, keys] of byShard) {
    const shardPath = join(dir, shard);
    const weights = readWeightFile(shardPath);
    for (const key of keys) {
      const tensor = weights.get(key);
      if (tensor === undefined)
        throw new CheckpointError(shardPath, 'listed in the index but missing from the shard', key);
      merged.set(key, tensor);
    }
  }
  return merged;
}

/** Strips the base-model prefix, keeps encoder parameters only and renames legacy LayerNorm gamma/beta. */
export function normalizeEncoderKeys(file: string, raw: StateDict, basePrefix: string): StateDict {
  const out = new Map<string, HostTensor>();
  for (const [key, tensor] of raw) {
    const name = (key.startsWith(basePrefix) ? key.slice(basePrefix.length) : key)
      .replace(/LayerNorm\.gamma$/, 'LayerNorm.weight')
      .replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
    if (!ENCODER_PARTS.some((part) => name.startsWith(part)) || IGNORED_KEYS.has(name)) continue;
    if (out.has(name)) throw new CheckpointError(file, `present both with and without '${basePrefix}'`, name);
    out.set(name, tensor);
  }
  return out;
}
