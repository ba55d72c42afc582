// The canonical layout of .adapt files: one statement per line, `, ` between arguments, comments kept
// (a comment on a statement's last line stays there; others go on their own line before the statement
// that follows them), runs of blank lines collapsed to one. Formatting is idempotent.
import type {
  AdapterSource,
  ConfigCall,
  Expr,
  KeyValue,
  LayerSet,
  Program,
  Statement,
  Value,
} from './ast.ts';
import { lineColumn } from './diagnostics.ts';
import { KEYWORDS } from './lexer.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Whether a name can be written bare (an identifier that is not a keyword). */
export const isPlainName = (name: string): boolean => IDENTIFIER.test(name) && !KEYWORDS.has(name);

const quote = (text: string): string => JSON.stringify(text);
const key = (name: string): string => (isPlainName(name) ? name : quote(name));

export function formatValue(value: Value): string {
  switch (value.kind) {
    case 'number':
      return value.text;
    case 'string':
      return quote(value.value);
    case 'bool':
      return value.value ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'word':
      return value.value;
    case 'list':
      return `[${value.items.map(formatValue).join(', ')}]`;
    case 'map':
      return `{${value.entries.map(formatKeyValue).join(', ')}}`;
  }
}

const formatKeyValue = (kv: KeyValue): string => `${key(kv.key.name)}: ${formatValue(kv.value)}`;

const formatCall = (call: ConfigCall): string =>
  call.args.length === 0 ? call.name.name : `${call.name.name}(${call.args.map(formatKeyValue).join(', ')})`;

export function formatExpr(expr: Expr): string {
  switch (expr.kind) {
    case 'adapter-ref':
      return expr.name.name;
    case 'head-ref':
      return `head ${expr.name.name}`;
    case 'block':
      return `${expr.type}(${[...expr.children.map(formatExpr), ...expr.kwargs.map(formatKeyValue)].join(', ')})`;
  }
}

const formatLayers = (layers: LayerSet): string =>
  layers.items
    .map((item) => (item.kind === 'range' ? `${item.from}..${item.to}` : String(item.index)))
    .join(', ');

function formatAdapterSource(source: AdapterSource): string {
  switch (source.kind) {
    case 'load':
      return `load ${quote(source.ref)}${source.withHead ? '' : ' without head'}`;
    case 'config-string':
      return quote(source.text);
    case 'new':
      return source.configs.map(formatCall).join(' | ');
  }
}

const formatLoadOrNew = (
  source: { kind: 'load'; ref: string } | { kind: 'new'; config: ConfigCall },
): string => (source.kind === 'load' ? `load ${quote(source.ref)}` : formatCall(source.config));

export function formatStatement(statement: Statement): string {
  switch (statement.kind) {
    case 'model':
    case 'store':
    case 'include':
      return `${statement.kind} ${quote(statement.path)}`;
    case 'adapter':
      return `adapter ${statement.name.name} = ${formatAdapterSource(statement.source)}`;
    case 'fusion':
      return `fusion Fuse(${statement.adapters.map((a) => a.name).join(', ')}) = ${formatLoadOrNew(statement.source)}`;
    case 'head':
      return `head ${statement.name.name} = ${formatLoadOrNew(statement.source)}`;
    case 'setup':
      return `setup ${formatExpr(statement.expr)}${statement.drop ? ` drop ${formatLayers(statement.drop)}` : ''}`;
    case 'merge':
      return `merge ${statement.names.map((n) => n.name).join(', ')}`;
    case 'train': {
      const unfreeze = statement.unfreezeAdapters ? ' unfreeze adapters' : '';
      const drop = statement.randomDrop
        ? ` drop random ${statement.randomDrop.from}..${statement.randomDrop.to}`
        : '';
      return `train ${statement.target} ${formatExpr(statement.expr)}${unfreeze}${drop}`;
    }
  }
}

/** One output line with the source lines it came from (for keeping blank lines). */
interface Line {
  readonly text: string;
  readonly firstLine: number;
  readonly lastLine: number;
}

export function format(program: Program): string {
  const source = program.source;
  const endLine = (start: number, end: number, line: number): number =>
    source === undefined ? line : lineColumn(source, Math.max(start, end - 1)).line;
  const statements = [...program.statements].sort((a, b) => a.span.start - b.span.start);
  const trailing = new Map<Statement, string>();
  const leading = new Map<Statement, Line[]>();
  const atEnd: Line[] = [];
  for (const comment of program.comments) {
    const line: Line = { text: comment.text, firstLine: comment.span.line, lastLine: comment.span.line };
    const before = statements.filter((s) => s.span.end <= comment.span.start).at(-1);
    if (
      before &&
      source !== undefined &&
      !trailing.has(before) &&
      endLine(before.span.start, before.span.end, before.span.line) === comment.span.line
    ) {
      trailing.set(before, comment.text);
      continue;
    }
    const owner = statements.find((s) => s.span.end > comment.span.start);
    if (owner) leading.set(owner, [...(leading.get(owner) ?? []), line]);
    else atEnd.push(line);
  }
  const lines: Line[] = statements.flatMap((statement) => {
    const text = formatStatement(statement);
    const comment = trailing.get(statement);
    const lastLine = endLine(statement.span.start, statement.span.end, statement.span.line);
    return [
      ...(leading.get(statement) ?? []),
      { text: comment ? `${text}  ${comment}` : text, firstLine: statement.span.line, lastLine },
    ];
  });
  const all = [...lines, ...atEnd];
  const out = all.flatMap((line, i) => {
    const gap = i > 0 && source !== undefined && line.firstLine - all[i - 1].lastLine > 1;
    return gap ? ['', line.text] : [line.text];
  });
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
