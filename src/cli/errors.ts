// Errors a user can act on (bad input files, checkpoints, compositions) end the command with exit 1 and
// a message; anything else is an internal error (exit 2) and keeps its stack.
import { CheckpointError } from '../checkpoint/tensor.ts';
import { CompileError } from '../compiler.ts';
import { LoweringError } from '../lower/context.ts';
import { ModelConfigError } from '../lower/model-config.ts';
import { InputError } from '../runtime/io.ts';
import { InterpreterError } from '../runtime/reference/interpret.ts';
import { EXIT_INTERNAL_ERROR, EXIT_USER_ERROR } from './command.ts';

const USER_ERRORS = [
  CompileError,
  CheckpointError,
  LoweringError,
  ModelConfigError,
  InputError,
  InterpreterError,
  SyntaxError,
];

export function isUserError(e: unknown): boolean {
  return USER_ERRORS.some((kind) => e instanceof kind) || (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

export function reportUserError(command: string, e: unknown): number {
  if (!isUserError(e)) {
    process.stderr.write(`adaptc ${command}: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT_INTERNAL_ERROR;
  }
  const message = e instanceof CompileError ? e.message : `adaptc ${command}: ${(e as Error).message}`;
  process.stderr.write(`${message}\n`);
  return EXIT_USER_ERROR;
}
