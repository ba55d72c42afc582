// The checker's environment: every declaration of the program resolved once (folders found, config
// JSON read, configs normalized), with the diagnostics found on the way. Rules then only read it.
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import {
  type AdapterConfig,
  adapterConfigFromFile,
  type ConfigIssue,
  type ConfigResult,
  type FusionConfig,
  fusionAdapterNames,
  fusionConfigFromJson,
  type HeadConfig,
  headConfigFromJson,
  isRecord,
  type MethodSpec,
  parseConfigString,
  resolveAdapterConfig,
  resolveFusionConfig,
  resolveHeadConfig,
} from '../config/index.ts';
import type { ConfigCall, Ident, Span, Statement } from './ast.ts';
import { kwargsToJs } from './composition.ts';
import { type Diagnostic, error } from './diagnostics.ts';
import { fileExists, isDirectory, readJson, relativeTo } from './load.ts';

export type SetupStatement = Extract<Statement, { kind: 'setup' }>;
export type TrainStatement = Extract<Statement, { kind: 'train' }>;
export type MergeStatement = Extract<Statement, { kind: 'merge' }>;

export interface ModelInfo {
  readonly dir: string;
  readonly span: Span;
  /** From config.json; null when the file could not be read. */
  readonly modelType: string | null;
  readonly numLayers: number | null;
  readonly hiddenSize: number | null;
}

export interface AdapterDecl {
  readonly name: string;
  readonly nameSpan: Span;
  readonly span: Span;
  readonly origin: 'load' | 'new';
  readonly dir: string | null;
  readonly withHead: boolean;
  /** Null when the config could not be resolved (a diagnostic says why). */
  readonly config: AdapterConfig | null;
  /** hidden_size recorded in a loaded adapter_config.json. */
  readonly savedHiddenSize: number | null;
}

export interface HeadDecl {
  readonly name: string;
  readonly nameSpan: Span;
  readonly span: Span;
  readonly origin: 'load' | 'new';
  readonly dir: string | null;
  readonly config: HeadConfig | null;
  /** Set when the head came with a loaded adapter (its folder had head_config.json). */
  readonly fromAdapter: string | null;
}

export interface FusionDecl {
  readonly name: string;
  readonly adapters: readonly Ident[];
  readonly span: Span;
  readonly origin: 'load' | 'new';
  readonly dir: string | null;
  readonly config: FusionConfig | null;
}

export interface Env {
  readonly statements: readonly Statement[];
  readonly models: readonly Extract<Statement, { kind: 'model' }>[];
  readonly model: ModelInfo | null;
  readonly stores: readonly Extract<Statement, { kind: 'store' }>[];
  readonly store: string | null;
  readonly adapters: ReadonlyMap<string, AdapterDecl>;
  readonly heads: ReadonlyMap<string, HeadDecl>;
  readonly fusions: ReadonlyMap<string, FusionDecl>;
  readonly setups: readonly SetupStatement[];
  readonly trains: readonly TrainStatement[];
  readonly merges: readonly MergeStatement[];
}

/** Where an earlier declaration is, as seen from a later one: `line 3:9`, or `common.adapt:3:9` in another file. */
const where = (span: Span, from: Span): string =>
  span.file === from.file
    ? `line ${span.line}:${span.column}`
    : `${basename(span.file)}:${span.line}:${span.column}`;

/** A path as the .adapt file that names it would write it. */
const shown = (from: Span, path: string): string => relative(dirname(from.file), path) || '.';

/** Finds the span of the argument an issue is about, falling back to the call's name. */
function issueSpan(issue: ConfigIssue, call: ConfigCall | null, fallback: Span): Span {
  if (!call) return fallback;
  const arg = issue.key === null ? undefined : call.args.find((a) => a.key.name === issue.key);
  return arg ? arg.key.span : call.name.span;
}

const issuesToDiagnostics = (
  code: string,
  issues: readonly ConfigIssue[],
  call: ConfigCall | null,
  fallback: Span,
): Diagnostic[] =>
  issues.map((issue) => error(code, issue.message, issueSpan(issue, call, fallback), issue.hint));

/** Local folder first for paths, the adapter store first for hub ids (`task/sub@org`, `Org/repo`). */
function findFolder(
  ref: string,
  span: Span,
  store: string | null,
  marker: string,
): { dir: string } | { looked: string[] } {
  const local = relativeTo(span, ref);
  const inStore = store === null || isAbsolute(ref) || ref.startsWith('.') ? null : join(store, ref);
  const candidates = [inStore, local].filter((c): c is string => c !== null);
  const found = candidates.find((dir) => isDirectory(dir) && fileExists(join(dir, marker)));
  return found ? { dir: found } : { looked: candidates };
}

function readModel(statement: Extract<Statement, { kind: 'model' }>, diagnostics: Diagnostic[]): ModelInfo {
  const dir = relativeTo(statement.span, statement.path);
  const read = readJson(join(dir, 'config.json'));
  if (!read.ok || !isRecord(read.value)) {
    diagnostics.push(
      error(
        'model-not-found',
        `cannot read the model: ${shown(statement.span, join(dir, 'config.json'))} ${read.ok ? 'is not a JSON object' : read.reason}`,
        statement.span,
        'the model is a Hugging Face model folder with config.json',
      ),
    );
    return { dir, span: statement.span, modelType: null, numLayers: null, hiddenSize: null };
  }
  const config = read.value;
  const int = (v: unknown): number | null => (Number.isInteger(v) ? (v as number) : null);
  const numLayers = int(config.num_hidden_layers) ?? int(config.num_layers) ?? int(config.n_layer);
  if (numLayers === null)
    diagnostics.push(
      error('model-not-found', "the model's config.json has no num_hidden_layers", statement.span),
    );
  return {
    dir,
    span: statement.span,
    modelType: typeof config.model_type === 'string' ? config.model_type : null,
    numLayers,
    hiddenSize: int(config.hidden_size) ?? int(config.d_model) ?? int(config.n_embd),
  };
}

function specsOf(call: ConfigCall): MethodSpec {
  return { name: call.name.name, overrides: kwargsToJs(call.args) };
}

function newAdapterConfig(
  source: Extract<Statement, { kind: 'adapter' }>['source'],
  diagnostics: Diagnostic[],
): AdapterConfig | null {
  if (source.kind === 'config-string') {
    const parsed = parseConfigString(source.text);
    const resolved: ConfigResult<AdapterConfig> = parsed.ok ? resolveAdapterConfig(parsed.value) : parsed;
    if (resolved.ok) return resolved.value;
    diagnostics.push(...issuesToDiagnostics('adapter-config', resolved.issues, null, source.span));
    return null;
  }
  if (source.kind !== 'new') return null;
  // Each member alone first, so that a bad key is reported on that member's argument.
  const memberIssues = source.configs.flatMap((call) => {
    const result = resolveAdapterConfig([specsOf(call)]);
    return result.ok ? [] : issuesToDiagnostics('adapter-config', result.issues, call, call.name.span);
  });
  if (memberIssues.length > 0) {
    diagnostics.push(...memberIssues);
    return null;
  }
  const resolved = resolveAdapterConfig(source.configs.map(specsOf));
  if (resolved.ok) return resolved.value;
  diagnostics.push(...issuesToDiagnostics('adapter-config', resolved.issues, null, source.span));
  return null;
}

const CONFIG_FILES = {
  adapter: 'adapter_config.json',
  head: 'head_config.json',
  fusion: 'adapter_fusion_config.json',
} as const;

type Kind = keyof typeof CONFIG_FILES;

/** The declarations being collected, and the diagnostics found on the way. */
interface Declarations {
  readonly store: string | null;
  readonly adapters: Map<string, AdapterDecl>;
  readonly heads: Map<string, HeadDecl>;
  readonly fusions: Map<string, FusionDecl>;
  readonly diagnostics: Diagnostic[];
}

/** Reads and parses one config file of a found folder; problems become diagnostics on `span`. */
function readConfigFile<T>(
  kind: Kind,
  dir: string,
  span: Span,
  parse: (json: unknown) => ConfigResult<T>,
  diagnostics: Diagnostic[],
  hint?: string,
): { readonly json: unknown; readonly config: T | null } {
  const path = join(dir, CONFIG_FILES[kind]);
  const read = readJson(path);
  const parsed: ConfigResult<T> = read.ok
    ? parse(read.value)
    : { ok: false, issues: [{ key: null, message: `it ${read.reason}` }] };
  if (!parsed.ok)
    diagnostics.push(
      ...parsed.issues.map((i) =>
        error(`${kind}-config-file`, `${shown(span, path)}: ${i.message}`, span, hint),
      ),
    );
  return { json: read.ok ? read.value : null, config: parsed.ok ? parsed.value : null };
}

/** `load "ref"`: finds the folder (a local path or a hub id in the store) and reads its config file. */
function loadFolder<T>(
  kind: Kind,
  source: { readonly ref: string; readonly span: Span },
  parse: (json: unknown) => ConfigResult<T>,
  decls: Declarations,
): { readonly dir: string | null; readonly json: unknown; readonly config: T | null } {
  const found = findFolder(source.ref, source.span, decls.store, CONFIG_FILES[kind]);
  if ('dir' in found)
    return { dir: found.dir, ...readConfigFile(kind, found.dir, source.span, parse, decls.diagnostics) };
  const looked = found.looked.map((dir) => shown(source.span, dir)).join(', ');
  const hint =
    decls.store === null && !source.ref.startsWith('.')
      ? 'declare `store "<folder>"` to resolve hub ids in a local adapter store'
      : undefined;
  decls.diagnostics.push(
    error(
      `${kind}-not-found`,
      `no ${kind} folder with ${CONFIG_FILES[kind]} for "${source.ref}" (looked in ${looked})`,
      source.span,
      hint,
    ),
  );
  return { dir: null, json: null, config: null };
}

function declareHead(decl: HeadDecl, decls: Declarations): void {
  const previous = decls.heads.get(decl.name);
  if (!previous) {
    decls.heads.set(decl.name, decl);
    return;
  }
  const origin = previous.fromAdapter ? ` (it came with the loaded adapter \`${previous.fromAdapter}\`)` : '';
  const hint = previous.fromAdapter
    ? `load \`${previous.fromAdapter}\` \`without head\`, or rename this head`
    : undefined;
  const message = `head \`${decl.name}\` is already declared at ${where(previous.nameSpan, decl.nameSpan)}${origin}`;
  decls.diagnostics.push(error('duplicate-head', message, decl.nameSpan, hint));
}

function declareAdapter(statement: Extract<Statement, { kind: 'adapter' }>, decls: Declarations): void {
  const { name: ident, source } = statement;
  const previous = decls.adapters.get(ident.name);
  if (previous) {
    const message = `adapter \`${ident.name}\` is already declared at ${where(previous.nameSpan, ident.span)}`;
    decls.diagnostics.push(error('duplicate-adapter', message, ident.span));
    return;
  }
  const base = { name: ident.name, nameSpan: ident.span, span: statement.span };
  if (source.kind !== 'load') {
    const config = newAdapterConfig(source, decls.diagnostics);
    decls.adapters.set(ident.name, {
      ...base,
      origin: 'new',
      dir: null,
      withHead: false,
      config,
      savedHiddenSize: null,
    });
    return;
  }
  const { dir, json, config } = loadFolder('adapter', source, adapterConfigFromFile, decls);
  const savedHiddenSize =
    isRecord(json) && Number.isInteger(json.hidden_size) ? (json.hidden_size as number) : null;
  decls.adapters.set(ident.name, {
    ...base,
    origin: 'load',
    dir,
    withHead: source.withHead,
    config,
    savedHiddenSize,
  });
  // load_adapter(with_head=True) also loads the head saved next to the adapter, under the adapter's name.
  if (dir !== null && source.withHead && fileExists(join(dir, CONFIG_FILES.head))) {
    const hint = 'load the adapter `without head` to skip its head';
    const head = readConfigFile('head', dir, source.span, headConfigFromJson, decls.diagnostics, hint);
    declareHead({ ...base, origin: 'load', dir, config: head.config, fromAdapter: ident.name }, decls);
  }
}

function declareHeadStatement(statement: Extract<Statement, { kind: 'head' }>, decls: Declarations): void {
  const { source } = statement;
  const base = {
    name: statement.name.name,
    nameSpan: statement.name.span,
    span: statement.span,
    fromAdapter: null,
  };
  if (source.kind === 'load') {
    const { dir, config } = loadFolder('head', source, headConfigFromJson, decls);
    declareHead({ ...base, origin: 'load', dir, config }, decls);
    return;
  }
  const resolved = resolveHeadConfig(source.config.name.name, kwargsToJs(source.config.args));
  if (!resolved.ok)
    decls.diagnostics.push(
      ...issuesToDiagnostics('head-config', resolved.issues, source.config, source.span),
    );
  declareHead({ ...base, origin: 'new', dir: null, config: resolved.ok ? resolved.value : null }, decls);
}

function declareFusion(statement: Extract<Statement, { kind: 'fusion' }>, decls: Declarations): void {
  const { adapters, source } = statement;
  const name = adapters.map((a) => a.name).join(',');
  const listed = adapters.map((a) => a.name).join(', ');
  const previous = decls.fusions.get(name);
  if (previous) {
    const message = `fusion \`Fuse(${listed})\` is already declared at ${where(previous.span, statement.span)}`;
    decls.diagnostics.push(error('duplicate-fusion', message, statement.span));
    return;
  }
  const base = { name, adapters, span: statement.span };
  if (source.kind !== 'load') {
    const resolved = resolveFusionConfig(source.config.name.name, kwargsToJs(source.config.args));
    if (!resolved.ok)
      decls.diagnostics.push(
        ...issuesToDiagnostics('fusion-config', resolved.issues, source.config, source.span),
      );
    decls.fusions.set(name, {
      ...base,
      origin: 'new',
      dir: null,
      config: resolved.ok ? resolved.value : null,
    });
    return;
  }
  const { dir, json, config } = loadFolder('fusion', source, fusionConfigFromJson, decls);
  const saved = dir === null ? null : fusionAdapterNames(json);
  if (dir !== null && saved && saved.join(',') !== name) {
    const message = `the fusion in ${shown(source.span, dir)} fuses ${saved.join(', ')}, not ${listed}`;
    const hint = `write \`fusion Fuse(${saved.join(', ')}) = load "${source.ref}"\``;
    decls.diagnostics.push(error('fusion-mismatch', message, statement.span, hint));
  }
  decls.fusions.set(name, { ...base, origin: 'load', dir, config });
}

export function buildEnv(statements: readonly Statement[]): { env: Env; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const models = statements.filter((s): s is Extract<Statement, { kind: 'model' }> => s.kind === 'model');
  const stores = statements.filter((s): s is Extract<Statement, { kind: 'store' }> => s.kind === 'store');
  const model = models.length > 0 ? readModel(models[0], diagnostics) : null;
  const store = stores.length > 0 ? relativeTo(stores[0].span, stores[0].path) : null;
  if (store !== null && !isDirectory(store))
    diagnostics.push(
      error('store-not-found', `the adapter store ${stores[0].path} is not a folder`, stores[0].span),
    );
  const decls: Declarations = {
    store,
    adapters: new Map(),
    heads: new Map(),
    fusions: new Map(),
    diagnostics,
  };
  for (const statement of statements) {
    if (statement.kind === 'adapter') declareAdapter(statement, decls);
    else if (statement.kind === 'head') declareHeadStatement(statement, decls);
    else if (statement.kind === 'fusion') declareFusion(statement, decls);
  }
  const { adapters, heads, fusions } = decls;

  return {
    env: {
      statements,
      models,
      model,
      stores,
      store,
      adapters,
      heads,
      fusions,
      setups: statements.filter((s): s is SetupStatement => s.kind === 'setup'),
      trains: statements.filter((s): s is TrainStatement => s.kind === 'train'),
      merges: statements.filter((s): s is MergeStatement => s.kind === 'merge'),
    },
    diagnostics,
  };
}
