// Autodiff on the IR: a forward graph plus its loss and backward pass, for the trainable set only.
import type { CheckedProgram } from '../dsl/checked.ts';
import type { Graph } from '../ir/graph.ts';
import { isTrainable } from '../passes/freeze.ts';
import { appendBackward, GRAD_PREFIX } from './backward.ts';
import { appendLoss, LOSS_OUTPUT } from './loss.ts';
import { AutodiffError } from './rules.ts';

export { appendBackward, GRAD_PREFIX, nodesNeedingGradients, type ParamNode } from './backward.ts';
export { appendLoss, headOutputs, LOSS_OUTPUT } from './loss.ts';
export { AutodiffError } from './rules.ts';

/** The program's forward graph with its head losses and the gradients of its trainable parameters. */
export function trainingGraph(graph: Graph, program: CheckedProgram): Graph {
  const training = program.training;
  if (training === null) throw new AutodiffError('the program has no train statement');
  const withLoss = appendLoss(graph, (name) => {
    const head = program.heads.get(name);
    if (!head) throw new AutodiffError(`unknown head '${name}'`);
    return head.config;
  });
  return appendBackward(withLoss, { loss: LOSS_OUTPUT, trainable: (p) => isTrainable(p.origin, training) });
}

/** Gradient outputs by parameter key. */
export function gradientKeys(g: Graph): readonly string[] {
  return g.outputs.filter((o) => o.name.startsWith(GRAD_PREFIX)).map((o) => o.name.slice(GRAD_PREFIX.length));
}
