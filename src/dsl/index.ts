// The .adapt front end: parse, format, check, and composition JSON interchange.
import { resolve } from 'node:path';
import { readText } from './load.ts';
import { type ParseResult, parseText } from './parser.ts';

export type * from './ast.ts';
export { type CheckOptions, type CheckResult, checkFile } from './check.ts';
export type * from './checked.ts';
export { ALLOWED_NESTINGS, toComposition } from './composition.ts';
export * from './composition-json.ts';
export * from './diagnostics.ts';
export { format, formatExpr, formatStatement } from './format.ts';
export { RULES, type Rule } from './rules.ts';
export { type ParseResult, parseText };

/** Parses a file; an unreadable file gives null. */
export function parseFile(path: string): (ParseResult & { readonly source: string }) | null {
  const file = resolve(path);
  const source = readText(file);
  return source === null ? null : { ...parseText(source, file), source };
}
