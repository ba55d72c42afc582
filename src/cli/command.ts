// The shape of a CLI command. A command is one file in src/cli/commands/ plus one line in its index.
export interface Command {
  readonly name: string;
  /** One line for `adaptc --help`. */
  readonly summary: string;
  /** Usage text for `adaptc <name> --help`. */
  readonly usage: string;
  /** Exit code: 0 ok, 1 user error (diagnostics were printed), 2 internal error. */
  run(args: readonly string[]): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_INTERNAL_ERROR = 2;

/** Splits `--flag` options from positional arguments; unknown flags are returned for the caller to reject. */
export function splitArgs(
  args: readonly string[],
  flags: readonly string[],
): { flags: Set<string>; positional: string[]; unknown: string[] } {
  const known = new Set(flags);
  const found = new Set<string>();
  const positional: string[] = [];
  const unknown: string[] = [];
  for (const arg of args) {
    if (!arg.startsWith('--') || arg === '--') positional.push(arg);
    else if (known.has(arg)) found.add(arg);
    else unknown.push(arg);
  }
  return { flags: found, positional, unknown };
}

/** The backends `run` and `train` take with `--backend`. */
export const BACKENDS = ['reference', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The backend named by `--backend`, or null after printing what is available. */
export function backendOption(command: string, value: string): BackendName | null {
  const known = BACKENDS.find((b) => b === value);
  if (known === undefined) {
    process.stderr.write(
      `adaptc ${command}: unknown backend '${value}' (available: ${BACKENDS.join(', ')})\n`,
    );
    return null;
  }
  return known;
}
