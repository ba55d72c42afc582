// `adaptc check FILE…`: parse and check .adapt files, print every diagnostic.
import { checkFile } from '../../dsl/check.ts';
import { type Diagnostic, diagnosticToJson, hasErrors } from '../../dsl/diagnostics.ts';
import { type Command, EXIT_OK, EXIT_USER_ERROR, splitArgs } from '../command.ts';
import { displayPath, printDiagnostics } from '../display.ts';

export const checkCommand: Command = {
  name: 'check',
  summary: 'check .adapt files and report every problem',
  usage: `usage: adaptc check [--json] FILE…

Parses and checks each file (with its includes, model config.json and the config JSON of loaded
adapters, heads and fusions). Exit status: 0 when clean, 1 when any file has errors.
  --json   print {"files": [{"file", "ok", "diagnostics": [...]}]} on stdout instead of text`,
  async run(args) {
    const { flags, positional, unknown } = splitArgs(args, ['--json']);
    if (unknown.length > 0 || positional.length === 0) {
      process.stderr.write(`${unknown.length > 0 ? `unknown option ${unknown[0]}\n` : ''}${this.usage}\n`);
      return EXIT_USER_ERROR;
    }
    const results = positional.map((file) => ({ file, result: checkFile(file) }));
    const failed = results.some(({ result }) => hasErrors(result.diagnostics));
    if (flags.has('--json')) {
      const files = results.map(({ file, result }) => ({
        file,
        ok: !hasErrors(result.diagnostics),
        diagnostics: result.diagnostics.map((d: Diagnostic) => diagnosticToJson(d, displayPath)),
      }));
      process.stdout.write(`${JSON.stringify({ files }, null, 2)}\n`);
    } else {
      for (const { file, result } of results) {
        printDiagnostics(result.diagnostics, result.sources);
        if (!hasErrors(result.diagnostics)) process.stdout.write(`${file}: ok\n`);
      }
    }
    return failed ? EXIT_USER_ERROR : EXIT_OK;
  },
};
