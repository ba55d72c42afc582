// `adaptc explain FILE.adapt`: the compilation pipeline step by step — each pass with its report, the
// freeze analysis when the file trains something, and the final graph.
import { parseArgs } from 'node:util';
import {
  formatPlan,
  type KernelPlan,
  memoryPlanFor,
  PlanError,
  planKernels,
} from '../../codegen-wgsl/kernel-plan.ts';
import { compileFile } from '../../compiler.ts';
import type { Graph } from '../../ir/graph.ts';
import { printGraph } from '../../ir/print.ts';
import type { Bindings } from '../../ir/shape.ts';
import { type GraphStats, graphStats } from '../../ir/stats.ts';
import { type FreezeReport, freezeReport } from '../../passes/freeze.ts';
import type { MemoryPlan } from '../../passes/memory-plan.ts';
import { type PassReport, runPasses } from '../../passes/pass.ts';
import { INFERENCE_PASSES } from '../../passes/pipeline.ts';
import { type Command, EXIT_OK, EXIT_USER_ERROR } from '../command.ts';
import { displayPath } from '../display.ts';
import { reportUserError } from '../errors.ts';

export interface Explanation {
  readonly file: string;
  readonly sizes: Bindings;
  readonly lowered: GraphStats;
  readonly passes: readonly PassReport[];
  readonly freeze: FreezeReport | null;
  readonly graph: Graph;
  /** The WGSL kernel plan of the optimized graph (fusion groups in launch order), or why there is none. */
  readonly kernels:
    | { readonly plan: KernelPlan; readonly dispatches: number; readonly memory: MemoryPlan }
    | { readonly error: string };
}

function kernelPlanOf(graph: Graph, sizes: Bindings): Explanation['kernels'] {
  try {
    const plan = planKernels(graph);
    const dispatches = plan.steps.reduce((n, step) => n + step.launches(sizes).length, 0);
    return { plan, dispatches, memory: memoryPlanFor(plan, sizes) };
  } catch (e) {
    if (e instanceof PlanError) return { error: e.message };
    throw e;
  }
}

export function explainFile(file: string, sizes: Bindings): Explanation {
  const compiled = compileFile(file);
  const optimized = runPasses({ graph: compiled.graph, weights: compiled.weights }, INFERENCE_PASSES, sizes);
  const training = compiled.program.training;
  return {
    file,
    sizes,
    lowered: graphStats(compiled.graph, sizes),
    passes: optimized.reports,
    freeze: training
      ? freezeReport(compiled.graph, compiled.weights, training, compiled.model.numLayers)
      : null,
    graph: optimized.graph,
    kernels: kernelPlanOf(optimized.graph, sizes),
  };
}

const gflop = (flops: number) => `${(flops / 1e9).toFixed(3)} GFLOP`;
const count = (n: number) => n.toLocaleString('en-US');

function statsLine(s: GraphStats): string {
  return `${count(s.ops)} ops, ${gflop(s.flops)}, ${count(s.params)} parameters`;
}

/** The explanation as plain data: the graph and the kernel plan as their printed lines. */
function explanationJson(e: Explanation): unknown {
  const kernels =
    'error' in e.kernels
      ? e.kernels
      : {
          dispatches: e.kernels.dispatches,
          peakActivationBytes: e.kernels.memory.peakBytes,
          allocatedBytes: e.kernels.memory.allocatedBytes,
          groups: formatPlan(e.kernels.plan).trimEnd().split('\n'),
        };
  return { ...e, graph: printGraph(e.graph).split('\n'), kernels };
}

export function formatExplanation(e: Explanation): string {
  const lines = [`${displayPath(e.file)} at batch ${e.sizes.B} × sequence ${e.sizes.T}`, '', 'pipeline'];
  lines.push(`  lowered: ${statsLine(e.lowered)}`);
  for (const p of e.passes) {
    lines.push(`  ${p.name}: ${p.purpose}`);
    lines.push(
      `    ops ${count(p.before.ops)} → ${count(p.after.ops)}, ${gflop(p.before.flops)} → ${gflop(p.after.flops)}`,
    );
    for (const note of p.notes) lines.push(`    ${note}`);
  }
  if (e.freeze) {
    const f = e.freeze;
    lines.push('', 'freeze analysis');
    lines.push(`  trainable: ${f.count} tensors, ${count(f.numel)} values`);
    for (const m of f.byModule)
      lines.push(`    ${m.owner}: ${m.tensors} tensors, ${count(m.values)} values, ${count(m.bytes)} bytes`);
    lines.push(
      f.lowestTrainableLayer === null
        ? '  backward: only heads train; no encoder layer needs a backward pass'
        : `  backward: starts at layer ${f.lowestTrainableLayer}; ${f.layersWithoutBackward} layers below it need none`,
    );
  }
  lines.push('', 'graph', printGraph(e.graph));
  if ('error' in e.kernels) lines.push('', `kernels: none (${e.kernels.error})`);
  else {
    const { plan, dispatches, memory } = e.kernels;
    lines.push(
      '',
      `kernels: ${plan.steps.length} fused groups, ${dispatches} dispatches`,
      `memory: activations peak at ${count(memory.peakBytes)} bytes; the plan allocates ${count(memory.allocatedBytes)} bytes in ${memory.slotBytes.length} reused buffers`,
      formatPlan(plan).trimEnd(),
    );
  }
  return lines.join('\n');
}

const USAGE = `usage: adaptc explain FILE.adapt [--json] [--batch N] [--seq N]

Prints the pipeline: each pass with its purpose and what it changed (ops and FLOPs before and after,
measured at the given batch and sequence length), the freeze analysis when the file has a train
statement, and the optimized graph.
  --json     the same as JSON
  --batch N  batch size for the statistics (default 8)
  --seq N    sequence length for the statistics (default 128)`;

export const explainCommand: Command = {
  name: 'explain',
  summary: 'show the compilation pipeline, pass by pass, and the final graph',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        batch: { type: 'string', default: '8' },
        seq: { type: 'string', default: '128' },
      },
    });
    const sizes = { B: Number(values.batch), T: Number(values.seq) };
    if (
      positionals.length !== 1 ||
      !Number.isInteger(sizes.B) ||
      !Number.isInteger(sizes.T) ||
      sizes.B < 1 ||
      sizes.T < 1
    ) {
      process.stderr.write(`${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    try {
      const e = explainFile(positionals[0], sizes);
      process.stdout.write(
        values.json ? `${JSON.stringify(explanationJson(e), null, 2)}\n` : `${formatExplanation(e)}\n`,
      );
      return EXIT_OK;
    } catch (e) {
      return reportUserError('explain', e);
    }
  },
};
