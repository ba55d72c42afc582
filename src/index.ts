// adaptc's programmatic API: compile a .adapt file, optimize it, run it on the reference interpreter.
export { type Compiled, CompileError, checkProgram, compileFile, lower } from './compiler.ts';
export type { CheckedProgram, Composition, HeadSetup } from './dsl/checked.ts';
export { checkFile, format, parseText } from './dsl/index.ts';
export type { Graph, Node } from './ir/graph.ts';
export { printGraph } from './ir/print.ts';
export { graphStats } from './ir/stats.ts';
export { freezeReport, trainableParameters } from './passes/freeze.ts';
export { type PassReport, runPasses } from './passes/pass.ts';
export { INFERENCE_PASSES } from './passes/pipeline.ts';
export { inputsFromJson, type OutputJson, outputsToJson } from './runtime/io.ts';
export { interpret, type Tensor } from './runtime/reference/interpret.ts';
