// How the CLI shows paths and diagnostics: paths relative to the working directory when that is shorter.
import { relative } from 'node:path';
import { type Diagnostic, renderDiagnostics } from '../dsl/diagnostics.ts';

export const displayPath = (file: string): string => {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel;
};

export const printDiagnostics = (
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
): void => {
  if (diagnostics.length > 0)
    process.stderr.write(`${renderDiagnostics(diagnostics, sources, displayPath)}\n`);
};
