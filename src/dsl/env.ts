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
    hiddenSize: int(config.hidden_size) ?? int(config.d_model),
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

  const adapters = new Map<string, AdapterDecl>();
  const heads = new Map<string, HeadDecl>();
  const fusions = new Map<string, FusionDecl>();

  const declareHead = (decl: HeadDecl): void => {
    const previous = heads.get(decl.name);
    if (previous) {
      const origin = previous.fromAdapter
        ? ` (it came with the loaded adapter \`${previous.fromAdapter}\`)`
        : '';
      const hint = previous.fromAdapter
        ? `load \`${previous.fromAdapter}\` \`without head\`, or rename this head`
        : undefined;
      diagnostics.push(
        error(
          'duplicate-head',
          `head \`${decl.name}\` is already declared at ${where(previous.nameSpan, decl.nameSpan)}${origin}`,
          decl.nameSpan,
          hint,
        ),
      );
      return;
    }
    heads.set(decl.name, decl);
  };

  for (const statement of statements) {
    if (statement.kind === 'adapter') {
      const name = statement.name.name;
      const previous = adapters.get(name);
      if (previous) {
        diagnostics.push(
          error(
            'duplicate-adapter',
            `adapter \`${name}\` is already declared at ${where(previous.nameSpan, statement.name.span)}`,
            statement.name.span,
          ),
        );
        continue;
      }
      const { source } = statement;
      if (source.kind === 'load') {
        const found = findFolder(source.ref, source.span, store, 'adapter_config.json');
        if (!('dir' in found)) {
          const hint =
            store === null && !source.ref.startsWith('.')
              ? 'declare `store "<folder>"` to resolve hub ids in a local adapter store'
              : undefined;
          diagnostics.push(
            error(
              'adapter-not-found',
              `no adapter folder with adapter_config.json for "${source.ref}" (looked in ${found.looked.map((dir) => shown(source.span, dir)).join(', ')})`,
              source.span,
              hint,
            ),
          );
          adapters.set(name, {
            name,
            nameSpan: statement.name.span,
            span: statement.span,
            origin: 'load',
            dir: null,
            withHead: source.withHead,
            config: null,
            savedHiddenSize: null,
          });
          continue;
        }
        const read = readJson(join(found.dir, 'adapter_config.json'));
        const parsed: ConfigResult<AdapterConfig> = read.ok
          ? adapterConfigFromFile(read.value)
          : { ok: false, issues: [{ key: null, message: `it ${read.reason}` }] };
        if (!parsed.ok)
          diagnostics.push(
            ...parsed.issues.map((i) =>
              error(
                'adapter-config-file',
                `${shown(source.span, join(found.dir, 'adapter_config.json'))}: ${i.message}`,
                source.span,
              ),
            ),
          );
        const saved =
          read.ok && isRecord(read.value) && Number.isInteger(read.value.hidden_size)
            ? (read.value.hidden_size as number)
            : null;
        adapters.set(name, {
          name,
          nameSpan: statement.name.span,
          span: statement.span,
          origin: 'load',
          dir: found.dir,
          withHead: source.withHead,
          config: parsed.ok ? parsed.value : null,
          savedHiddenSize: saved,
        });
        if (source.withHead && fileExists(join(found.dir, 'head_config.json'))) {
          const head = readJson(join(found.dir, 'head_config.json'));
          const headConfig = head.ok ? headConfigFromJson(head.value) : null;
          if (headConfig && !headConfig.ok)
            diagnostics.push(
              ...headConfig.issues.map((i) =>
                error(
                  'head-config-file',
                  `${shown(source.span, join(found.dir, 'head_config.json'))}: ${i.message}`,
                  source.span,
                  'load the adapter `without head` to skip its head',
                ),
              ),
            );
          declareHead({
            name,
            nameSpan: statement.name.span,
            span: statement.span,
            origin: 'load',
            dir: found.dir,
            config: headConfig?.ok ? headConfig.value : null,
            fromAdapter: name,
          });
        }
        continue;
      }
      const config = newAdapterConfig(source, diagnostics);
      adapters.set(name, {
        name,
        nameSpan: statement.name.span,
        span: statement.span,
        origin: 'new',
        dir: null,
        withHead: false,
        config,
        savedHiddenSize: null,
      });
    } else if (statement.kind === 'head') {
      const { source } = statement;
      const base = {
        name: statement.name.name,
        nameSpan: statement.name.span,
        span: statement.span,
        fromAdapter: null,
      };
      if (source.kind === 'load') {
        const found = findFolder(source.ref, source.span, store, 'head_config.json');
        if (!('dir' in found)) {
          diagnostics.push(
            error(
              'head-not-found',
              `no head folder with head_config.json for "${source.ref}" (looked in ${found.looked.map((dir) => shown(source.span, dir)).join(', ')})`,
              source.span,
            ),
          );
          declareHead({ ...base, origin: 'load', dir: null, config: null });
          continue;
        }
        const read = readJson(join(found.dir, 'head_config.json'));
        const parsed: ConfigResult<HeadConfig> = read.ok
          ? headConfigFromJson(read.value)
          : { ok: false, issues: [{ key: null, message: `it ${read.reason}` }] };
        if (!parsed.ok)
          diagnostics.push(
            ...parsed.issues.map((i) =>
              error(
                'head-config-file',
                `${shown(source.span, join(found.dir, 'head_config.json'))}: ${i.message}`,
                source.span,
              ),
            ),
          );
        declareHead({ ...base, origin: 'load', dir: found.dir, config: parsed.ok ? parsed.value : null });
      } else {
        const resolved = resolveHeadConfig(source.config.name.name, kwargsToJs(source.config.args));
        if (!resolved.ok)
          diagnostics.push(
            ...issuesToDiagnostics('head-config', resolved.issues, source.config, source.span),
          );
        declareHead({ ...base, origin: 'new', dir: null, config: resolved.ok ? resolved.value : null });
      }
    } else if (statement.kind === 'fusion') {
      const name = statement.adapters.map((a) => a.name).join(',');
      const previous = fusions.get(name);
      if (previous) {
        diagnostics.push(
          error(
            'duplicate-fusion',
            `fusion \`Fuse(${statement.adapters.map((a) => a.name).join(', ')})\` is already declared at ${where(previous.span, statement.span)}`,
            statement.span,
          ),
        );
        continue;
      }
      const { source } = statement;
      if (source.kind === 'load') {
        const found = findFolder(source.ref, source.span, store, 'adapter_fusion_config.json');
        if (!('dir' in found)) {
          diagnostics.push(
            error(
              'fusion-not-found',
              `no fusion folder with adapter_fusion_config.json for "${source.ref}" (looked in ${found.looked.map((dir) => shown(source.span, dir)).join(', ')})`,
              source.span,
            ),
          );
          fusions.set(name, {
            name,
            adapters: statement.adapters,
            span: statement.span,
            origin: 'load',
            dir: null,
            config: null,
          });
          continue;
        }
        const read = readJson(join(found.dir, 'adapter_fusion_config.json'));
        const parsed: ConfigResult<FusionConfig> = read.ok
          ? fusionConfigFromJson(read.value)
          : { ok: false, issues: [{ key: null, message: `it ${read.reason}` }] };
        if (!parsed.ok)
          diagnostics.push(
            ...parsed.issues.map((i) =>
              error(
                'fusion-config-file',
                `${shown(source.span, join(found.dir, 'adapter_fusion_config.json'))}: ${i.message}`,
                source.span,
              ),
            ),
          );
        const saved = read.ok ? fusionAdapterNames(read.value) : null;
        if (saved && saved.join(',') !== name)
          diagnostics.push(
            error(
              'fusion-mismatch',
              `the fusion in ${shown(source.span, found.dir)} fuses ${saved.join(', ')}, not ${statement.adapters.map((a) => a.name).join(', ')}`,
              statement.span,
              `write \`fusion Fuse(${saved.join(', ')}) = load "${source.ref}"\``,
            ),
          );
        fusions.set(name, {
          name,
          adapters: statement.adapters,
          span: statement.span,
          origin: 'load',
          dir: found.dir,
          config: parsed.ok ? parsed.value : null,
        });
      } else {
        const resolved = resolveFusionConfig(source.config.name.name, kwargsToJs(source.config.args));
        if (!resolved.ok)
          diagnostics.push(
            ...issuesToDiagnostics('fusion-config', resolved.issues, source.config, source.span),
          );
        fusions.set(name, {
          name,
          adapters: statement.adapters,
          span: statement.span,
          origin: 'new',
          dir: null,
          config: resolved.ok ? resolved.value : null,
        });
      }
    }
  }

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
    },
    diagnostics,
  };
}
