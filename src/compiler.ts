// The compiler's front door: a .adapt file in, a checked program, its IR graph and bound weights out.
// Data flows one way: text → AST → checked program → IR → passes → (kernels, plan) → runtime.
import { join } from 'node:path';
import { readJsonObject } from './checkpoint/hf-model.ts';
import type { CheckedProgram } from './dsl/checked.ts';
import { checkFile, type Diagnostic, renderDiagnostics } from './dsl/index.ts';
import type { Graph } from './ir/graph.ts';
import { bindWeights, loadProgramWeights, type ModuleRef, type WeightStore } from './load/weights.ts';
import { lowerProgram } from './lower/bert.ts';
import { type EncoderConfig, encoderConfigFromJson } from './lower/model-config.ts';

/** A .adapt file that did not pass the checker: its rendered diagnostics are the message. */
export class CompileError extends Error {
  override name = 'CompileError';
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    rendered: string,
  ) {
    super(rendered);
  }
}

export interface Compiled {
  readonly program: CheckedProgram;
  readonly model: EncoderConfig;
  readonly graph: Graph;
  readonly weights: WeightStore;
}

/** Checks a .adapt file and returns its program, or throws a CompileError with every diagnostic. */
export function checkProgram(path: string): CheckedProgram {
  const result = checkFile(path);
  if (!result.program)
    throw new CompileError(result.diagnostics, renderDiagnostics(result.diagnostics, result.sources));
  return result.program;
}

/** Reads the model's config.json (never its weights). */
export function readEncoderConfig(program: CheckedProgram): EncoderConfig {
  return encoderConfigFromJson(readJsonObject(join(program.model, 'config.json')));
}

/** Lowers a checked program to its reference IR graph. */
export function lower(program: CheckedProgram): { model: EncoderConfig; graph: Graph } {
  const model = readEncoderConfig(program);
  return { model, graph: lowerProgram(program, model) };
}

/**
 * check → lower → load and bind weights. Only modules the graph reads are loaded (an adapter that
 * AdapterDrop removes everywhere is never opened), except when the program trains: the freeze
 * analysis speaks of every module, as the library's does.
 */
export function compileFile(path: string, onStage: (stage: string) => void = () => undefined): Compiled {
  onStage('checking');
  const program = checkProgram(path);
  onStage('lowering');
  const { model, graph } = lower(program);
  const read = new Set(
    graph.nodes.flatMap((n) =>
      n.op === 'param' && n.origin.kind !== 'base' ? [`${n.origin.kind}:${n.origin.name}`] : [],
    ),
  );
  const needed = (m: ModuleRef) => program.training !== null || read.has(`${m.kind}:${m.name}`);
  onStage('loading weights');
  const weights = bindWeights(graph, program, model, loadProgramWeights(program, needed).weights);
  return { program, model, graph, weights };
}
