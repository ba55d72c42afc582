// Diagnostics: what the parser and checker report, and how they are shown to a person:
//   file:line:col: error[code]: message
//     12 | setup Stack(a, qnl)
//        |                ^^^
//   hint: did you mean `qnli`?
import type { Span } from './ast.ts';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  /** A stable kebab-case identifier, e.g. `undefined-adapter`, `nesting`, `syntax`. */
  readonly code: string;
  readonly message: string;
  readonly span: Span;
  readonly hint?: string;
}

export const error = (code: string, message: string, span: Span, hint?: string): Diagnostic =>
  hint === undefined
    ? { severity: 'error', code, message, span }
    : { severity: 'error', code, message, span, hint };

export const hasErrors = (diagnostics: readonly Diagnostic[]): boolean =>
  diagnostics.some((d) => d.severity === 'error');

/** Offsets where each line starts; the last text's index is kept, since spans come in runs per file. */
let lineIndex: { readonly text: string; readonly starts: readonly number[] } | null = null;

function lineStarts(text: string): readonly number[] {
  if (lineIndex?.text !== text) {
    const starts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    lineIndex = { text, starts };
  }
  return lineIndex.starts;
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { readonly line: number; readonly column: number } {
  const starts = lineStarts(text);
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - starts[low] + 1 };
}

/** A span from offsets (end exclusive), clamped to the text. */
export function spanAt(file: string, text: string, start: number, end: number): Span {
  const clamped = Math.max(0, Math.min(start, text.length));
  const { line, column } = lineColumn(text, clamped);
  return { file, start: clamped, end: Math.max(clamped, Math.min(end, text.length)), line, column };
}

/** Sorts by file, then position, then code, so that output is stable. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.span.file.localeCompare(b.span.file) || a.span.start - b.span.start || a.code.localeCompare(b.code),
  );
}

/**
 * Renders one diagnostic. `sources` maps a file to its text; without the text only the header and hint
 * are shown. `displayPath` turns the span's (absolute) file into what the reader sees.
 */
export function renderDiagnostic(
  diagnostic: Diagnostic,
  sources: ReadonlyMap<string, string>,
  displayPath: (file: string) => string = (file) => file,
): string {
  const { span } = diagnostic;
  const header = `${displayPath(span.file)}:${span.line}:${span.column}: ${diagnostic.severity}[${diagnostic.code}]: ${diagnostic.message}`;
  const text = sources.get(span.file);
  const lines = [header];
  if (text !== undefined) {
    const lineText = text.split(/\r?\n/)[span.line - 1] ?? '';
    const gutter = String(span.line);
    const width = Math.max(1, Math.min(span.end - span.start, lineText.length - (span.column - 1)));
    lines.push(`${gutter} | ${lineText}`);
    lines.push(`${' '.repeat(gutter.length)} | ${' '.repeat(span.column - 1)}${'^'.repeat(width)}`);
  }
  if (diagnostic.hint) lines.push(`hint: ${diagnostic.hint}`);
  return lines.join('\n');
}

export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
  displayPath?: (file: string) => string,
): string {
  return sortDiagnostics(diagnostics)
    .map((d) => renderDiagnostic(d, sources, displayPath))
    .join('\n\n');
}

/** The JSON form of a diagnostic (`adaptc check --json`). */
export const diagnosticToJson = (d: Diagnostic, displayPath: (file: string) => string = (f) => f) => ({
  severity: d.severity,
  code: d.code,
  message: d.message,
  file: displayPath(d.span.file),
  line: d.span.line,
  column: d.span.column,
  start: d.span.start,
  end: d.span.end,
  ...(d.hint ? { hint: d.hint } : {}),
});
