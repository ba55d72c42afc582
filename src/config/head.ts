// Prediction-head configs (semantics §5): the `add_*_head` defaults, key overrides and JSON.

import { type SavedConfigMeta, savedFileJson } from './adapter.ts';
import {
  type ConfigResult,
  closestName,
  isBool,
  isNullableNumber,
  isNullableString,
  isPositiveInt,
  isRecord,
  type Schema,
  validateOverrides,
} from './fields.ts';
import type { HeadConfig, HeadType } from './types.ts';

/** The head kinds of the language and the library head_type each makes. */
export const HEAD_KINDS: Readonly<Record<string, HeadType>> = {
  classification: 'classification',
  multilabel_classification: 'multilabel_classification',
  tagging: 'tagging',
  multiple_choice: 'multiple_choice',
  question_answering: 'question_answering',
};

const isLabelMap = (v: unknown): string | null =>
  v === null || (isRecord(v) && Object.values(v).every((x) => Number.isInteger(x)))
    ? null
    : 'expected a map {label: index}';

const COMMON: Schema = {
  layers: isPositiveInt,
  activation_function: isNullableString,
  dropout_prob: isNullableNumber,
  label2id: isLabelMap,
};

const HEAD_SCHEMAS: Readonly<Record<HeadType, Schema>> = {
  classification: { num_labels: isPositiveInt, ...COMMON, use_pooler: isBool, bias: isBool },
  multilabel_classification: { num_labels: isPositiveInt, ...COMMON, use_pooler: isBool, bias: isBool },
  tagging: { num_labels: isPositiveInt, ...COMMON },
  multiple_choice: { num_choices: isPositiveInt, ...COMMON, use_pooler: isBool },
  question_answering: { num_labels: isPositiveInt, ...COMMON },
};

/** The keys each head type serializes, besides head_type (library 1.1.0, as in the golden files). */
const JSON_KEYS: Readonly<Record<HeadType, readonly string[]>> = {
  classification: [
    'num_labels',
    'layers',
    'activation_function',
    'label2id',
    'use_pooler',
    'bias',
    'dropout_prob',
  ],
  multilabel_classification: [
    'num_labels',
    'layers',
    'activation_function',
    'label2id',
    'use_pooler',
    'bias',
    'dropout_prob',
  ],
  tagging: ['num_labels', 'layers', 'activation_function', 'label2id', 'dropout_prob'],
  multiple_choice: ['num_choices', 'layers', 'activation_function', 'label2id', 'use_pooler', 'dropout_prob'],
  question_answering: ['num_labels', 'layers', 'activation_function', 'label2id', 'dropout_prob'],
};

const DEFAULTS: Readonly<Record<HeadType, Omit<HeadConfig, 'head_type' | 'extra'>>> = {
  classification: {
    num_labels: 2,
    layers: 2,
    activation_function: 'tanh',
    label2id: null,
    use_pooler: false,
    bias: true,
    dropout_prob: null,
  },
  multilabel_classification: {
    num_labels: 2,
    layers: 2,
    activation_function: 'tanh',
    label2id: null,
    use_pooler: false,
    bias: true,
    dropout_prob: null,
  },
  tagging: {
    num_labels: 2,
    layers: 1,
    activation_function: 'tanh',
    label2id: null,
    use_pooler: false,
    bias: true,
    dropout_prob: null,
  },
  multiple_choice: {
    num_labels: 2,
    layers: 2,
    activation_function: 'tanh',
    label2id: null,
    use_pooler: false,
    bias: true,
    dropout_prob: null,
  },
  question_answering: {
    num_labels: 2,
    layers: 1,
    activation_function: 'tanh',
    label2id: null,
    use_pooler: false,
    bias: true,
    dropout_prob: null,
  },
};

/** Short names accepted in `.adapt` files for library keys. */
const KEY_ALIASES: Readonly<Record<string, string>> = { activation: 'activation_function' };

const defaultLabels = (n: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`LABEL_${i}`, i]));

/** Like the library, classification and tagging heads get LABEL_i names when none are given. */
const labelsFor = (
  type: HeadType,
  numLabels: number,
  given: HeadConfig['label2id'],
): HeadConfig['label2id'] =>
  given ??
  (type === 'classification' || type === 'multilabel_classification' || type === 'tagging'
    ? defaultLabels(numLabels)
    : null);

/** A new head: `classification(num_labels: 3, layers: 2, activation: tanh)` and friends. */
export function resolveHeadConfig(
  kind: string,
  args: Readonly<Record<string, unknown>>,
): ConfigResult<HeadConfig> {
  const headType = HEAD_KINDS[kind];
  if (!headType) {
    const suggestion = closestName(kind, Object.keys(HEAD_KINDS));
    return {
      ok: false,
      issues: [
        {
          key: null,
          message: `unknown head type \`${kind}\``,
          hint: suggestion
            ? `did you mean \`${suggestion}\`?`
            : `head types: ${Object.keys(HEAD_KINDS).join(', ')}`,
        },
      ],
    };
  }
  const overrides = Object.fromEntries(
    Object.entries(args).map(([key, value]) => [KEY_ALIASES[key] ?? key, value]),
  );
  const issues = validateOverrides(`a ${kind} head`, HEAD_SCHEMAS[headType], overrides);
  if (issues.length > 0) return { ok: false, issues };
  const { num_choices, ...rest } = overrides;
  const merged = {
    ...DEFAULTS[headType],
    ...rest,
    ...(num_choices === undefined ? {} : { num_labels: num_choices }),
  } as Omit<HeadConfig, 'head_type' | 'extra'>;
  return {
    ok: true,
    value: {
      head_type: headType,
      ...merged,
      label2id: labelsFor(headType, merged.num_labels, merged.label2id),
      extra: {},
    },
  };
}

/** Reads head_config.json (or its `config` dict). Static-head files (`config: null`) are not flex heads. */
export function headConfigFromJson(json: unknown): ConfigResult<HeadConfig> {
  if (!isRecord(json))
    return { ok: false, issues: [{ key: null, message: 'a head config must be a JSON object' }] };
  const config = 'config' in json ? json.config : json;
  if (!isRecord(config))
    return {
      ok: false,
      issues: [
        {
          key: 'config',
          message:
            'this head was saved from a static-head model (`config: null`); adaptc needs a flex head config',
        },
      ],
    };
  const headType = HEAD_KINDS[String(config.head_type)];
  if (!headType)
    return {
      ok: false,
      issues: [{ key: 'head_type', message: `unsupported head type ${JSON.stringify(config.head_type)}` }],
    };
  const schema = HEAD_SCHEMAS[headType];
  const known: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'head_type') continue;
    (key in schema ? known : extra)[key] = value;
  }
  const issues = validateOverrides(`a ${headType} head`, schema, known);
  if (issues.length > 0) return { ok: false, issues };
  const { num_choices, ...rest } = known;
  const merged = {
    ...DEFAULTS[headType],
    ...rest,
    ...(num_choices === undefined ? {} : { num_labels: num_choices }),
  } as Omit<HeadConfig, 'head_type' | 'extra'>;
  return { ok: true, value: { head_type: headType, ...merged, extra } };
}

/** The head's `config` dict with the key set the library writes for its type. */
export function headConfigToJson(config: HeadConfig): Record<string, unknown> {
  const values: Record<string, unknown> = { ...config, num_choices: config.num_labels };
  const keyed = Object.fromEntries(JSON_KEYS[config.head_type].map((key) => [key, values[key]]));
  return { head_type: config.head_type, ...keyed, ...config.extra };
}

export const HEAD_FLOAT_KEYS: ReadonlySet<string> = new Set(['dropout_prob']);

export function headConfigFileJson(config: HeadConfig, meta: SavedConfigMeta): Record<string, unknown> {
  return savedFileJson(headConfigToJson(config), meta);
}
