// The bundled example: what is not trained (the model folder, the module configs) regenerates to the
// committed bytes, its files have the library's layout and key names, and every example composition
// checks against it. The trained tensors are checked by their behaviour (trained.test.ts).
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_TASKS, bertMiniConfigJson } from '../../src/bundled/model.ts';
import { BUNDLED_ASSETS_DIR, EXAMPLES_DIR } from '../../src/bundled/paths.ts';
import { bundledVocabulary } from '../../src/bundled/vocab.ts';
import { modelFolderFiles, taskConfigFiles } from '../../src/bundled/write.ts';
import { formatModuleConfig, MODULE_FILES } from '../../src/checkpoint/adapterhub.ts';
import {
  readAdapterHubFolder,
  readModelFolder,
  readSafetensors,
  readTorchBin,
} from '../../src/checkpoint/index.ts';
import { checkFile } from '../../src/dsl/index.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';

const GOLDEN = '/work/shared/golden';
const MODEL = join(BUNDLED_ASSETS_DIR, 'bert-mini');
const temp = fs.mkdtempSync(join(tmpdir(), 'adaptc-bundled-'));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

const filesUnder = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();

const storeDir = (id: string) => join(BUNDLED_ASSETS_DIR, 'store', id);

describe('bundled assets', () => {
  it('the untrained files regenerate byte for byte from the seed; the whole folder is under 6 MB', () => {
    const committed = filesUnder(BUNDLED_ASSETS_DIR);
    const expected = [
      ...[...modelFolderFiles().keys()].map((f) => join('bert-mini', f)),
      ...BUNDLED_TASKS.flatMap((t) =>
        [...Object.values(MODULE_FILES.adapter), ...Object.values(MODULE_FILES.head)].map((f) =>
          join('store', t.id, f),
        ),
      ),
      ...Object.values(MODULE_FILES.fusion).map((f) => join('seed-fusion', 'multinli,qqp,qnli', f)),
      ...Object.values(MODULE_FILES.head).map((f) => join('seed-fusion', 'cb', f)),
    ].sort();
    expect(committed).toEqual(expected);
    for (const [name, data] of modelFolderFiles()) {
      expect(Buffer.compare(Buffer.from(data), fs.readFileSync(join(MODEL, name))), name).toBe(0);
    }
    const config = bertMiniConfigJson(bundledVocabulary().length);
    for (const task of BUNDLED_TASKS) {
      const json = taskConfigFiles(task, config);
      for (const kind of ['adapter', 'head'] as const) {
        const file = join(storeDir(task.id), MODULE_FILES[kind].config);
        expect(fs.readFileSync(file, 'utf8'), file).toBe(formatModuleConfig(json[kind]));
      }
    }
    const bytes = committed.reduce((sum, f) => sum + fs.statSync(join(BUNDLED_ASSETS_DIR, f)).size, 0);
    expect(bytes).toBeLessThan(6 * 1024 * 1024);
  });

  it('every example composition checks against them', () => {
    const examples = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.adapt'));
    expect(examples).toHaveLength(4);
    for (const file of examples) expect(checkFile(join(EXAMPLES_DIR, file)).diagnostics, file).toEqual([]);
  });

  it('the model folder has the keys BertModel.save_pretrained writes and a 12-layer config', () => {
    const model = readModelFolder(MODEL);
    expect(model.config).toMatchObject({ num_hidden_layers: 12, hidden_size: 64, num_attention_heads: 4 });
    const golden = [...readSafetensors(join(GOLDEN, 'model/model.safetensors')).keys()];
    const ours = [...readSafetensors(join(MODEL, 'model.safetensors')).keys()];
    const firstLayers = ours.filter((k) => !/^encoder\.layer\.([4-9]|1\d)\./.test(k));
    expect(firstLayers).toEqual(golden);
    expect(ours).toHaveLength(golden.length + 8 * 16);
    const ln = model.weights.get('encoder.layer.0.output.LayerNorm.weight')!;
    expect([...ln.data].every((v) => v === 1)).toBe(true);
    const words = model.weights.get('embeddings.word_embeddings.weight')!;
    expect(words.data.subarray(0, 64).every((v) => v === 0)).toBe(true);
    expect(words.shape[0]).toBe(model.config.vocab_size);
  });

  it('store entries are save_adapter(with_head=True) folders: the golden key order, non-zero up-projections', () => {
    const goldenAdapter = [...readTorchBin(join(GOLDEN, 'adapters/seq/pytorch_adapter.bin')).keys()];
    const goldenHead = [...readTorchBin(join(GOLDEN, 'heads/cls2/pytorch_model_head.bin')).keys()];
    for (const task of BUNDLED_TASKS) {
      const dir = storeDir(task.id);
      const adapter = readAdapterHubFolder(dir, 'adapter');
      const head = readAdapterHubFolder(dir, 'head');
      expect(adapter.json.name).toBe(task.name);
      expect(head.json).toMatchObject({ name: task.name, config: { num_labels: task.numLabels } });
      const adapterKeys = [...readTorchBin(join(dir, 'pytorch_adapter.bin')).keys()];
      expect(adapterKeys.slice(0, goldenAdapter.length)).toEqual(
        goldenAdapter.map((k) => k.replace('.seq.', `.${task.name}.`)),
      );
      expect(adapterKeys).toHaveLength(12 * 4);
      expect([...readTorchBin(join(dir, 'pytorch_model_head.bin')).keys()]).toEqual(
        goldenHead.map((k) => k.replace('.cls2.', `.${task.name}.`)),
      );
      const up = adapter.weights.get(`bert.encoder.layer.0.output.adapters.${task.name}.adapter_up.weight`)!;
      expect(up.data.some((v) => v !== 0)).toBe(true);
    }
    for (const task of BUNDLED_TASKS) {
      const head = readAdapterHubFolder(storeDir(task.id), 'head');
      expect((head.json.config as { label2id: unknown }).label2id).toEqual(
        Object.fromEntries(task.labels!.map((l, i) => [l, i])),
      );
    }
    const cb = readAdapterHubFolder(join(BUNDLED_ASSETS_DIR, 'seed-fusion', 'cb'), 'head');
    expect((cb.json.config as { label2id: unknown }).label2id).toEqual({
      entailment: 0,
      contradiction: 1,
      neutral: 2,
    });
  });

  it('tokenize the demo sentence into WordPieces, the same from tokenizer.json and from vocab.txt', () => {
    const fromJson = loadTokenizer(MODEL);
    const onlyVocab = join(temp, 'vocab-only');
    fs.mkdirSync(onlyVocab);
    for (const f of ['vocab.txt', 'tokenizer_config.json'])
      fs.copyFileSync(join(MODEL, f), join(onlyVocab, f));
    const fromVocab = loadTokenizer(onlyVocab);
    const vocab = fs.readFileSync(join(MODEL, 'vocab.txt'), 'utf8').split('\n');
    const sentences = [
      'AdapterHub is awesome!',
      'A soccer game with multiple males playing.',
      'Zebras quizzed 42 jays.',
    ];
    const encoded = fromJson.encode(sentences);
    expect(fromVocab.encode(sentences)).toEqual(encoded);
    const [demo] = fromJson.encode([sentences[0]]).input_ids;
    expect(demo.map((id) => vocab[id])).toEqual(['[CLS]', 'adapter', '##hub', 'is', 'awesome', '!', '[SEP]']);
    expect(encoded.input_ids.flat()).not.toContain(vocab.indexOf('[UNK]'));
  });
});
