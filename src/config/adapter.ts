// Adapter configs: the library's defaults and presets (semantics §2), the registry of config strings,
// explicit-key overrides, JSON in and out, and the method family that decides composition support.
import {
  type ConfigIssue,
  type ConfigResult,
  closestName,
  either,
  isAnything,
  isBool,
  isIntList,
  isNonNegative,
  isNullableInt,
  isNullableNumber,
  isNullableString,
  isNumber,
  isPositiveInt,
  isQkvList,
  isRecord,
  isReductionFactor,
  isString,
  oneOf,
  type Schema,
  validateOverrides,
} from './fields.ts';
import type { AdapterConfig, MethodFamily, SingleAdapterConfig } from './types.ts';

type Architecture = SingleAdapterConfig['architecture'];
type Flat = Readonly<Record<string, unknown>>;

const BN_SCHEMA: Schema = {
  mh_adapter: isBool,
  output_adapter: isBool,
  reduction_factor: isReductionFactor,
  non_linearity: isString,
  original_ln_before: isBool,
  original_ln_after: isBool,
  residual_before_ln: either(isBool, oneOf('post_add')),
  adapter_residual_before_ln: isBool,
  ln_before: isBool,
  ln_after: isBool,
  init_weights: oneOf('bert', 'mam_adapter', 'houlsby'),
  is_parallel: isBool,
  scaling: either(isNumber, oneOf('learned', 'channel')),
  use_gating: isBool,
  leave_out: isIntList,
  dropout: isNonNegative,
  phm_layer: isBool,
  cross_adapter: isBool,
  factorized_phm_W: isBool,
  factorized_phm_rule: isBool,
  hypercomplex_nonlinearity: isString,
  inv_adapter: either(oneOf(null), oneOf('nice', 'glow')),
  inv_adapter_reduction_factor: isNullableNumber,
  learn_phm: isBool,
  phm_bias: isBool,
  phm_c_init: oneOf('normal', 'uniform'),
  phm_dim: isPositiveInt,
  phm_init_range: isNumber,
  phm_rank: isPositiveInt,
  shared_W_phm: isBool,
  shared_phm_rule: isBool,
  stochastic_depth: isNonNegative,
  init_weights_seed: isNullableInt,
};

const LORA_SCHEMA: Schema = {
  selfattn_lora: isBool,
  intermediate_lora: isBool,
  output_lora: isBool,
  leave_out: isIntList,
  r: isPositiveInt,
  alpha: isNumber,
  dropout: isNonNegative,
  attn_matrices: isQkvList,
  composition_mode: oneOf('add', 'scale'),
  init_weights: oneOf('lora', 'bert', 'ia3', 'vera'),
  use_gating: isBool,
  dtype: isNullableString,
  use_dora: isBool,
  vera_d: isNullableNumber,
  vera_b: isNullableNumber,
  init_weights_seed: isNullableInt,
};

const PREFIX_SCHEMA: Schema = {
  encoder_prefix: isBool,
  cross_prefix: isBool,
  leave_out: isIntList,
  flat: isBool,
  prefix_length: isPositiveInt,
  bottleneck_size: isPositiveInt,
  non_linearity: isString,
  dropout: isNonNegative,
  use_gating: isBool,
  shared_gating: isBool,
  init_weights_seed: isNullableInt,
};

const PROMPT_SCHEMA: Schema = {
  prompt_length: isPositiveInt,
  prompt_init: oneOf('random_uniform', 'from_string'),
  prompt_init_text: isNullableString,
  combine: oneOf('prefix', 'prefix_after_bos'),
  leave_out: isIntList,
  init_weights_seed: isNullableInt,
};

export const ADAPTER_SCHEMAS: Readonly<Record<Architecture, Schema>> = {
  bottleneck: BN_SCHEMA,
  lora: LORA_SCHEMA,
  prefix_tuning: PREFIX_SCHEMA,
  prompt_tuning: PROMPT_SCHEMA,
};

/** Keys that are typed fields of each config interface; every other key lives in `extra`. */
const TYPED_KEYS: Readonly<Record<Architecture, readonly string[]>> = {
  bottleneck: [
    'mh_adapter',
    'output_adapter',
    'reduction_factor',
    'non_linearity',
    'original_ln_before',
    'original_ln_after',
    'residual_before_ln',
    'adapter_residual_before_ln',
    'ln_before',
    'ln_after',
    'init_weights',
    'is_parallel',
    'scaling',
    'use_gating',
    'leave_out',
    'dropout',
    'phm_layer',
  ],
  lora: [
    'selfattn_lora',
    'intermediate_lora',
    'output_lora',
    'leave_out',
    'r',
    'alpha',
    'dropout',
    'attn_matrices',
    'composition_mode',
    'init_weights',
    'use_gating',
  ],
  prefix_tuning: [
    'encoder_prefix',
    'cross_prefix',
    'leave_out',
    'flat',
    'prefix_length',
    'bottleneck_size',
    'non_linearity',
    'dropout',
    'use_gating',
    'shared_gating',
  ],
  prompt_tuning: ['prompt_length', 'prompt_init', 'prompt_init_text', 'combine', 'leave_out'],
};

/** Keys whose numbers the library writes as Python floats. */
export const ADAPTER_FLOAT_KEYS: ReadonlySet<string> = new Set([
  'scaling',
  'dropout',
  'phm_init_range',
  'stochastic_depth',
  'vera_d',
  'vera_b',
]);

/** Defaults of every key each class serializes (library 1.1.0 field set, as in the golden files). */
const DEFAULTS: Readonly<Record<Architecture, Flat>> = {
  bottleneck: {
    mh_adapter: false,
    output_adapter: true,
    reduction_factor: 16,
    non_linearity: 'relu',
    original_ln_before: false,
    original_ln_after: true,
    residual_before_ln: true,
    adapter_residual_before_ln: false,
    ln_before: false,
    ln_after: false,
    init_weights: 'bert',
    is_parallel: false,
    scaling: 1.0,
    use_gating: false,
    leave_out: [],
    dropout: 0.0,
    phm_layer: false,
    cross_adapter: false,
    factorized_phm_W: true,
    factorized_phm_rule: false,
    hypercomplex_nonlinearity: 'glorot-uniform',
    inv_adapter: null,
    inv_adapter_reduction_factor: null,
    learn_phm: true,
    phm_bias: true,
    phm_c_init: 'normal',
    phm_dim: 4,
    phm_init_range: 0.0001,
    phm_rank: 1,
    shared_W_phm: false,
    shared_phm_rule: true,
    stochastic_depth: 0.0,
  },
  lora: {
    selfattn_lora: true,
    intermediate_lora: false,
    output_lora: false,
    leave_out: [],
    r: 8,
    alpha: 8,
    dropout: 0.0,
    attn_matrices: ['q', 'v'],
    composition_mode: 'add',
    init_weights: 'lora',
    use_gating: false,
    dtype: null,
  },
  prefix_tuning: {
    encoder_prefix: true,
    cross_prefix: true,
    leave_out: [],
    flat: false,
    prefix_length: 30,
    bottleneck_size: 512,
    non_linearity: 'tanh',
    dropout: 0.0,
    use_gating: false,
    shared_gating: true,
  },
  prompt_tuning: {
    prompt_length: 10,
    prompt_init: 'random_uniform',
    prompt_init_text: null,
    combine: 'prefix',
    leave_out: [],
  },
};

/** Splits a flat key→value record into the typed fields and `extra` of one config interface. */
function fromFlat(architecture: Architecture, flat: Flat): SingleAdapterConfig {
  const typedKeys = new Set(TYPED_KEYS[architecture]);
  const typed: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (key === 'architecture') continue;
    (typedKeys.has(key) ? typed : extra)[key] = value;
  }
  return { architecture, ...typed, extra } as unknown as SingleAdapterConfig;
}

function toFlat(config: SingleAdapterConfig): Flat {
  const { architecture: _architecture, extra, ...typed } = config;
  return { ...typed, ...extra };
}

const make = (architecture: Architecture, overrides: Flat = {}): SingleAdapterConfig =>
  fromFlat(architecture, { ...DEFAULTS[architecture], ...overrides });

const SEQ_BN: Flat = { original_ln_before: true };
const DOUBLE_SEQ_BN: Flat = { mh_adapter: true, non_linearity: 'swish' };
const PAR_BN: Flat = { reduction_factor: 2, is_parallel: true, scaling: 4.0, init_weights: 'mam_adapter' };
const INVERTIBLE: Flat = { inv_adapter: 'nice', inv_adapter_reduction_factor: 2 };
const COMPACTER: Flat = { reduction_factor: 32, non_linearity: 'gelu', phm_layer: true };
const IA3: Flat = {
  intermediate_lora: true,
  attn_matrices: ['k', 'v'],
  composition_mode: 'scale',
  r: 1,
  alpha: 1,
  init_weights: 'ia3',
};
const VERA: Flat = { vera_d: 0.1, vera_b: 0.0, init_weights: 'vera' };

/** AdapterHub's registered config strings (ADAPTER_CONFIG_MAP). */
export const ADAPTER_PRESETS: Readonly<Record<string, () => AdapterConfig>> = {
  seq_bn: () => make('bottleneck', SEQ_BN),
  pfeiffer: () => make('bottleneck', SEQ_BN),
  double_seq_bn: () => make('bottleneck', DOUBLE_SEQ_BN),
  houlsby: () => make('bottleneck', DOUBLE_SEQ_BN),
  par_bn: () => make('bottleneck', PAR_BN),
  parallel: () => make('bottleneck', PAR_BN),
  scaled_par_bn: () => make('bottleneck', { ...PAR_BN, scaling: 'learned' }),
  scaled_parallel: () => make('bottleneck', { ...PAR_BN, scaling: 'learned' }),
  seq_bn_inv: () => make('bottleneck', { ...SEQ_BN, ...INVERTIBLE }),
  'pfeiffer+inv': () => make('bottleneck', { ...SEQ_BN, ...INVERTIBLE }),
  double_seq_bn_inv: () => make('bottleneck', { ...DOUBLE_SEQ_BN, ...INVERTIBLE }),
  'houlsby+inv': () => make('bottleneck', { ...DOUBLE_SEQ_BN, ...INVERTIBLE }),
  'compacter++': () => make('bottleneck', { ...SEQ_BN, ...COMPACTER }),
  compacter: () => make('bottleneck', { ...DOUBLE_SEQ_BN, ...COMPACTER }),
  prefix_tuning: () => make('prefix_tuning'),
  prefix_tuning_flat: () => make('prefix_tuning', { flat: true }),
  prompt_tuning: () => make('prompt_tuning'),
  lora: () => make('lora'),
  ia3: () => make('lora', IA3),
  vera: () => make('lora', VERA),
  dora: () => make('lora', { use_dora: true }),
  dvora: () => make('lora', { ...VERA, use_dora: true }),
  mam: () => ({
    architecture: 'union',
    configs: [make('prefix_tuning', { bottleneck_size: 800 }), make('bottleneck', PAR_BN)],
  }),
  unipelt: () => ({
    architecture: 'union',
    configs: [
      make('prefix_tuning', { prefix_length: 10, use_gating: true }),
      make('bottleneck', { ...SEQ_BN, use_gating: true }),
      make('lora', { r: 8, alpha: 2, use_gating: true }),
    ],
  }),
};

/** Registered methods adaptc does not implement: named so that the checker can say so plainly. */
export const UNSUPPORTED_METHODS: ReadonlySet<string> = new Set(['mtl_lora', 'loreft', 'noreft', 'direft']);

/** A method with explicit keys, as in `lora(r: 8)` or `seq_bn[reduction_factor=32]`. */
export interface MethodSpec {
  readonly name: string;
  readonly overrides: Flat;
}

/** Applies validated overrides to one single config. */
export function withOverrides(
  config: SingleAdapterConfig,
  overrides: Flat,
  what: string,
): ConfigResult<SingleAdapterConfig> {
  const issues = validateOverrides(what, ADAPTER_SCHEMAS[config.architecture], overrides);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: fromFlat(config.architecture, { ...toFlat(config), ...overrides }) };
}

/** Resolves one or several method specs (several make a union) into a config, like AdapterConfig.load. */
export function resolveAdapterConfig(specs: readonly MethodSpec[]): ConfigResult<AdapterConfig> {
  const issues: ConfigIssue[] = [];
  const members: SingleAdapterConfig[] = [];
  for (const spec of specs) {
    const preset = ADAPTER_PRESETS[spec.name];
    if (!preset) {
      issues.push(unknownMethodIssue(spec.name));
      continue;
    }
    const base = preset();
    if (base.architecture === 'union') {
      if (specs.length > 1)
        issues.push({
          key: null,
          message: `\`${spec.name}\` is itself a union and cannot be nested in a union`,
        });
      else if (Object.keys(spec.overrides).length > 0)
        issues.push({ key: null, message: `\`${spec.name}\` is a union; set keys on its members instead` });
      else members.push(...base.configs);
      if (specs.length === 1) return issues.length > 0 ? { ok: false, issues } : { ok: true, value: base };
      continue;
    }
    const result = withOverrides(base, spec.overrides, `\`${spec.name}\``);
    if (result.ok) members.push(result.value);
    else issues.push(...result.issues);
  }
  if (issues.length > 0) return { ok: false, issues };
  if (members.length === 1) return { ok: true, value: members[0] };
  const unionIssues = validateUnion(members);
  return unionIssues.length > 0
    ? { ok: false, issues: unionIssues }
    : { ok: true, value: { architecture: 'union', configs: members } };
}

function unknownMethodIssue(name: string): ConfigIssue {
  if (UNSUPPORTED_METHODS.has(name))
    return { key: null, message: `the method \`${name}\` is not supported by adaptc` };
  const names = Object.keys(ADAPTER_PRESETS);
  const suggestion = closestName(name, names);
  return {
    key: null,
    message: `unknown adapter method \`${name}\``,
    hint: suggestion ? `did you mean \`${suggestion}\`?` : `known methods: ${names.join(', ')}`,
  };
}

/** ConfigUnion's rule: same-architecture members need leave_out, or bottlenecks at disjoint locations. */
export function validateUnion(members: readonly SingleAdapterConfig[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  members.forEach((a, i) => {
    members.slice(i + 1).forEach((b) => {
      if (a.architecture !== b.architecture) return;
      if (a.leave_out.length > 0 || b.leave_out.length > 0) return;
      if (
        a.architecture === 'bottleneck' &&
        b.architecture === 'bottleneck' &&
        a.mh_adapter !== b.mh_adapter &&
        a.output_adapter !== b.output_adapter
      )
        return;
      issues.push({
        key: null,
        message: `a union cannot hold two ${a.architecture} configs at the same locations`,
        hint: 'give one of them `leave_out`, or (bottleneck) put them at different locations',
      });
    });
  });
  return issues;
}

/** The method family of one config (semantics §1.2): IA³ is LoRA with composition_mode "scale". */
export function methodFamily(config: SingleAdapterConfig): MethodFamily {
  if (config.architecture === 'lora') return config.composition_mode === 'scale' ? 'ia3' : 'lora';
  return config.architecture;
}

/** Every family of a config; a union has one per member. */
export function methodFamilies(config: AdapterConfig): readonly MethodFamily[] {
  return config.architecture === 'union'
    ? [...new Set(config.configs.map(methodFamily))]
    : [methodFamily(config)];
}

export function singleConfigs(config: AdapterConfig): readonly SingleAdapterConfig[] {
  return config.architecture === 'union' ? config.configs : [config];
}

/** Where in a layer a config puts modules; two configs composed in one block must agree (see the checker). */
export function adapterLocations(config: SingleAdapterConfig): readonly string[] {
  switch (config.architecture) {
    case 'bottleneck': {
      const kind = config.is_parallel ? 'parallel-bottleneck' : 'bottleneck';
      return [
        ...(config.mh_adapter ? [`${kind}@attention`] : []),
        ...(config.output_adapter ? [`${kind}@output`] : []),
      ];
    }
    case 'lora': {
      const kind = config.composition_mode === 'scale' ? 'ia3' : 'lora';
      return [
        ...(config.selfattn_lora ? config.attn_matrices.map((m) => `${kind}@${m}`) : []),
        ...(config.intermediate_lora ? [`${kind}@intermediate`] : []),
        ...(config.output_lora ? [`${kind}@output`] : []),
      ];
    }
    case 'prefix_tuning':
      return ['prefix@self-attention'];
    case 'prompt_tuning':
      return ['prompt@embeddings'];
  }
}

// ---- JSON ----

/** The `config` object of adapter_config.json (the library's to_dict()). */
export function adapterConfigToJson(config: AdapterConfig): Record<string, unknown> {
  if (config.architecture === 'union')
    return { architecture: 'union', configs: config.configs.map(adapterConfigToJson) };
  const flat = toFlat(config);
  return config.architecture === 'bottleneck' ? { ...flat } : { architecture: config.architecture, ...flat };
}

const ARCHITECTURES: Readonly<Record<string, Architecture>> = {
  lora: 'lora',
  prefix_tuning: 'prefix_tuning',
  prompt_tuning: 'prompt_tuning',
};

const BN_REQUIRED = ['mh_adapter', 'output_adapter', 'reduction_factor', 'non_linearity'];

/** Reads the library's config dict; missing keys take the class defaults, unknown keys go to `extra`. */
export function adapterConfigFromJson(json: unknown): ConfigResult<AdapterConfig> {
  if (!isRecord(json))
    return { ok: false, issues: [{ key: null, message: 'an adapter config must be a JSON object' }] };
  const arch = json.architecture;
  if (arch === 'union') {
    if (!Array.isArray(json.configs))
      return { ok: false, issues: [{ key: 'configs', message: 'a union config needs a `configs` list' }] };
    const members = json.configs.map(adapterConfigFromJson);
    const issues = members.flatMap((m) => (m.ok ? [] : m.issues));
    if (issues.length > 0) return { ok: false, issues };
    const configs = members.flatMap((m) => (m.ok && m.value.architecture !== 'union' ? [m.value] : []));
    if (configs.length !== members.length)
      return { ok: false, issues: [{ key: 'configs', message: 'a union cannot contain another union' }] };
    return { ok: true, value: { architecture: 'union', configs } };
  }
  const architecture = arch === undefined || arch === null ? 'bottleneck' : ARCHITECTURES[String(arch)];
  if (!architecture)
    return {
      ok: false,
      issues: [{ key: 'architecture', message: `unsupported adapter architecture ${JSON.stringify(arch)}` }],
    };
  const { architecture: _a, ...rest } = json;
  if (architecture === 'bottleneck') {
    const missing = BN_REQUIRED.filter((key) => !(key in rest));
    if (missing.length > 0)
      return {
        ok: false,
        issues: [{ key: null, message: `bottleneck config lacks required keys: ${missing.join(', ')}` }],
      };
  }
  const schema = ADAPTER_SCHEMAS[architecture];
  const issues = Object.entries(rest).flatMap(([key, value]): ConfigIssue[] => {
    const problem = (schema[key] ?? isAnything)(value);
    return problem ? [{ key, message: `\`${key}\`: ${problem}, got ${JSON.stringify(value)}` }] : [];
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: fromFlat(architecture, { ...DEFAULTS[architecture], ...rest }) };
}

const ACTIVATION_RENAME: Readonly<Record<string, string>> = { gelu: 'gelu_new', gelu_orig: 'gelu' };

/** Library versions (adapters.0.1.0 up to, not including, 1.1.0) that ignored LoRA alpha in the forward. */
function ignoredLoraAlpha(version: string): boolean {
  const match = /^adapters\.(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major === 0 || (major === 1 && minor < 1);
}

/** Legacy fixes the library applies on load (semantics §6), on the raw config dict. */
function applyLegacyFixes(config: unknown, version: string | null): unknown {
  if (!isRecord(config)) return config;
  if (config.architecture === 'union' && Array.isArray(config.configs))
    return { ...config, configs: config.configs.map((c) => applyLegacyFixes(c, version)) };
  let fixed = config;
  if (version === null && typeof fixed.non_linearity === 'string' && fixed.non_linearity in ACTIVATION_RENAME)
    fixed = { ...fixed, non_linearity: ACTIVATION_RENAME[fixed.non_linearity] };
  if (
    version !== null &&
    ignoredLoraAlpha(version) &&
    fixed.architecture === 'lora' &&
    fixed.r !== fixed.alpha
  )
    fixed = { ...fixed, alpha: fixed.r };
  return fixed;
}

/** Metadata the library writes next to a config in adapter_config.json / head / fusion files. */
export interface SavedConfigMeta {
  readonly name: string;
  readonly hiddenSize: number;
  readonly modelType: string;
  readonly modelName: string;
  readonly modelClass?: string;
  readonly version?: string;
}

export const LIBRARY_VERSION = 'adapters.1.1.0';

/** Reads a whole adapter_config.json (or a bare config dict), applying the library's legacy fixes. */
export function adapterConfigFromFile(fileJson: unknown): ConfigResult<AdapterConfig> {
  if (!isRecord(fileJson))
    return { ok: false, issues: [{ key: null, message: 'adapter_config.json must hold a JSON object' }] };
  const version = typeof fileJson.version === 'string' ? fileJson.version : null;
  const config = 'config' in fileJson ? fileJson.config : fileJson;
  return adapterConfigFromJson(applyLegacyFixes(config, version));
}

export function savedFileJson(
  config: Record<string, unknown>,
  meta: SavedConfigMeta,
): Record<string, unknown> {
  return {
    config,
    hidden_size: meta.hiddenSize,
    model_class: meta.modelClass ?? 'BertAdapterModel',
    model_name: meta.modelName,
    model_type: meta.modelType,
    name: meta.name,
    version: meta.version ?? LIBRARY_VERSION,
  };
}

/** The whole adapter_config.json object, as save_adapter writes it. */
export function adapterConfigFileJson(config: AdapterConfig, meta: SavedConfigMeta): Record<string, unknown> {
  return savedFileJson(adapterConfigToJson(config), meta);
}
