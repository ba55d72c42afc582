// Reading a root .adapt file with its includes (paths relative to the including file), and the small
// JSON-file readers the checker uses for model and AdapterHub folders (config JSON only, never weights).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Program, Span, Statement } from './ast.ts';
import { type Diagnostic, error } from './diagnostics.ts';
import { parseText } from './parser.ts';

export interface LoadedProgram {
  /** Statements of the root file with every `include` replaced by the included file's statements. */
  readonly statements: readonly Statement[];
  /** The parsed root file (its own statements only). */
  readonly root: Program;
  /** Text of every file read, for rendering diagnostics. */
  readonly sources: ReadonlyMap<string, string>;
  readonly diagnostics: readonly Diagnostic[];
}

export const relativeTo = (span: Span, path: string): string => resolve(dirname(span.file), path);

export function readText(path: string): string | null {
  try {
    return statSync(path).isFile() ? readFileSync(path, 'utf8') : null;
  } catch {
    return null;
  }
}

export type JsonRead =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

export function readJson(path: string): JsonRead {
  const text = readText(path);
  if (text === null) return { ok: false, reason: 'does not exist' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    // Only the position: the wording of JSON.parse errors differs between Node versions.
    const position = /position (\d+)/.exec((e as Error).message);
    return { ok: false, reason: `is not valid JSON${position ? ` (error at offset ${position[1]})` : ''}` };
  }
}

export const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

export const fileExists = (path: string): boolean => existsSync(path);

/** Parses `text` as `file` and pulls in its includes, depth first, each once; cycles and missing files are reported. */
export function loadProgram(text: string, file: string): LoadedProgram {
  const sources = new Map<string, string>([[file, text]]);
  const diagnostics: Diagnostic[] = [];
  const parsed = parseText(text, file);
  diagnostics.push(...parsed.diagnostics);
  const expand = (program: Program, chain: readonly string[]): Statement[] =>
    program.statements.flatMap((statement) => {
      if (statement.kind !== 'include') return [statement];
      const path = relativeTo(statement.span, statement.path);
      if (chain.includes(path)) {
        diagnostics.push(
          error(
            'include-cycle',
            `\`${statement.path}\` includes itself (${[...chain, path].map((f) => basename(f)).join(' → ')})`,
            statement.span,
          ),
        );
        return [];
      }
      // A file included twice (a diamond) contributes its declarations once.
      if (sources.has(path)) return [];
      const included = readText(path);
      if (included === null) {
        diagnostics.push(
          error('include-not-found', `cannot read included file ${statement.path}`, statement.span),
        );
        return [];
      }
      sources.set(path, included);
      const sub = parseText(included, path);
      diagnostics.push(...sub.diagnostics);
      return expand(sub.program, [...chain, path]);
    });
  return { statements: expand(parsed.program, [file]), root: parsed.program, sources, diagnostics };
}
