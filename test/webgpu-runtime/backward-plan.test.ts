// The backward kernel plan (no GPU needed): no kernel computes a frozen parameter's gradient, and layers
// below the lowest trainable parameter get no backward kernels at all.
import { describe, expect, it } from 'vitest';
import {
  appendBackward,
  appendLoss,
  GRAD_PREFIX,
  LOSS_OUTPUT,
  type ParamNode,
  trainingGraph,
} from '../../src/autodiff/index.ts';
import { type KernelPlan, planKernels, writtenBy } from '../../src/codegen-wgsl/kernel-plan.ts';
import { compileFile } from '../../src/compiler.ts';
import { ADAPTER_PRESETS, resolveHeadConfig } from '../../src/config/index.ts';
import type { Graph, NodeId } from '../../src/ir/graph.ts';
import { scopeFlops } from '../../src/ir/stats.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { freezeReport, isTrainable } from '../../src/passes/freeze.ts';
import { programOf, randomWeights, tinyEncoderConfig } from '../../src/testing/model.ts';
import { gradientCases } from '../golden/cases.ts';

/** For every node, the graph outputs its value reaches. */
function outputsReached(g: Graph): Set<string>[] {
  const reached = g.nodes.map(() => new Set<string>());
  for (const o of g.outputs) reached[o.node].add(o.name);
  for (let id = g.nodes.length - 1; id >= 0; id--) {
    for (const input of g.nodes[id].inputs) for (const name of reached[id]) reached[input].add(name);
  }
  return reached;
}

/** Every node a backward kernel writes (steps whose output lies in a `…/backward` scope). */
function backwardWrites(plan: KernelPlan): NodeId[] {
  return plan.steps
    .filter((s) => plan.graph.nodes[s.group.node].scope.endsWith('/backward'))
    .flatMap((s) => [...writtenBy(s)]);
}

/**
 * A kernel computing a frozen parameter's gradient would write a node that reaches no output (there is no
 * `grad.` output for a frozen parameter): so every backward write must reach the gradient of a trainable one.
 */
function expectOnlyTrainableGradients(graph: Graph, trainable: ReadonlySet<string>): KernelPlan {
  const plan = planKernels(graph);
  const gradOutputs = graph.outputs.filter((o) => o.name.startsWith(GRAD_PREFIX));
  expect(gradOutputs.every((o) => trainable.has(o.name.slice(GRAD_PREFIX.length)))).toBe(true);
  const reached = outputsReached(graph);
  const writes = backwardWrites(plan);
  expect(writes.length).toBeGreaterThan(0);
  for (const id of writes) {
    const names = [...reached[id]].filter((n) => n.startsWith(GRAD_PREFIX));
    expect(names.length, `%${id} ${graph.nodes[id].op} (${graph.nodes[id].scope})`).toBeGreaterThan(0);
  }
  return plan;
}

const classification = () => {
  const head = resolveHeadConfig('classification', { num_labels: 2 });
  if (!head.ok) throw new Error('head');
  return head.value;
};

describe('the backward kernel plan', () => {
  it.each(gradientCases)(
    '%s: every backward kernel feeds a trainable parameter’s gradient',
    (_call, file) => {
      const compiled = compileFile(file);
      const training = compiled.program.training!;
      const trainable = new Set(
        compiled.graph.nodes.flatMap((n) =>
          n.op === 'param' && isTrainable(n.origin, training) ? [n.key] : [],
        ),
      );
      expectOnlyTrainableGradients(trainingGraph(compiled.graph, compiled.program), trainable);
    },
  );

  it('has no backward kernels in layers below the lowest trainable one', () => {
    const model = tinyEncoderConfig({ hidden: 8, layers: 4, heads: 2, intermediate: 16 });
    const program = programOf({
      adapters: { a: { ...ADAPTER_PRESETS.seq_bn(), leave_out: [0, 1] } as never },
      heads: { h: classification() },
      setup: 'a',
      headSetup: { kind: 'single', head: 'h' },
    });
    const training = { target: 'adapter', setup: 'a', unfreezeAdapters: false, randomDrop: null } as const;
    const forward = lowerProgram(program, model);
    const trainable = new Set(
      forward.nodes.flatMap((n) => (n.op === 'param' && isTrainable(n.origin, training) ? [n.key] : [])),
    );
    const report = freezeReport(forward, randomWeights(forward, 1), training, model.numLayers);
    expect(report.lowestTrainableLayer).toBe(2);
    const plan = expectOnlyTrainableGradients(trainingGraph(forward, { ...program, training }), trainable);
    const layers = new Set(
      backwardWrites(plan).flatMap((id) => /^layer(\d+)\./.exec(plan.graph.nodes[id].scope)?.[1] ?? []),
    );
    expect([...layers].sort()).toEqual(['2', '3']);
  });

  it('skips frozen weights’ gradient contractions: a fraction of full training’s backward FLOPs', () => {
    const model = tinyEncoderConfig({ hidden: 64, layers: 2, heads: 2, intermediate: 256 });
    const program = programOf({
      adapters: { a: ADAPTER_PRESETS.seq_bn() },
      heads: { h: classification() },
      setup: 'a',
      headSetup: { kind: 'single', head: 'h' },
    });
    const training = { target: 'adapter', setup: 'a', unfreezeAdapters: false, randomDrop: null } as const;
    const lossGraph = appendLoss(lowerProgram(program, model), () => classification());
    const env = { B: 2, T: 16 };
    const backwardFlops = (trainable: (p: ParamNode) => boolean) =>
      scopeFlops(appendBackward(lossGraph, { loss: LOSS_OUTPUT, trainable }), env, '') -
      scopeFlops(lossGraph, env, '');
    const ratio = backwardFlops((p) => isTrainable(p.origin, training)) / backwardFlops(() => true);
    // Measured 0.27: no weight gradients for frozen linears, and no backward below layer 0's adapter.
    expect(ratio).toBeLessThan(0.35);
  });
});
