// `adaptc fmt [--check] FILE…`: rewrite .adapt files in the canonical layout (comments kept).
import { writeFileSync } from 'node:fs';
import { hasErrors } from '../../dsl/diagnostics.ts';
import { format } from '../../dsl/format.ts';
import { parseFile } from '../../dsl/index.ts';
import { type Command, EXIT_OK, EXIT_USER_ERROR, splitArgs } from '../command.ts';
import { printDiagnostics } from '../display.ts';

export const fmtCommand: Command = {
  name: 'fmt',
  summary: 'format .adapt files in the canonical layout',
  usage: `usage: adaptc fmt [--check] FILE…

Rewrites each file in the canonical layout (one statement per line, comments kept).
Files with syntax errors are left alone and reported.
  --check  change nothing; exit 1 and name the files that are not formatted`,
  async run(args) {
    const { flags, positional, unknown } = splitArgs(args, ['--check']);
    if (unknown.length > 0 || positional.length === 0) {
      process.stderr.write(`${unknown.length > 0 ? `unknown option ${unknown[0]}\n` : ''}${this.usage}\n`);
      return EXIT_USER_ERROR;
    }
    let status = EXIT_OK;
    for (const file of positional) {
      const parsed = parseFile(file);
      if (!parsed) {
        process.stderr.write(`${file}: cannot read the file\n`);
        status = EXIT_USER_ERROR;
        continue;
      }
      if (hasErrors(parsed.diagnostics)) {
        printDiagnostics(parsed.diagnostics, new Map([[parsed.program.file, parsed.source]]));
        status = EXIT_USER_ERROR;
        continue;
      }
      const formatted = format(parsed.program);
      if (formatted === parsed.source) continue;
      if (flags.has('--check')) {
        process.stdout.write(`${file}: not formatted\n`);
        status = EXIT_USER_ERROR;
      } else {
        writeFileSync(file, formatted);
        process.stdout.write(`${file}: formatted\n`);
      }
    }
    return status;
  },
};
