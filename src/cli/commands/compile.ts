// `adaptc compile FILE.adapt -o DIR`: the compiled model as a folder a runtime loads without the
// compiler — the optimized graph and weight table (model.json), the weights (weights.bin), and for
// reading, the kernel plan (plan.txt) and every WGSL kernel it launches (kernels/*.wgsl).
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPlan, PlanError, planKernels } from '../../codegen-wgsl/kernel-plan.ts';
import { compileFile } from '../../compiler.ts';
import { runPasses } from '../../passes/pass.ts';
import { INFERENCE_PASSES } from '../../passes/pipeline.ts';
import { serializeModel } from '../../runtime/webgpu/bundle.ts';
import { type Command, EXIT_OK, EXIT_USER_ERROR } from '../command.ts';
import { stageReporter } from '../display.ts';
import { reportUserError } from '../errors.ts';

const USAGE = `usage: adaptc compile FILE.adapt -o DIR

Checks, lowers and optimizes the composition and writes DIR/:
  model.json    the optimized graph and where each parameter lies in weights.bin
  weights.bin   every parameter the graph reads, little-endian f32
  plan.txt      the kernel plan: fusion groups in launch order and their kernels
  kernels/      the WGSL of every kernel the plan launches
The runtime (Node or a browser) loads model.json + weights.bin; DIR is replaced whole, never half-written.`;

/** Writes the files into a sibling temporary folder, then swaps it in for `dir`. */
function writeFolderAtomically(dir: string, files: ReadonlyMap<string, string | Uint8Array>): void {
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const [name, content] of files) {
      mkdirSync(dirname(join(staging, name)), { recursive: true });
      writeFileSync(join(staging, name), content);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export const compileCommand: Command = {
  name: 'compile',
  summary: 'write the compiled model (graph, weights, kernel plan, WGSL) as a folder',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { out: { type: 'string', short: 'o' } },
    });
    if (positionals.length !== 1 || values.out === undefined) {
      process.stderr.write(`${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    const progress = stageReporter();
    try {
      const compiled = compileFile(positionals[0], progress.stage);
      progress.stage('optimizing');
      const optimized = runPasses(compiled, INFERENCE_PASSES, { B: 1, T: 8 });
      progress.stage('planning kernels');
      const plan = planKernels(optimized.graph);
      const { manifest, weights } = serializeModel(optimized);
      const kernels = new Map(plan.steps.flatMap((s) => s.kernels).map((k) => [k.wgsl, k.name]));
      const files = new Map<string, string | Uint8Array>([
        ['model.json', `${JSON.stringify(manifest)}\n`],
        ['weights.bin', new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength)],
        ['plan.txt', formatPlan(plan)],
        ...[...kernels].map(([wgsl, name], i): [string, string] => [
          `kernels/${String(i).padStart(3, '0')}-${name}.wgsl`,
          wgsl,
        ]),
      ]);
      writeFolderAtomically(resolve(values.out), files);
      progress.done();
      process.stdout.write(
        `${values.out}: ${plan.steps.length} kernel groups, ${kernels.size} kernels, ${weights.length} weights\n`,
      );
      return EXIT_OK;
    } catch (e) {
      progress.done();
      if (e instanceof PlanError) {
        process.stderr.write(`adaptc compile: ${e.message}\n`);
        return EXIT_USER_ERROR;
      }
      return reportUserError('compile', e);
    }
  },
};
