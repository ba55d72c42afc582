// The checker: loads a root file and its includes, resolves every declaration (env.ts), runs every rule
// (rules.ts) and, when nothing is wrong, builds the CheckedProgram that lowering consumes.
import { resolve } from 'node:path';
import type { Span } from './ast.ts';
import type {
  CheckedAdapter,
  CheckedFusion,
  CheckedHead,
  CheckedProgram,
  CheckedTraining,
} from './checked.ts';
import { expandLayers, inferHeads, toComposition } from './composition.ts';
import { type Diagnostic, error, hasErrors, sortDiagnostics } from './diagnostics.ts';
import { buildEnv, type Env } from './env.ts';
import { loadProgram, readText } from './load.ts';
import { RULES, type Rule } from './rules.ts';

export interface CheckOptions {
  /** Check this text instead of reading the file (the path still anchors relative paths). */
  readonly source?: string;
  /** The rules to run; all of them by default. */
  readonly rules?: readonly Rule[];
}

export interface CheckResult {
  readonly diagnostics: readonly Diagnostic[];
  /** Present when there are no errors. */
  readonly program?: CheckedProgram;
  /** Text of every file read, for rendering diagnostics. */
  readonly sources: ReadonlyMap<string, string>;
}

export function checkFile(path: string, options: CheckOptions = {}): CheckResult {
  const file = resolve(path);
  const text = options.source ?? readText(file);
  if (text === null) {
    const span: Span = { file, start: 0, end: 0, line: 1, column: 1 };
    return { diagnostics: [error('file-not-found', `cannot read ${path}`, span)], sources: new Map() };
  }
  const loaded = loadProgram(text, file);
  const { env, diagnostics: envDiagnostics } = buildEnv(loaded.statements);
  const ruleDiagnostics = (options.rules ?? RULES).flatMap((rule) => rule.check({ env, file }));
  const diagnostics = sortDiagnostics(dedupe([...loaded.diagnostics, ...envDiagnostics, ...ruleDiagnostics]));
  if (hasErrors(diagnostics)) return { diagnostics, sources: loaded.sources };
  return { diagnostics, program: checkedProgram(env, file), sources: loaded.sources };
}

const dedupe = (diagnostics: readonly Diagnostic[]): Diagnostic[] => {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.span.file}:${d.span.start}:${d.span.end}:${d.code}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

/** Assembles the checked program; only called once every rule passed, so lookups succeed. */
function checkedProgram(env: Env, file: string): CheckedProgram {
  const adapters = new Map<string, CheckedAdapter>(
    [...env.adapters.values()].map((a) => [
      a.name,
      a.origin === 'load'
        ? { name: a.name, origin: 'load', dir: a.dir!, withHead: a.withHead, config: a.config!, span: a.span }
        : { name: a.name, origin: 'new', config: a.config!, span: a.span },
    ]),
  );
  const heads = new Map<string, CheckedHead>(
    [...env.heads.values()].map((h) => [
      h.name,
      h.origin === 'load'
        ? { name: h.name, origin: 'load', dir: h.dir!, config: h.config!, span: h.span }
        : { name: h.name, origin: 'new', config: h.config!, span: h.span },
    ]),
  );
  const fusions = new Map<string, CheckedFusion>(
    [...env.fusions.values()].map((f) => {
      const names = f.adapters.map((a) => a.name);
      return [
        f.name,
        f.origin === 'load'
          ? { name: f.name, adapters: names, origin: 'load', dir: f.dir!, config: f.config!, span: f.span }
          : { name: f.name, adapters: names, origin: 'new', config: f.config!, span: f.span },
      ];
    }),
  );
  const setup = env.setups[0] ?? null;
  const inferred = setup ? inferHeads(setup.expr, new Set(heads.keys())) : null;
  const train = env.trains[0] ?? null;
  const training: CheckedTraining | null = train
    ? {
        target: train.target,
        setup: toComposition(train.expr)!,
        unfreezeAdapters: train.unfreezeAdapters,
        randomDrop: train.randomDrop ? { from: train.randomDrop.from, to: train.randomDrop.to } : null,
      }
    : null;
  return {
    file,
    model: env.model!.dir,
    store: env.store,
    adapters,
    heads,
    fusions,
    setup: setup ? toComposition(setup.expr) : null,
    headSetup: inferred?.ok ? inferred.headSetup : null,
    skipLayers: setup?.drop ? expandLayers(setup.drop.items) : [],
    merged: env.merges.flatMap((m) => m.names.map((n) => n.name)),
    training,
  };
}
