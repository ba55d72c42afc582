// AdapterHub config strings: `name[key=value, ...]`, several joined by `|` into a union
// (the library's parse_adapter_config_string). Values are Python literals: numbers, 'strings',
// True/False/None, [lists] and {dicts}.
import type { MethodSpec } from './adapter.ts';
import type { ConfigResult } from './fields.ts';

const CHUNK = /^([^[\]|\n]+)(?:\[(.*)\])?$/s;

export function parseConfigString(text: string): ConfigResult<readonly MethodSpec[]> {
  const specs: MethodSpec[] = [];
  for (const chunk of text.split('|')) {
    const match = CHUNK.exec(chunk.trim());
    if (!match)
      return fail(
        `invalid adapter config string \`${chunk.trim()}\``,
        'write `name` or `name[key=value, ...]`',
      );
    const overrides = match[2] === undefined ? {} : parseKeyValues(match[2]);
    if (overrides === null)
      return fail(
        `invalid keys in \`${chunk.trim()}\``,
        "values are Python literals: 8, 0.5, 'relu', True, None, [1, 2]",
      );
    specs.push({ name: match[1].trim(), overrides });
  }
  return { ok: true, value: specs };
}

const fail = (message: string, hint: string): ConfigResult<never> => ({
  ok: false,
  issues: [{ key: null, message, hint }],
});

/** A tiny Python-literal reader over `key=value, ...`; null when the text is not one. */
function parseKeyValues(text: string): Record<string, unknown> | null {
  const reader = new LiteralReader(text);
  const result: Record<string, unknown> = {};
  reader.skipSpace();
  while (!reader.atEnd()) {
    const key = reader.match(/[A-Za-z_]\w*/y);
    if (key === null || reader.match(/\s*=\s*/y) === null) return null;
    const value = reader.value();
    if (value === FAILED) return null;
    result[key] = value;
    reader.skipSpace();
    if (reader.atEnd()) break;
    if (reader.match(/,\s*/y) === null) return null;
  }
  return result;
}

const FAILED = Symbol('failed');

class LiteralReader {
  private position = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.position >= this.text.length;
  }

  skipSpace(): void {
    this.match(/\s*/y);
  }

  match(pattern: RegExp): string | null {
    pattern.lastIndex = this.position;
    const found = pattern.exec(this.text);
    if (!found) return null;
    this.position += found[0].length;
    return found[0];
  }

  value(): unknown {
    this.skipSpace();
    const number = this.match(/[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/y);
    if (number !== null) return Number(number);
    const quoted = this.match(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/y);
    if (quoted !== null) return quoted.slice(1, -1).replace(/\\(.)/g, '$1');
    const word = this.match(/True|False|None/y);
    if (word !== null) return word === 'True' ? true : word === 'False' ? false : null;
    if (this.match(/\[\s*/y) !== null) return this.sequence(']', () => this.value());
    if (this.match(/\{\s*/y) !== null) return this.mapping();
    return FAILED;
  }

  private sequence(close: string, item: () => unknown): unknown[] | typeof FAILED {
    const items: unknown[] = [];
    for (;;) {
      this.skipSpace();
      if (this.match(new RegExp(`\\${close}`, 'y')) !== null) return items;
      const value = item();
      if (value === FAILED) return FAILED;
      items.push(value);
      this.skipSpace();
      if (this.match(/,/y) === null && this.text[this.position] !== close) return FAILED;
    }
  }

  private mapping(): Record<string, unknown> | typeof FAILED {
    const entries = this.sequence('}', () => {
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') return FAILED;
      if (this.match(/\s*:\s*/y) === null) return FAILED;
      const value = this.value();
      return value === FAILED ? FAILED : [String(key), value];
    });
    return entries === FAILED ? FAILED : Object.fromEntries(entries as [string, unknown][]);
  }
}
