// `adaptc run FILE.adapt`: compile a composition and run it on token ids or text; outputs as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Compiled, compileFile } from '../../compiler.ts';
import type { Graph } from '../../ir/graph.ts';
import { inputsFromJson, outputsToJson } from '../../runtime/io.ts';
import { type Inputs, interpret, type Tensor } from '../../runtime/reference/interpret.ts';
import { loadModel, optimizeForGpu } from '../../runtime/webgpu/load-node.ts';
import { loadTokenizer } from '../../tokenizer/index.ts';
import { type BackendName, backendOption, type Command, EXIT_OK, EXIT_USER_ERROR } from '../command.ts';
import { stageReporter } from '../display.ts';
import { reportUserError } from '../errors.ts';

const USAGE = `usage: adaptc run FILE.adapt (--input inputs.json | --text TEXT…) [--output out.json] [--backend reference|webgpu]

Compiles the composition and runs it.
  --input FILE     {"input_ids": [[…]], "attention_mask"?: [[…]], "token_type_ids"?: [[…]], "task_ids"?: […]}
  --text TEXT      a sentence, tokenized with the model folder's tokenizer (repeat for a batch)
  --output FILE    where to write the outputs (default: standard output)
  --backend NAME   reference (the CPU interpreter that defines correct) or webgpu (fused kernels on a GPU)`;

/** Runs the composition on the chosen backend; both give every graph output by name. */
async function runOn(
  backend: BackendName,
  compiled: Compiled,
  inputs: Inputs,
): Promise<{ graph: Graph; outputs: ReadonlyMap<string, Tensor> }> {
  if (backend === 'reference') {
    return {
      graph: compiled.graph,
      outputs: interpret(compiled.graph, (k) => compiled.weights.get(k), inputs),
    };
  }
  const optimized = optimizeForGpu(compiled);
  const model = await loadModel(optimized);
  try {
    return { graph: optimized.graph, outputs: (await model.run(inputs)).outputs };
  } finally {
    model.release();
  }
}

export const runCommand: Command = {
  name: 'run',
  summary: 'compile a composition and run it on ids or text',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        input: { type: 'string' },
        text: { type: 'string', multiple: true },
        output: { type: 'string' },
        backend: { type: 'string', default: 'reference' },
      },
    });
    if (positionals.length !== 1 || (values.input === undefined) === (values.text === undefined)) {
      process.stderr.write(`${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    const backend = backendOption('run', values.backend);
    if (backend === null) return EXIT_USER_ERROR;
    const progress = stageReporter();
    try {
      const compiled = compileFile(positionals[0], progress.stage);
      const json =
        values.input !== undefined
          ? JSON.parse(readFileSync(values.input, 'utf8'))
          : loadTokenizer(compiled.program.model).encode(values.text!);
      const inputs = inputsFromJson(json);
      progress.stage(`running on ${backend}`);
      const { graph, outputs } = await runOn(backend, compiled, inputs);
      progress.done();
      const text = `${JSON.stringify(outputsToJson(graph, outputs, backend))}\n`;
      if (values.output === undefined) process.stdout.write(text);
      else writeFileSync(values.output, text);
      return EXIT_OK;
    } catch (e) {
      progress.done();
      return reportUserError('run', e);
    }
  },
};
