// Writes the bundled example assets: the model folder (HF layout, byte for byte the same on every run and
// machine: seeded values, sorted JSON, fixed zip timestamps), then the AdapterHub store with every adapter
// and head trained on its generated task, then the seed-fusion example's trained fusion and head.
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { MODULE_FILES, writeAdapterHubFolder } from '../checkpoint/adapterhub.ts';
import { serializeSafetensors } from '../checkpoint/safetensors.ts';
import type { StateDict } from '../checkpoint/tensor.ts';
import {
  adapterConfigFileJson,
  headConfigFileJson,
  pythonJson,
  type SavedConfigMeta,
} from '../config/index.ts';
import { bertTokenizerJson } from '../tokenizer/index.ts';
import type { BackendFactory } from '../train/backend.ts';
import { saveTrainedModules } from '../train/checkpoint.ts';
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
import {
  SEED_FUSION_DIR,
  type TrainedModules,
  trainSeedFusion,
  trainStoreTask,
  withCbLabels,
} from './train.ts';
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
export function taskConfigFiles(
  task: BundledTask,
  config: Record<string, unknown>,
): { adapter: Record<string, unknown>; head: Record<string, unknown> } {
  const meta: SavedConfigMeta = {
    name: task.name,
    hiddenSize: config.hidden_size as number,
    modelType: 'bert',
    modelName: BUNDLED_MODEL_NAME,
  };
  return {
    adapter: adapterConfigFileJson(taskAdapterConfig(), meta),
    head: headConfigFileJson(taskHeadConfig(task), meta),
  };
}

function writeTaskFolder(
  dir: string,
  task: BundledTask,
  config: Record<string, unknown>,
  weights: { adapter: StateDict; head: StateDict },
): void {
  const json = taskConfigFiles(task, config);
  const staging = `${dir}.head`;
  writeAdapterHubFolder(staging, 'head', {
    json: json.head,
    weights: weights.head,
  });
  writeAdapterHubFolder(dir, 'adapter', {
    json: json.adapter,
    weights: weights.adapter,
  });
  for (const file of Object.values(MODULE_FILES.head)) fs.renameSync(join(staging, file), join(dir, file));
  fs.rmdirSync(staging);
}

export interface WriteOptions {
  /** Where training steps run (default: the reference interpreter). */
  readonly backend?: BackendFactory;
  /** One line per trained module. */
  readonly log?: (line: string) => void;
}

/**
 * Replaces `root` with freshly generated assets: `<root>/bert-mini/`, `<root>/store/<id>/` (each adapter
 * and head trained on its task) and `<root>/seed-fusion/` (the example's fusion and cb head, trained).
 */
export async function writeBundledAssets(root: string, options: WriteOptions = {}): Promise<void> {
  const log = options.log ?? (() => undefined);
  fs.rmSync(root, { recursive: true, force: true });
  const modelDir = join(root, MODEL_DIR);
  fs.mkdirSync(modelDir, { recursive: true });
  for (const [name, data] of modelFolderFiles()) fs.writeFileSync(join(modelDir, name), data);
  const config = bertMiniConfigJson(bundledVocabulary().length);
  for (const task of BUNDLED_TASKS) {
    const dir = join(root, STORE_DIR, task.id);
    fs.mkdirSync(dirname(dir), { recursive: true });
    const { trained, ...weights } = await trainStoreTask(
      root,
      task,
      taskWeights(config, task, BUNDLED_SEED),
      options.backend,
    );
    writeTaskFolder(dir, task, config, weights);
    log(trainedLine(task.name, trained));
  }
  const fusion = await trainSeedFusion(root, options.backend);
  const { program, model } = fusion.compiled;
  saveTrainedModules(join(root, SEED_FUSION_DIR), withCbLabels(program), model, fusion.weights);
  log(trainedLine('Fuse(multinli, qqp, qnli) + head cb', fusion));
}

const trainedLine = (name: string, t: TrainedModules): string =>
  `${name}: ${t.steps} steps in ${t.seconds.toFixed(0)} s, held-out accuracy ${(t.accuracy * 100).toFixed(1)}%`;
