// Every CLI command. To add one: write src/cli/commands/<name>.ts exporting a Command, add it here.
import type { Command } from '../command.ts';
import { benchCommand } from './bench.ts';
import { checkCommand } from './check.ts';
import { compileCommand } from './compile.ts';
import { demoCommand } from './demo.ts';
import { explainCommand } from './explain.ts';
import { fmtCommand } from './fmt.ts';
import { graphCommand } from './graph.ts';
import { runCommand } from './run.ts';
import { testLawsCommand } from './test-laws.ts';
import { trainCommand } from './train.ts';
import { webCommand } from './web.ts';

export const COMMANDS: readonly Command[] = [
  checkCommand,
  fmtCommand,
  runCommand,
  compileCommand,
  explainCommand,
  demoCommand,
  graphCommand,
  trainCommand,
  benchCommand,
  testLawsCommand,
  webCommand,
];
