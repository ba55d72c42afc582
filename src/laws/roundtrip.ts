// Laws over the compiler's own machinery: saving in AdapterHub format and reloading through the
// checker, and the optimizer's passes.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFile } from '../compiler.ts';
import { lowerProgram } from '../lower/bert.ts';
import type { Pass } from '../passes/pass.ts';
import { runPasses } from '../passes/pass.ts';
import { INFERENCE_PASSES } from '../passes/pipeline.ts';
import { bindingsFor } from '../runtime/reference/interpret.ts';
import { firstDifference, type Law, runGraph, runProgram } from './law.ts';
import { subjectFiles, writeSubject } from './source.ts';

export const saveReload: Law = {
  name: 'save-reload',
  statement:
    'load(save(X)) = X: modules saved as AdapterHub folders, the setup as .adapt text, checked and reloaded',
  applies: (s) => s.program.setup !== null || s.program.headSetup !== null,
  check(subject, inputs) {
    const dir = fs.mkdtempSync(join(tmpdir(), 'adaptc-save-reload-'));
    try {
      const files = subjectFiles(dir, 'subject');
      writeSubject(subject, files);
      const { graph, weights } = compileFile(files.adapt);
      const message = firstDifference(
        runProgram(subject, subject.program, inputs),
        runGraph(graph, weights, inputs),
        'in memory',
        `saved and reloaded (${files.adapt})`,
      );
      return message === null ? null : { law: this.name, subject, inputs, message };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** A step's difference, or what it threw (naming the step, so a crashing pass is found too). */
function stepDifference(label: string, compare: () => string | null): string | null {
  try {
    return compare();
  } catch (e) {
    return `${label} threw ${(e as Error).message}`;
  }
}

/** Every pass alone, and the pipeline step by step, preserves what the reference interpreter computes. */
export function passesPreserve(passes: readonly Pass[] = INFERENCE_PASSES): Law {
  return {
    name: 'passes-preserve',
    statement: `⟦p(G)⟧ = ⟦G⟧ for every pass p, and ⟦pₖ∘…∘p₁(G)⟧ = ⟦G⟧ (${passes.map((p) => p.name).join(', ')})`,
    applies: () => true,
    check(subject, inputs) {
      const graph = lowerProgram(subject.program, subject.model);
      const expected = runGraph(graph, subject.weights, inputs);
      const start = { graph, weights: subject.weights };
      const sizes = bindingsFor(inputs);
      const steps = [
        ...passes.map((p) => ({ label: `pass ${p.name} alone`, passes: [p] })),
        ...passes.map((p, i) => ({
          label: `the pipeline up to ${p.name} (${i + 1})`,
          passes: passes.slice(0, i + 1),
        })),
      ];
      for (const step of steps) {
        const message = stepDifference(step.label, () => {
          const out = runPasses(start, step.passes, sizes);
          return firstDifference(expected, runGraph(out.graph, out.weights, inputs), 'lowered', step.label);
        });
        if (message !== null) return { law: this.name, subject, inputs, message };
      }
      return null;
    },
  };
}
