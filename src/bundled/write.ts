// Writes the bundled example assets: the model folder (HF layout) and the AdapterHub store, byte for byte
// the same on every run and every machine (seeded values, sorted JSON, fixed zip timestamps).
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { MODULE_FILES, writeAdapterHubFolder } from '../checkpoint/adapterhub.ts';
import { serializeSafetensors } from '../checkpoint/safetensors.ts';
import {
  adapterConfigFileJson,
  headConfigFileJson,
  pythonJson,
  type SavedConfigMeta,
} from '../config/index.ts';
import { bertTokenizerJson } from '../tokenizer/index.ts';
import {
  BUNDLED_MODEL_NAME,
  BUNDLED_SEED,
  BUNDLED_TASKS,
  type BundledTask,
  baseModelWeights,
  bertMiniConfigJson,
  taskAdapterConfig,
  taskHeadConfig,
  taskWeights,
} from './model.ts';
import { bundledVocabulary, SPECIAL_TOKENS } from './vocab.ts';

export const MODEL_DIR = BUNDLED_MODEL_NAME;
export const STORE_DIR = 'store';

/** tokenizer_config.json as transformers writes it for a BertTokenizer (json.dumps, sorted, indent 2). */
function tokenizerConfigJson(maxLength: number): Record<string, unknown> {
  const [pad, unk, cls, sep, mask] = SPECIAL_TOKENS;
  return {
    clean_up_tokenization_spaces: true,
    cls_token: cls,
    do_basic_tokenize: true,
    do_lower_case: true,
    mask_token: mask,
    model_max_length: maxLength,
    never_split: null,
    pad_token: pad,
    sep_token: sep,
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: unk,
  };
}

/** The model folder's files: config, weights, WordPiece vocabulary and tokenizer files. */
export function modelFolderFiles(): ReadonlyMap<string, string | Uint8Array> {
  const vocab = bundledVocabulary();
  const config = bertMiniConfigJson(vocab.length);
  const vocabIds = new Map(vocab.map((token, id) => [token, id]));
  return new Map<string, string | Uint8Array>([
    ['config.json', `${pythonJson(config, { indent: 2 })}\n`],
    ['model.safetensors', serializeSafetensors(baseModelWeights(config, BUNDLED_SEED), { format: 'pt' })],
    ['vocab.txt', `${vocab.join('\n')}\n`],
    ['tokenizer.json', JSON.stringify(bertTokenizerJson(vocabIds, true), null, 2)],
    [
      'tokenizer_config.json',
      `${pythonJson(tokenizerConfigJson(config.max_position_embeddings as number), { indent: 2 })}\n`,
    ],
  ]);
}

/**
 * One store entry as `save_adapter(dir, name, with_head=True)` leaves it: the adapter's files and, in
 * the same folder, the head saved under the adapter's name. The head is written through the same
 * writer into a staging folder, then moved in (that writer replaces whole folders).
 */
function writeTaskFolder(dir: string, task: BundledTask, config: Record<string, unknown>): void {
  const meta: SavedConfigMeta = {
    name: task.name,
    hiddenSize: config.hidden_size as number,
    modelType: 'bert',
    modelName: BUNDLED_MODEL_NAME,
  };
  const weights = taskWeights(config, task, BUNDLED_SEED);
  const staging = `${dir}.head`;
  writeAdapterHubFolder(staging, 'head', {
    json: headConfigFileJson(taskHeadConfig(task), meta),
    weights: weights.head,
  });
  writeAdapterHubFolder(dir, 'adapter', {
    json: adapterConfigFileJson(taskAdapterConfig(), meta),
    weights: weights.adapter,
  });
  for (const file of Object.values(MODULE_FILES.head)) fs.renameSync(join(staging, file), join(dir, file));
  fs.rmdirSync(staging);
}

/** Replaces `root` with freshly generated assets: `<root>/bert-mini/` and `<root>/store/<id>/`. */
export function writeBundledAssets(root: string): void {
  fs.rmSync(root, { recursive: true, force: true });
  const modelDir = join(root, MODEL_DIR);
  fs.mkdirSync(modelDir, { recursive: true });
  for (const [name, data] of modelFolderFiles()) fs.writeFileSync(join(modelDir, name), data);
  const config = bertMiniConfigJson(bundledVocabulary().length);
  for (const task of BUNDLED_TASKS) {
    const dir = join(root, STORE_DIR, task.id);
    fs.mkdirSync(dirname(dir), { recursive: true });
    writeTaskFolder(dir, task, config);
  }
}
