// Backward against central finite differences on generated compositions (scenarioArb: every method
// family, composition block, fusion option and AdapterDrop set), for every trainable parameter: the
// directional derivative ⟨∇L, v⟩ along a random unit direction v per tensor equals
// (L(θ + h·v) − L(θ − h·v)) / 2h. The loss evaluations, θ ± h·v and the backward pass all run in f64
// (the reference interpreter's `precision: 'f64'`), so h and the tolerance are sized for f64 central
// differences (see SPEC.md "Training").
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendBackward,
  appendLoss,
  GRAD_PREFIX,
  gradientKeys,
  LOSS_OUTPUT,
  trainingGraph,
} from '../../src/autodiff/index.ts';
import { ADAPTER_PRESETS, methodFamilies, resolveHeadConfig } from '../../src/config/index.ts';
import type { HeadConfig } from '../../src/config/types.ts';
import type { CheckedProgram } from '../../src/dsl/checked.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { seededUniform } from '../../src/load/init.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { freezeReport, isTrainable, ownerOfKey } from '../../src/passes/freeze.ts';
import { type Inputs, interpret, type WeightTensor } from '../../src/runtime/reference/interpret.ts';
import { scenarioArb } from '../../src/testing/arbitraries.ts';
import {
  programOf,
  randomInputs,
  randomLabels,
  randomWeights,
  tinyEncoderConfig,
  trainingTargets,
} from '../../src/testing/model.ts';

// h = 1e-5 balances truncation (∝ h², it dominates at 1e-4) against round-off (∝ ε/h, at 1e-6).
// Measured at h = 1e-5 over FC_SEED 20261128 and 1..5 (600 compositions):
// |fd − backward| ≤ 1.2e-8, relative error ≤ 2.7e-7 where |backward| > 1e-4, and the largest ratio of
// the error to ATOL + RTOL·|backward| is 0.037 (≥ 27× margin); the all-trainable model: ≤ 1.1e-11.
const STEP = 1e-5;
const FC_SEED = Number(process.env.FC_SEED ?? 20261128);
const ATOL = 1e-8;
const RTOL = 1e-6;
const F64 = { precision: 'f64' } as const;
/** Parameters by key: the f32 weights, or f64 ones shifted along a direction. */
type Weights = ReadonlyMap<string, WeightTensor>;

/** A parameter's kind: its module family (methods by their adapter config) and its last key segments. */
function kindOf(program: CheckedProgram, key: string): string {
  const owner = ownerOfKey(key);
  const family =
    owner.kind === 'adapter'
      ? methodFamilies(program.adapters.get(owner.name)!.config).join('+')
      : owner.kind;
  const path =
    owner.kind === 'base' ? key : key.slice(key.lastIndexOf(`${owner.name}.`) + owner.name.length + 1);
  return `${family}:${path
    .split('.')
    .filter((s) => !/^\d+$/.test(s))
    .join('.')}`;
}

function unitDirection(size: number, seed: number, key: string): Float64Array {
  const uniform = seededUniform(seed, `direction ${key}`);
  const v = Float64Array.from({ length: size }, () => uniform() - 0.5);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function lossAt(g: Graph, weights: Weights, inputs: Inputs): number {
  return interpret(g, (k) => weights.get(k), inputs, undefined, F64).get(LOSS_OUTPUT)!.data[0];
}

function classification(): HeadConfig {
  const head = resolveHeadConfig('classification', { num_labels: 2 });
  if (!head.ok) throw new Error('classification head');
  return head.value;
}

/** ⟨∇L, v⟩ from the backward pass and (L(θ + h·v) − L(θ − h·v)) / 2h, for a random unit v on `key`. */
function directional(
  lossGraph: Graph,
  weights: Weights,
  inputs: Inputs,
  grad: ArrayLike<number>,
  key: string,
  seed: number,
): { fd: number; analytic: number } {
  const w = weights.get(key)!;
  const v = unitDirection(w.data.length, seed, key);
  const shifted = (sign: number) =>
    new Map(weights).set(key, {
      shape: w.shape,
      data: Float64Array.from(w.data, (x, i) => x + sign * STEP * v[i]),
    });
  const fd = (lossAt(lossGraph, shifted(1), inputs) - lossAt(lossGraph, shifted(-1), inputs)) / (2 * STEP);
  const analytic = v.reduce((acc, vi, i) => acc + vi * grad[i], 0);
  return { fd, analytic };
}

const covered = new Set<string>();
let checks = 0;

describe('backward equals central finite differences', () => {
  it('on generated compositions, for every trainable parameter', () => {
    fc.assert(
      fc.property(scenarioArb, ({ model, program, batch, seq, seed }) => {
        const forward = lowerProgram(program, model);
        const weights = randomWeights(forward, seed);
        const inputs: Inputs = {
          ...randomInputs(batch, seq, model.vocabSize, seed),
          labels: randomLabels(batch, 2, seed),
        };
        for (const training of trainingTargets(program)) {
          const trained = { ...program, training };
          const lossGraph = appendLoss(forward, (name) => program.heads.get(name)!.config);
          const graph = trainingGraph(forward, trained);
          const out = interpret(graph, (k) => weights.get(k), inputs, undefined, F64);
          for (const key of gradientKeys(graph)) {
            const { fd, analytic } = directional(
              lossGraph,
              weights,
              inputs,
              out.get(`${GRAD_PREFIX}${key}`)!.data,
              key,
              seed,
            );
            expect(Math.abs(fd - analytic), `${key}: fd ${fd}, backward ${analytic}`).toBeLessThanOrEqual(
              ATOL + RTOL * Math.abs(analytic),
            );
            covered.add(kindOf(program, key));
            checks++;
          }
          // Only trainable parameters get gradients; nothing below the lowest trainable layer runs backward.
          const trainable = new Set(
            forward.nodes.flatMap((n) =>
              n.op === 'param' && isTrainable(n.origin, training) ? [n.key] : [],
            ),
          );
          expect(gradientKeys(graph).every((k) => trainable.has(k))).toBe(true);
          const lowest = freezeReport(forward, weights, training, model.numLayers).lowestTrainableLayer;
          const backwardLayers = graph.nodes
            .slice(lossGraph.nodes.length)
            .flatMap((n) => /^layer(\d+)\./.exec(n.scope)?.[1] ?? [])
            .map(Number);
          expect(backwardLayers.every((l) => lowest !== null && l >= lowest)).toBe(true);
        }
      }),
      { numRuns: 100, seed: FC_SEED },
    );
    const families = new Set([...covered].map((k) => k.split(':')[0]));
    expect([...families].sort()).toEqual(['bottleneck', 'fusion', 'head', 'ia3', 'lora', 'prefix_tuning']);
    console.log(
      `${checks} directional checks over ${covered.size} parameter kinds: ${[...covered].sort().join(', ')}`,
    );
  }, 180_000);

  it('with every parameter trainable (embeddings, base LayerNorms and linears included)', () => {
    const program = programOf({
      adapters: { a: ADAPTER_PRESETS.seq_bn() },
      heads: { h: classification() },
      setup: 'a',
      headSetup: { kind: 'single', head: 'h' },
    });
    const model = tinyEncoderConfig({ hidden: 8, layers: 2, heads: 2, intermediate: 16 });
    const forward = lowerProgram(program, model);
    const weights = randomWeights(forward, 5);
    const inputs: Inputs = {
      ...randomInputs(2, 4, model.vocabSize, 5),
      labels: { shape: [2], data: Int32Array.of(0, 1) },
    };
    const lossGraph = appendLoss(forward, () => classification());
    const graph = appendBackward(lossGraph, { loss: LOSS_OUTPUT, trainable: () => true });
    const out = interpret(graph, (k) => weights.get(k), inputs, undefined, F64);
    const keys = gradientKeys(graph);
    // Every parameter but the pooler's: a head with use_pooler false does not read it.
    const reached = forward.nodes.flatMap((n) =>
      n.op === 'param' && !n.key.includes('.pooler.') ? [n.key] : [],
    );
    expect([...keys].sort()).toEqual(reached.sort());
    for (const key of keys) {
      const { fd, analytic } = directional(
        lossGraph,
        weights,
        inputs,
        out.get(`${GRAD_PREFIX}${key}`)!.data,
        key,
        5,
      );
      expect(Math.abs(fd - analytic), `${key}: fd ${fd}, backward ${analytic}`).toBeLessThanOrEqual(
        ATOL + RTOL * Math.abs(analytic),
      );
    }
  });
});
