// adaptc's entry point: dispatches `adaptc <command> …` to the registered commands.
import { type Command, EXIT_INTERNAL_ERROR, EXIT_OK, EXIT_USER_ERROR } from './command.ts';
import { COMMANDS } from './commands/index.ts';

const overview = (commands: readonly Command[]): string =>
  [
    'usage: adaptc <command> [options] …',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    '',
    'Run `adaptc <command> --help` for a command’s options.',
  ].join('\n');

export async function main(argv: string[], commands: readonly Command[] = COMMANDS): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview(commands)}\n`);
    return name === undefined ? EXIT_USER_ERROR : EXIT_OK;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`adaptc: unknown command \`${name}\`\n\n${overview(commands)}\n`);
    return EXIT_USER_ERROR;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return EXIT_OK;
  }
  try {
    return await command.run(args);
  } catch (e) {
    process.stderr.write(`adaptc ${name}: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT_INTERNAL_ERROR;
  }
}
