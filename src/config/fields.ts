// Value checks for config keys: each returns null when the value fits, else what was expected.
// Shared by adapter, fusion and head configs so that explicit-key overrides are validated uniformly.

export type FieldCheck = (value: unknown) => string | null;

const expect =
  (what: string, ok: (v: unknown) => boolean): FieldCheck =>
  (v) =>
    ok(v) ? null : `expected ${what}`;

export const isBool = expect('true or false', (v) => typeof v === 'boolean');
export const isNumber = expect('a number', (v) => typeof v === 'number' && Number.isFinite(v));
export const isNonNegative = expect('a number ≥ 0', (v) => typeof v === 'number' && v >= 0);
export const isPositiveInt = expect('a positive integer', (v) => Number.isInteger(v) && (v as number) > 0);
export const isString = expect('a word or string', (v) => typeof v === 'string');
export const isNullableString = expect('a word, string or null', (v) => v === null || typeof v === 'string');
export const isNullableNumber = expect('a number or null', (v) => v === null || typeof v === 'number');
export const isNullableInt = expect('an integer or null', (v) => v === null || Number.isInteger(v));
export const isIntList = expect(
  'a list of integers ≥ 0',
  (v) => Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0),
);
export const isAnything: FieldCheck = () => null;

export const oneOf =
  (...values: readonly unknown[]): FieldCheck =>
  (v) =>
    values.includes(v) ? null : `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;

export const either =
  (...checks: readonly FieldCheck[]): FieldCheck =>
  (v) => {
    const failures = checks.map((check) => check(v));
    return failures.some((f) => f === null) ? null : failures.join(' or ');
  };

export const isQkvList = expect(
  'a list of q, k, v',
  (v) => Array.isArray(v) && v.length > 0 && v.every((x) => x === 'q' || x === 'k' || x === 'v'),
);

/** A reduction factor: a positive number, or a map from layer index (or "default") to one. */
export const isReductionFactor = expect(
  'a positive number or a map {"<layer>": number, default: number}',
  (v) =>
    (typeof v === 'number' && v > 0) ||
    (typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      Object.values(v).every((x) => typeof x === 'number' && x > 0)),
);

export type Schema = Readonly<Record<string, FieldCheck>>;

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The closest candidate within a distance that scales with the word's length, or null. */
export function closestName(name: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** A problem with one key of a config (or with the config as a whole when key is null). */
export interface ConfigIssue {
  readonly key: string | null;
  readonly message: string;
  readonly hint?: string;
}

export type ConfigResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** Checks overrides against a schema: unknown keys (with a did-you-mean) and ill-typed values. */
export function validateOverrides(
  what: string,
  schema: Schema,
  overrides: Readonly<Record<string, unknown>>,
): ConfigIssue[] {
  return Object.entries(overrides).flatMap(([key, value]): ConfigIssue[] => {
    const check = schema[key];
    if (!check) {
      const suggestion = closestName(key, Object.keys(schema));
      return [
        {
          key,
          message: `unknown key \`${key}\` for ${what}`,
          hint: suggestion
            ? `did you mean \`${suggestion}\`?`
            : `known keys: ${Object.keys(schema).join(', ')}`,
        },
      ];
    }
    const problem = check(value);
    return problem
      ? [{ key, message: `\`${key}\` of ${what}: ${problem}, got ${JSON.stringify(value)}` }]
      : [];
  });
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
