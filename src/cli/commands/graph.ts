// `adaptc graph FILE.adapt -o out.svg`: draws the composition and its plan (layers × adapters, dropped
// layers, shared vs replicated rows, heads) from the lowered IR. Needs config files, not weights.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkProgram, lower } from '../../compiler.ts';
import { compositionPlan, setupText } from '../../viz/plan.ts';
import { renderPlanSvg } from '../../viz/svg.ts';
import { type Command, EXIT_OK, EXIT_USER_ERROR } from '../command.ts';
import { displayPath } from '../display.ts';
import { reportUserError } from '../errors.ts';

const USAGE = `usage: adaptc graph FILE.adapt [-o out.svg]

Draws the composition as SVG: a row per layer and a column per adapter or fusion, each active cell naming
its hook points (mh_adapter, output_adapter, LoRA q/k/v, prefix); dropped layers greyed; the rows Parallel
replicates; the heads at the bottom. Reads the model's and modules' config files, never their weights.
  -o, --output FILE   where to write the SVG (default: standard output)`;

export const graphCommand: Command = {
  name: 'graph',
  summary: 'draw a composition and its plan as SVG',
  usage: USAGE,
  async run(args) {
    let values: { output?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: { output: { type: 'string', short: 'o' } },
      }));
    } catch (e) {
      process.stderr.write(`adaptc graph: ${(e as Error).message}\n${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    if (positionals.length !== 1) {
      process.stderr.write(`${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    try {
      const program = checkProgram(positionals[0]);
      const { model, graph } = lower(program);
      const plan = compositionPlan(
        program,
        graph,
        model.numLayers,
        displayPath(program.file),
        setupText(program),
      );
      const svg = renderPlanSvg(plan);
      if (values.output === undefined) process.stdout.write(svg);
      else {
        writeFileSync(values.output, svg);
        process.stdout.write(`wrote ${values.output}\n`);
      }
      return EXIT_OK;
    } catch (e) {
      return reportUserError('graph', e);
    }
  },
};
