import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ADAPTER_FLOAT_KEYS,
  ADAPTER_PRESETS,
  type AdapterConfig,
  adapterConfigFileJson,
  adapterConfigFromFile,
  adapterConfigToJson,
  configHash,
  FUSION_FLOAT_KEYS,
  FUSION_PRESETS,
  fusionConfigFileJson,
  fusionConfigFromJson,
  HEAD_FLOAT_KEYS,
  headConfigFileJson,
  headConfigFromJson,
  methodFamilies,
  methodFamily,
  parseConfigString,
  pythonJson,
  resolveAdapterConfig,
  resolveFusionConfig,
  resolveHeadConfig,
  type SavedConfigMeta,
  type SingleAdapterConfig,
} from '../../src/config/index.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures');
const GOLDEN = join(FIXTURES, 'golden');
const readText = (path: string): string => readFileSync(path, 'utf8');
const readJson = (path: string): Record<string, unknown> => JSON.parse(readText(path));

const metaOf = (file: Record<string, unknown>): SavedConfigMeta => ({
  name: file.name as string,
  hiddenSize: file.hidden_size as number,
  modelType: file.model_type as string,
  modelName: file.model_name as string,
  modelClass: file.model_class as string,
  version: file.version as string,
});

const unwrap = <T>(result: { ok: true; value: T } | { ok: false; issues: readonly unknown[] }): T => {
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
};

const preset = (name: string, overrides: Record<string, unknown> = {}): AdapterConfig =>
  unwrap(resolveAdapterConfig([{ name, overrides }]));

const GOLDEN_ADAPTERS = [
  'seq',
  'seq2',
  'seq3',
  'seq4',
  'dbl',
  'par',
  'lora',
  'lora2',
  'lora_all',
  'ia3',
  'prefix',
  'prefix2',
  'prefix_flat',
];

describe('adapter configs against the golden AdapterHub files', () => {
  it.each(GOLDEN_ADAPTERS)('%s: reads and writes adapter_config.json byte for byte', (name) => {
    const path = join(GOLDEN, 'adapters', name, 'adapter_config.json');
    const file = readJson(path);
    const config = unwrap(adapterConfigFromFile(file));
    const written = adapterConfigFileJson(config, metaOf(file));
    expect(written).toEqual(file);
    expect(pythonJson(written, { indent: 2, floatKeys: ADAPTER_FLOAT_KEYS })).toBe(readText(path).trimEnd());
  });

  it.each([
    ['seq', 'seq_bn', { reduction_factor: 4 }],
    ['seq3', 'pfeiffer', { reduction_factor: 8, non_linearity: 'gelu' }],
    ['dbl', 'double_seq_bn', { reduction_factor: 4 }],
    ['par', 'par_bn', { reduction_factor: 4 }],
    ['lora', 'lora', { r: 4 }],
    [
      'lora_all',
      'lora',
      { r: 2, alpha: 4, attn_matrices: ['q', 'k', 'v'], intermediate_lora: true, output_lora: true },
    ],
    ['ia3', 'ia3', {}],
    ['prefix', 'prefix_tuning', { prefix_length: 5, bottleneck_size: 64 }],
    ['prefix_flat', 'prefix_tuning_flat', { prefix_length: 5 }],
  ] as const)('%s equals the preset %s with explicit keys', (name, method, overrides) => {
    const file = readJson(join(GOLDEN, 'adapters', name, 'adapter_config.json'));
    expect(adapterConfigToJson(preset(method, overrides))).toEqual(file.config);
  });

  it('knows each method family, IA³ being LoRA in scale mode', () => {
    const family = (name: string) => methodFamily(preset(name) as SingleAdapterConfig);
    expect(['seq_bn', 'houlsby', 'par_bn', 'compacter'].map(family)).toEqual([
      'bottleneck',
      'bottleneck',
      'bottleneck',
      'bottleneck',
    ]);
    expect(['lora', 'ia3', 'prefix_tuning', 'prompt_tuning'].map(family)).toEqual([
      'lora',
      'ia3',
      'prefix_tuning',
      'prompt_tuning',
    ]);
    expect(methodFamilies(ADAPTER_PRESETS.unipelt())).toEqual(['prefix_tuning', 'bottleneck', 'lora']);
  });

  it('applies the legacy fixes: activation rename without version, LoRA alpha := r before 1.1.0', () => {
    const gelu = unwrap(adapterConfigFromFile(readJson(join(FIXTURES, 'legacy/gelu/adapter_config.json'))));
    expect(gelu.architecture === 'bottleneck' && gelu.non_linearity).toBe('gelu_new');
    const lora = unwrap(
      adapterConfigFromFile(readJson(join(FIXTURES, 'legacy/lora-1.0.1/adapter_config.json'))),
    );
    expect(lora.architecture === 'lora' && [lora.r, lora.alpha]).toEqual([4, 4]);
    const current = unwrap(
      adapterConfigFromFile({ version: 'adapters.1.1.0', config: { architecture: 'lora', r: 4, alpha: 16 } }),
    );
    expect(current.architecture === 'lora' && current.alpha).toBe(16);
  });

  it('keeps unknown keys in extra and writes them back', () => {
    const config = unwrap(
      adapterConfigFromFile({
        config: { architecture: 'lora', r: 2, alpha: 2, future_key: [1] },
        version: 'adapters.1.2.0',
      }),
    );
    expect(config.architecture === 'lora' && config.extra.future_key).toEqual([1]);
    expect(adapterConfigToJson(config).future_key).toEqual([1]);
  });

  it('computes the library config hash (Pfeiffer = 9076f36a74755ac4)', () => {
    expect(configHash(ADAPTER_PRESETS.pfeiffer())).toBe('9076f36a74755ac4');
    expect(configHash(preset('seq_bn', { reduction_factor: 16 }))).toBe('9076f36a74755ac4');
    expect(configHash(preset('seq_bn', { reduction_factor: 8 }))).not.toBe('9076f36a74755ac4');
  });
});

describe('config strings and explicit keys', () => {
  it('parses name[key=value] with Python literals and | unions', () => {
    expect(
      unwrap(parseConfigString("double_seq_bn[reduction_factor=32, non_linearity='gelu', leave_out=[0, 1]]")),
    ).toEqual([
      {
        name: 'double_seq_bn',
        overrides: { reduction_factor: 32, non_linearity: 'gelu', leave_out: [0, 1] },
      },
    ]);
    expect(unwrap(parseConfigString('lora[r=4, use_gating=True]|prefix_tuning'))).toEqual([
      { name: 'lora', overrides: { r: 4, use_gating: true } },
      { name: 'prefix_tuning', overrides: {} },
    ]);
    expect(
      unwrap(parseConfigString('seq_bn[reduction_factor={"default": 16, "3": 8}]'))[0].overrides,
    ).toEqual({
      reduction_factor: { default: 16, '3': 8 },
    });
    expect(parseConfigString('seq_bn[reduction_factor=]').ok).toBe(false);
    expect(parseConfigString('seq_bn[x').ok).toBe(false);
  });

  it('builds unions and rejects same-architecture members at the same place', () => {
    const union = unwrap(resolveAdapterConfig(unwrap(parseConfigString('lora|prefix_tuning'))));
    expect(union.architecture === 'union' && union.configs.map((c) => c.architecture)).toEqual([
      'lora',
      'prefix_tuning',
    ]);
    expect(
      resolveAdapterConfig([
        { name: 'lora', overrides: {} },
        { name: 'lora', overrides: {} },
      ]).ok,
    ).toBe(false);
    expect(
      resolveAdapterConfig([
        { name: 'lora', overrides: {} },
        { name: 'lora', overrides: { leave_out: [0] } },
      ]).ok,
    ).toBe(true);
    const mam = unwrap(resolveAdapterConfig([{ name: 'mam', overrides: {} }]));
    expect(mam.architecture === 'union' && mam.configs.length).toBe(2);
  });

  it('validates explicit keys: unknown keys get a did-you-mean, values are type checked', () => {
    const unknown = resolveAdapterConfig([{ name: 'seq_bn', overrides: { reduction_factr: 8 } }]);
    expect(unknown.ok === false && unknown.issues[0]).toMatchObject({
      key: 'reduction_factr',
      hint: 'did you mean `reduction_factor`?',
    });
    const typed = resolveAdapterConfig([{ name: 'lora', overrides: { r: 1.5, attn_matrices: ['q', 'x'] } }]);
    expect(typed.ok === false && typed.issues.map((i) => i.key)).toEqual(['r', 'attn_matrices']);
    const method = resolveAdapterConfig([{ name: 'lorra', overrides: {} }]);
    expect(method.ok === false && method.issues[0].hint).toBe('did you mean `lora`?');
  });
});

describe('head configs', () => {
  it.each(['cls2', 'cls3', 'tag'])('%s: reads and writes head_config.json byte for byte', (name) => {
    const path = join(GOLDEN, 'heads', name, 'head_config.json');
    const file = readJson(path);
    const config = unwrap(headConfigFromJson(file));
    const written = headConfigFileJson(config, metaOf(file));
    expect(written).toEqual(file);
    expect(pythonJson(written, { indent: 2, floatKeys: HEAD_FLOAT_KEYS })).toBe(readText(path).trimEnd());
  });

  it('makes new heads with the add_*_head defaults', () => {
    const cls2 = readJson(join(GOLDEN, 'heads/cls2/head_config.json')).config;
    expect(
      headConfigFileJson(unwrap(resolveHeadConfig('classification', { num_labels: 2 })), metaOf({})).config,
    ).toEqual(cls2);
    const tag = readJson(join(GOLDEN, 'heads/tag/head_config.json')).config;
    expect(
      headConfigFileJson(unwrap(resolveHeadConfig('tagging', { num_labels: 4 })), metaOf({})).config,
    ).toEqual(tag);
    const mc = unwrap(resolveHeadConfig('multiple_choice', { num_choices: 4 }));
    expect([mc.num_labels, mc.layers, mc.activation_function]).toEqual([4, 2, 'tanh']);
    const qa = unwrap(resolveHeadConfig('question_answering', {}));
    expect([qa.num_labels, qa.layers]).toEqual([2, 1]);
    const custom = unwrap(
      resolveHeadConfig('classification', { num_labels: 3, layers: 1, activation: 'relu' }),
    );
    expect([custom.layers, custom.activation_function]).toEqual([1, 'relu']);
  });

  it('rejects non-positive label counts and unknown head types', () => {
    expect(resolveHeadConfig('classification', { num_labels: 0 }).ok).toBe(false);
    const typo = resolveHeadConfig('taging', {});
    expect(typo.ok === false && typo.issues[0].hint).toBe('did you mean `tagging`?');
  });
});

describe('fusion configs', () => {
  it('reads and writes adapter_fusion_config.json byte for byte; dynamic is its preset', () => {
    const path = join(GOLDEN, 'fusion/seq_seq2_seq3/adapter_fusion_config.json');
    const file = readJson(path);
    const config = unwrap(fusionConfigFromJson(file));
    expect(config).toEqual(FUSION_PRESETS.dynamic);
    const written = fusionConfigFileJson(config, file.adapter_names as string[], metaOf(file));
    expect(pythonJson(written, { indent: 2, floatKeys: FUSION_FLOAT_KEYS })).toBe(readText(path).trimEnd());
  });

  it('overrides every key of the presets and validates them', () => {
    const config = unwrap(
      resolveFusionConfig('static', { temperature: true, dropout_prob: 0.1, residual_before: true }),
    );
    expect(config).toMatchObject({
      value: false,
      temperature: true,
      dropout_prob: 0.1,
      residual_before: true,
    });
    const typo = resolveFusionConfig('dynamic', { temprature: true });
    expect(typo.ok === false && typo.issues[0].hint).toBe('did you mean `temperature`?');
    expect(resolveFusionConfig('dynamc', {}).ok).toBe(false);
  });
});

describe('pythonJson', () => {
  it('writes floats as Python does', () => {
    expect(
      pythonJson({ scaling: 1, dropout: 0.00001, x: 2 }, { floatKeys: new Set(['scaling', 'dropout']) }),
    ).toBe('{"dropout": 1e-05, "scaling": 1.0, "x": 2}');
    expect(pythonJson({ name: 'ä' })).toBe('{"name": "\\u00e4"}');
  });
});
