// A generated classification task on disk: a tiny random BERT folder, a .adapt file that adds a new
// seq_bn adapter and a classification head and trains the adapter, and JSONL train/eval splits.
// The label is a simple function of the token ids: whether the first token (the one the head reads)
// is from the lower half of the vocabulary; the rest of the row is random filler.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { type Compiled, compileFile } from '../../src/compiler.ts';
import { seededUniform } from '../../src/load/init.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { programOf, randomWeights, tinyEncoderConfig } from '../../src/testing/model.ts';
import type { BackendFactory } from '../../src/train/backend.ts';
import { saveTrainedModules } from '../../src/train/checkpoint.ts';
import { type Example, readJsonl } from '../../src/train/data.ts';
import { TRAIN_DEFAULTS, type TrainResult, train } from '../../src/train/loop.ts';

export interface SyntheticTask {
  readonly adapt: string;
  readonly train: string;
  readonly eval: string;
  /** The .adapt file that loads the modules `adaptc train --out <dir>` saved. */
  readonly reloadAdapt: (outDir: string) => string;
}

const MODEL = tinyEncoderConfig({
  hidden: 32,
  layers: 2,
  heads: 2,
  intermediate: 64,
  vocab: 16,
  maxPositions: 16,
});

function modelConfigJson(): Record<string, unknown> {
  return {
    model_type: 'bert',
    vocab_size: MODEL.vocabSize,
    hidden_size: MODEL.hiddenSize,
    num_hidden_layers: MODEL.numLayers,
    num_attention_heads: MODEL.numHeads,
    intermediate_size: MODEL.intermediateSize,
    hidden_act: MODEL.hiddenAct,
    layer_norm_eps: MODEL.layerNormEps,
    max_position_embeddings: MODEL.maxPositions,
    type_vocab_size: MODEL.typeVocabSize,
    pad_token_id: MODEL.padTokenId,
  };
}

/** One row of 3 to 6 ids from 1..V-1; label 1 when the first is below V/2. */
function row(random: () => number): { input_ids: number[]; label: number } {
  const length = 3 + Math.floor(random() * 4);
  const ids = Array.from({ length }, () => 1 + Math.floor(random() * (MODEL.vocabSize - 1)));
  return { input_ids: ids, label: ids[0] < MODEL.vocabSize / 2 ? 1 : 0 };
}

const jsonl = (rows: readonly object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

export function writeSyntheticTask(
  dir: string,
  sizes: { train: number; eval: number },
  seed: number,
): SyntheticTask {
  const modelDir = join(dir, 'model');
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'config.json'), `${JSON.stringify(modelConfigJson(), null, 2)}\n`);
  const base = randomWeights(lowerProgram(programOf({ adapters: {}, setup: null }), MODEL), seed);
  writeFileSync(join(modelDir, 'model.safetensors'), serializeSafetensors(base, { format: 'pt' }));
  const random = seededUniform(seed, 'synthetic task');
  const rows = Array.from({ length: sizes.train + sizes.eval }, () => row(random));
  const files = {
    adapt: join(dir, 'task.adapt'),
    train: join(dir, 'train.jsonl'),
    eval: join(dir, 'eval.jsonl'),
  };
  writeFileSync(files.train, jsonl(rows.slice(0, sizes.train)));
  writeFileSync(files.eval, jsonl(rows.slice(sizes.train)));
  const setup = 'setup Stack(task, head cls)';
  writeFileSync(
    files.adapt,
    [
      'model "model"',
      'adapter task = seq_bn',
      'head cls = classification(num_labels: 2)',
      setup,
      'train adapter task',
      '',
    ].join('\n'),
  );
  return {
    ...files,
    reloadAdapt: (outDir) => {
      const file = join(dir, 'reload.adapt');
      writeFileSync(
        file,
        [
          `model ${JSON.stringify(modelDir)}`,
          `adapter task = load ${JSON.stringify(join(outDir, 'task'))}`,
          `head cls = load ${JSON.stringify(join(outDir, 'cls'))}`,
          setup,
          '',
        ].join('\n'),
      );
      return file;
    },
  };
}

/** The rows of a generated split (ids only: no tokenizer). */
export function readTaskRows(path: string): Example[] {
  return readJsonl(path, () => {
    throw new Error('the generated task has ids, not text');
  });
}

export interface SyntheticRun {
  readonly task: SyntheticTask;
  readonly evalData: readonly Example[];
  readonly compiled: Compiled;
  readonly result: TrainResult;
  /** The saved modules (in `<dir>/out`) compiled again from their folders. */
  readonly reloaded: Compiled;
  readonly seconds: number;
}

/**
 * The seeded run the training tests share: 1024 generated rows (seed 7), 12 epochs of batch 16 at learning
 * rate 1e-2 on `backend` (the reference interpreter by default), saved in AdapterHub folders and reloaded.
 */
export async function trainSyntheticTask(dir: string, backend?: BackendFactory): Promise<SyntheticRun> {
  const task = writeSyntheticTask(dir, { train: 1024, eval: 256 }, 7);
  const compiled = compileFile(task.adapt);
  const started = performance.now();
  const result = await train(compiled, readTaskRows(task.train), {
    ...TRAIN_DEFAULTS,
    epochs: 12,
    batchSize: 16,
    optimizer: { ...TRAIN_DEFAULTS.optimizer, learningRate: 1e-2 },
    ...(backend ? { backend } : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  const out = join(dir, 'out');
  saveTrainedModules(out, compiled.program, compiled.model, result.weights);
  const reloaded = compileFile(task.reloadAdapt(out));
  return { task, evalData: readTaskRows(task.eval), compiled, result, reloaded, seconds };
}
