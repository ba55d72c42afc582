// Passes are Graph → Graph functions with a name, a one-line purpose and a report of what they changed.
// A pass that computes new parameter values (constant folding) returns them with the graph.
import type { Graph } from '../ir/graph.ts';
import type { Bindings } from '../ir/shape.ts';
import { type GraphStats, graphStats } from '../ir/stats.ts';
import type { WeightStore } from '../load/weights.ts';

export interface PassInput {
  readonly graph: Graph;
  readonly weights: WeightStore;
}

export interface PassOutput extends PassInput {
  /** What the pass did, in a few lines (e.g. "merged 2 Parallel channels into one segmented op"). */
  readonly notes: readonly string[];
}

export interface Pass {
  readonly name: string;
  readonly purpose: string;
  run(input: PassInput): PassOutput;
}

export interface PassReport {
  readonly name: string;
  readonly purpose: string;
  readonly before: GraphStats;
  readonly after: GraphStats;
  readonly notes: readonly string[];
}

export interface PipelineResult extends PassInput {
  readonly reports: readonly PassReport[];
}

/** Runs the passes in order; statistics are measured at `bindings` (a batch and sequence length). */
export function runPasses(input: PassInput, passes: readonly Pass[], bindings: Bindings): PipelineResult {
  const reports: PassReport[] = [];
  let current: PassInput = input;
  for (const pass of passes) {
    const before = graphStats(current.graph, bindings);
    const out = pass.run(current);
    reports.push({
      name: pass.name,
      purpose: pass.purpose,
      before,
      after: graphStats(out.graph, bindings),
      notes: out.notes,
    });
    current = { graph: out.graph, weights: out.weights };
  }
  return { ...current, reports };
}
