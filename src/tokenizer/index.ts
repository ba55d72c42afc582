// Text → BERT-style model inputs via @huggingface/tokenizers: tokenizer.json when the model ships one,
// otherwise the BERT WordPiece pipeline built from vocab.txt (what transformers' BertTokenizerFast converts to).

import * as fs from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { CheckpointError } from '../checkpoint/tensor.ts';

export interface EncodeOptions {
  /** Truncate each sequence (special tokens included) to this many tokens. */
  readonly maxLength?: number;
}

/** Batch inputs, every row padded on the right to the longest row. */
export interface EncodedBatch {
  readonly input_ids: number[][];
  readonly attention_mask: number[][];
  readonly token_type_ids: number[][];
}

export interface TextTokenizer {
  encode(texts: readonly string[], options?: EncodeOptions): EncodedBatch;
  readonly padTokenId: number;
}

export function loadTokenizer(modelDir: string): TextTokenizer {
  const config = readOptionalJson(join(modelDir, 'tokenizer_config.json')) ?? {};
  const tokenizerJsonFile = join(modelDir, 'tokenizer.json');
  const vocabFile = join(modelDir, 'vocab.txt');
  let tokenizerJson: Record<string, unknown>;
  if (fs.existsSync(tokenizerJsonFile)) tokenizerJson = readOptionalJson(tokenizerJsonFile)!;
  else if (fs.existsSync(vocabFile)) {
    tokenizerJson = bertTokenizerJson(readVocab(vocabFile), config.do_lower_case !== false);
  } else throw new CheckpointError(modelDir, 'no tokenizer: expected tokenizer.json or vocab.txt');
  return wrap(new Tokenizer(tokenizerJson, config), padTokenId(tokenizerJson, config));
}

function readOptionalJson(file: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(file, (e as Error).message);
  }
}

/** One token per line; the line number is the id. */
export function readVocab(file: string): Map<string, number> {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map<string, number>();
  lines.forEach((line, id) => {
    const token = line.replace(/\r$/, '');
    if (!vocab.has(token)) vocab.set(token, id);
  });
  return vocab;
}

const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** The tokenizer.json transformers' BertConverter writes for a vocab.txt. */
export function bertTokenizerJson(
  vocab: ReadonlyMap<string, number>,
  lowercase: boolean,
): Record<string, unknown> {
  for (const required of ['[UNK]', '[CLS]', '[SEP]']) {
    if (!vocab.has(required)) throw new CheckpointError('vocab.txt', `missing special token ${required}`);
  }
  const special = (token: string, typeId: number) => ({ SpecialToken: { id: token, type_id: typeId } });
  const sequence = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: BERT_SPECIAL_TOKENS.filter((t) => vocab.has(t)).map((content) => ({
      id: vocab.get(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0)],
      pair: [
        special('[CLS]', 0),
        sequence('A', 0),
        special('[SEP]', 0),
        sequence('B', 1),
        special('[SEP]', 1),
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [vocab.get(t)], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

function padTokenId(tokenizerJson: Record<string, unknown>, config: Record<string, unknown>): number {
  const padding = tokenizerJson.padding as { pad_id?: unknown } | null | undefined;
  if (typeof padding?.pad_id === 'number') return padding.pad_id;
  const added = (tokenizerJson.added_tokens ?? []) as { id: number; content: string }[];
  const padToken = typeof config.pad_token === 'string' ? config.pad_token : undefined;
  const candidates = padToken !== undefined ? [padToken] : ['[PAD]', '<pad>'];
  return added.find((t) => candidates.includes(t.content))?.id ?? 0;
}

interface Encoded {
  ids: number[];
  typeIds: number[];
}

function wrap(tokenizer: Tokenizer, padId: number): TextTokenizer {
  // The special tokens a single sequence gets, e.g. [CLS] … [SEP]: truncation keeps them.
  const specials = tokenizer.encode('', { add_special_tokens: true }).ids.length;
  const encodeOne = (text: string, maxLength: number | undefined): Encoded => {
    const full = tokenizer.encode(text, { add_special_tokens: true, return_token_type_ids: true });
    if (maxLength === undefined || full.ids.length <= maxLength)
      return { ids: full.ids, typeIds: full.token_type_ids };
    if (maxLength < specials)
      throw new RangeError(`maxLength ${maxLength} is below the ${specials} special tokens`);
    const content = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const start = findContentStart(full.ids, content);
    const keep = (_: number, i: number) => i < start + (maxLength - specials) || i >= start + content.length;
    return { ids: full.ids.filter(keep), typeIds: full.token_type_ids.filter(keep) };
  };
  return {
    padTokenId: padId,
    encode(texts, options = {}) {
      const rows = texts.map((t) => encodeOne(t, options.maxLength));
      const width = Math.max(0, ...rows.map((r) => r.ids.length));
      const pad = (values: number[], fill: number) => [
        ...values,
        ...new Array<number>(width - values.length).fill(fill),
      ];
      return {
        input_ids: rows.map((r) => pad(r.ids, padId)),
        attention_mask: rows.map((r) => pad(new Array<number>(r.ids.length).fill(1), 0)),
        token_type_ids: rows.map((r) => pad(r.typeIds, 0)),
      };
    },
  };
}

/** Where the content tokens start inside the encoding with special tokens. */
function findContentStart(withSpecials: readonly number[], content: readonly number[]): number {
  for (let start = 0; start + content.length <= withSpecials.length; start++) {
    if (content.every((id, i) => withSpecials[start + i] === id)) return start;
  }
  return 0;
}
