// AdapterFusion configs (semantics §1.5): the `dynamic` and `static` presets, key overrides, JSON.

import { type SavedConfigMeta, savedFileJson } from './adapter.ts';
import {
  type ConfigResult,
  closestName,
  either,
  isBool,
  isNullableNumber,
  isRecord,
  isString,
  type Schema,
  validateOverrides,
} from './fields.ts';
import type { FusionConfig } from './types.ts';

const FUSION_SCHEMA: Schema = {
  key: isBool,
  query: isBool,
  value: isBool,
  query_before_ln: isBool,
  regularization: isBool,
  residual_before: isBool,
  temperature: isBool,
  value_before_softmax: isBool,
  value_initialized: either(isBool, isString),
  dropout_prob: isNullableNumber,
};

export const FUSION_PRESETS: Readonly<Record<'dynamic' | 'static', FusionConfig>> = {
  dynamic: {
    key: true,
    query: true,
    value: true,
    query_before_ln: false,
    regularization: true,
    residual_before: false,
    temperature: false,
    value_before_softmax: true,
    value_initialized: true,
    dropout_prob: null,
  },
  static: {
    key: true,
    query: true,
    value: false,
    query_before_ln: false,
    regularization: false,
    residual_before: false,
    temperature: false,
    value_before_softmax: true,
    value_initialized: false,
    dropout_prob: null,
  },
};

export const FUSION_FLOAT_KEYS: ReadonlySet<string> = new Set(['dropout_prob']);

/** `dynamic`, `static`, or either with overridden keys. */
export function resolveFusionConfig(
  preset: string,
  overrides: Readonly<Record<string, unknown>>,
): ConfigResult<FusionConfig> {
  if (preset !== 'dynamic' && preset !== 'static') {
    const suggestion = closestName(preset, Object.keys(FUSION_PRESETS));
    return {
      ok: false,
      issues: [
        {
          key: null,
          message: `unknown fusion config \`${preset}\``,
          hint: suggestion ? `did you mean \`${suggestion}\`?` : 'use `dynamic` or `static`',
        },
      ],
    };
  }
  const issues = validateOverrides(`fusion config \`${preset}\``, FUSION_SCHEMA, overrides);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { ...FUSION_PRESETS[preset], ...overrides } as FusionConfig };
}

/** Reads adapter_fusion_config.json (or its `config` dict); missing keys take the dynamic defaults. */
export function fusionConfigFromJson(json: unknown): ConfigResult<FusionConfig> {
  if (!isRecord(json))
    return { ok: false, issues: [{ key: null, message: 'a fusion config must be a JSON object' }] };
  const config = isRecord(json.config) ? json.config : json;
  const known = Object.fromEntries(Object.entries(config).filter(([key]) => key in FUSION_SCHEMA));
  const issues = validateOverrides('fusion config', FUSION_SCHEMA, known);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { ...FUSION_PRESETS.dynamic, ...known } as FusionConfig };
}

/** The adapter names a saved fusion declares, or null when the file has none. */
export function fusionAdapterNames(json: unknown): readonly string[] | null {
  if (!isRecord(json)) return null;
  if (Array.isArray(json.adapter_names) && json.adapter_names.every((n) => typeof n === 'string'))
    return json.adapter_names as string[];
  return typeof json.name === 'string' ? json.name.split(',') : null;
}

export function fusionConfigToJson(config: FusionConfig): Record<string, unknown> {
  return { ...config };
}

/** The whole adapter_fusion_config.json object. */
export function fusionConfigFileJson(
  config: FusionConfig,
  adapters: readonly string[],
  meta: SavedConfigMeta,
): Record<string, unknown> {
  return { adapter_names: [...adapters], ...savedFileJson(fusionConfigToJson(config), meta) };
}
