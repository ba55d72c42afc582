// JSON text the way Python's json.dumps writes it (sort_keys=True, ensure_ascii=True), so files and
// hashes we produce match the library's byte for byte. Python keeps ints and floats apart; JSON numbers in
// JS do not, so the caller names the keys whose numbers are floats (`scaling: 1.0` must stay a float).

export interface PythonJsonOptions {
  /** Spaces per level; undefined writes one line with Python's default separators ', ' and ': '. */
  readonly indent?: number;
  /** Keys whose numeric values are Python floats. */
  readonly floatKeys?: ReadonlySet<string>;
}

const asciiOnly = (text: string): string =>
  text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Python's repr of a float: always a '.0' or an exponent, and two-digit exponents. */
export function pythonFloat(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exponent] = n.toExponential().split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  const text = String(n);
  return Number.isInteger(n) ? `${text}.0` : text;
}

export function pythonJson(value: unknown, options: PythonJsonOptions = {}): string {
  const floatKeys = options.floatKeys ?? new Set<string>();
  const indent = options.indent;
  const write = (v: unknown, key: string | null, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return key !== null && floatKeys.has(key) ? pythonFloat(v) : pythonNumber(v);
    if (typeof v === 'string') return asciiOnly(JSON.stringify(v));
    const pad = indent === undefined ? '' : `\n${' '.repeat(indent * (depth + 1))}`;
    const close = indent === undefined ? '' : `\n${' '.repeat(indent * depth)}`;
    const sep = indent === undefined ? ', ' : ',';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[${v.map((item) => pad + write(item, key, depth + 1)).join(sep)}${close}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    if (entries.length === 0) return '{}';
    return `{${entries.map(([k, item]) => `${pad}${asciiOnly(JSON.stringify(k))}: ${write(item, k, depth + 1)}`).join(sep)}${close}}`;
  };
  return write(value, null, 0);
}

const pythonNumber = (n: number): string => (Number.isInteger(n) ? String(n) : pythonFloat(n));
