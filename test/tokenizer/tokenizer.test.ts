import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bertTokenizerJson, loadTokenizer, readVocab } from '../../src/tokenizer/index.ts';

const root = fs.mkdtempSync(join(os.tmpdir(), 'adaptc-tok-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'hello',
  'world',
  '!',
  'un',
  '##aff',
  '##able',
  ',',
];

function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  fs.mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(join(dir, file), text);
  return dir;
}

const vocabDir = folder('vocab', { 'vocab.txt': `${VOCAB.join('\n')}\n` });

describe('tokenizer', () => {
  it('builds the BERT WordPiece pipeline from vocab.txt: lower-case, accents, punctuation, padding', () => {
    const batch = loadTokenizer(vocabDir).encode(['Hello, WORLD!', 'unaffable', 'héllo xyz']);
    expect(batch.input_ids).toEqual([
      [2, 5, 11, 6, 7, 3],
      [2, 8, 9, 10, 3, 0],
      [2, 5, 1, 3, 0, 0],
    ]);
    expect(batch.attention_mask).toEqual([
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 0],
      [1, 1, 1, 1, 0, 0],
    ]);
    expect(batch.token_type_ids).toEqual(batch.input_ids.map((row) => row.map(() => 0)));
  });

  it('truncates to maxLength keeping [CLS] and [SEP]', () => {
    const batch = loadTokenizer(vocabDir).encode(['hello, world!', 'hello'], { maxLength: 4 });
    expect(batch.input_ids).toEqual([
      [2, 5, 11, 3],
      [2, 5, 3, 0],
    ]);
  });

  it('uses tokenizer.json when present (the same pipeline gives the same ids)', () => {
    const json = bertTokenizerJson(readVocab(join(vocabDir, 'vocab.txt')), true);
    const dir = folder('json', { 'tokenizer.json': JSON.stringify(json) });
    expect(loadTokenizer(dir).encode(['Hello world']).input_ids).toEqual([[2, 5, 6, 3]]);
  });

  it('keeps case when tokenizer_config says do_lower_case: false', () => {
    const dir = folder('cased', {
      'vocab.txt': `${[...VOCAB, 'Hello'].join('\n')}\n`,
      'tokenizer_config.json': JSON.stringify({ do_lower_case: false }),
    });
    expect(loadTokenizer(dir).encode(['Hello hello']).input_ids).toEqual([[2, 12, 5, 3]]);
  });

  it('fails clearly without tokenizer files', () => {
    expect(() => loadTokenizer(folder('none', {}))).toThrow(/no tokenizer/);
  });
});
