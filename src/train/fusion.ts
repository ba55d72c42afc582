// AdapterFusion's training specifics as the library applies them (semantics §1.5):
// - the softmax temperature T starts at 50 (config `temperature`) and after every forward call becomes
//   max(T − 50/1000, 1), in training and in evaluation alike; it is not saved, so a reloaded fusion
//   starts at 50 again (which is what the lowering bakes in);
// - the value-matrix regularization 0.01·Σ‖I − W_v‖²_F is back-propagated after the optimizer step,
//   so its gradient 0.02·(W_v − I), taken at the updated weights, joins the next step's gradients.
import type { Graph, NodeId } from '../ir/graph.ts';

const INITIAL_TEMPERATURE = 50;

/** T after `forwardCalls` earlier forward calls of a fusion module. */
export function fusionTemperature(forwardCalls: number): number {
  return Math.max(INITIAL_TEMPERATURE - (forwardCalls * INITIAL_TEMPERATURE) / 1000, 1);
}

/** The constants 1/T that scale fusion scores (q·kᵀ) before their softmax. */
export function temperatureConstants(g: Graph): readonly NodeId[] {
  const feedsSoftmax = new Set(g.nodes.filter((n) => n.op === 'softmax').map((n) => n.inputs[0]));
  return g.nodes.flatMap((n) => {
    if (n.op !== 'binary' || n.fn !== 'mul' || !feedsSoftmax.has(n.id)) return [];
    const [scores, scale] = n.inputs.map((i) => g.nodes[i]);
    const isTemperature =
      scores.op === 'matmul' && scale.op === 'const' && scale.value === 1 / INITIAL_TEMPERATURE;
    return isTemperature ? [scale.id] : [];
  });
}

/** The graph with every fusion temperature constant set to 1/T. */
export function withTemperature(g: Graph, constants: readonly NodeId[], temperature: number): Graph {
  if (constants.length === 0) return g;
  const ids = new Set(constants);
  return {
    nodes: g.nodes.map((n) => (ids.has(n.id) && n.op === 'const' ? { ...n, value: 1 / temperature } : n)),
    outputs: g.outputs,
  };
}

const VALUE_MATRIX = /adapter_fusion_layer\.[^.]+\.value\.weight$/;
const REGULARIZATION = 0.01;

/** The regularizer's gradient 2·0.01·(W − I) for each trainable fusion value matrix. */
export function valueRegularizationGrads(
  params: ReadonlyMap<string, Float32Array>,
): Map<string, Float32Array> {
  const grads = new Map<string, Float32Array>();
  for (const [key, w] of params) {
    if (!VALUE_MATRIX.test(key)) continue;
    const n = Math.round(Math.sqrt(w.length));
    grads.set(
      key,
      w.map((x, i) => 2 * REGULARIZATION * (x - (i % (n + 1) === 0 ? 1 : 0))),
    );
  }
  return grads;
}
