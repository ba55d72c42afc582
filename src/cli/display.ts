// How the CLI shows paths and diagnostics: paths relative to the working directory when that is shorter.
import { relative } from 'node:path';
import { type Diagnostic, renderDiagnostics } from '../dsl/diagnostics.ts';

export const displayPath = (file: string): string => {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel;
};

/**
 * Shows the long step under way (checking, loading weights, compiling kernels…) on one line of stderr,
 * redrawn in place — only when stderr is a terminal, so pipes and logs stay clean.
 */
export function stageReporter(stream: NodeJS.WriteStream = process.stderr): {
  stage(name: string): void;
  done(): void;
} {
  if (!stream.isTTY) return { stage: () => undefined, done: () => undefined };
  return {
    stage: (name) => stream.write(`\r\x1b[2K${name}…`),
    done: () => stream.write('\r\x1b[2K'),
  };
}

export const printDiagnostics = (
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
): void => {
  if (diagnostics.length > 0)
    process.stderr.write(`${renderDiagnostics(diagnostics, sources, displayPath)}\n`);
};
