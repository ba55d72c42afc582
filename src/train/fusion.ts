// AdapterFusion's training specifics as the library applies them (semantics §1.5):
// - the softmax temperature T starts at 50 (config `temperature`) and after every forward call becomes
//   max(T − 50/1000, 1), in training and in evaluation alike; it is not saved, so a reloaded fusion
//   starts at 50 again (which is what the lowering bakes in);
// - the value-matrix regularization 0.01·Σ‖I − W_v‖²_F is back-propagated after the optimizer step,
//   so its gradient 0.02·(W_v − I), taken at the updated weights, joins the next step's gradients.
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph, Node, NodeId } from '../ir/graph.ts';

const INITIAL_TEMPERATURE = 50;

/** T after `forwardCalls` earlier forward calls of a fusion module. */
export function fusionTemperature(forwardCalls: number): number {
  return Math.max(INITIAL_TEMPERATURE - (forwardCalls * INITIAL_TEMPERATURE) / 1000, 1);
}

/** Whether `n` scales fusion scores (q·kᵀ) by the lowering's constant 1/T before their softmax. */
function scalesByTemperature(g: Graph, n: Node, softmaxInputs: ReadonlySet<NodeId>): boolean {
  if (n.op !== 'binary' || n.fn !== 'mul' || !softmaxInputs.has(n.id)) return false;
  const [scores, scale] = n.inputs.map((i) => g.nodes[i]);
  return scores.op === 'matmul' && scale.op === 'const' && scale.value === 1 / INITIAL_TEMPERATURE;
}

/**
 * The graph with every fusion temperature read from the f32 scalar input `fusion_scale` (1/T), so one
 * compiled graph serves every step of the schedule; unchanged when the graph has no fusion.
 */
export function temperatureAsInput(g: Graph): Graph {
  const softmaxInputs = new Set(g.nodes.filter((n) => n.op === 'softmax').map((n) => n.inputs[0]));
  if (!g.nodes.some((n) => scalesByTemperature(g, n, softmaxInputs))) return g;
  const b = new GraphBuilder();
  const mapped = new Map<NodeId, NodeId>();
  for (const n of g.nodes) {
    b.scope = n.scope;
    const inputs = n.inputs.map((i) => mapped.get(i)!);
    if (scalesByTemperature(g, n, softmaxInputs)) inputs[1] = b.input('fusion_scale', [], 'f32');
    mapped.set(n.id, b.copy(n, inputs));
  }
  for (const o of g.outputs) b.output(o.name, mapped.get(o.node)!);
  return b.build();
}

/** The `fusion_scale` input after `forwardCalls` earlier forward calls. */
export const fusionScaleInput = (forwardCalls: number) => ({
  shape: [],
  data: Float32Array.of(1 / fusionTemperature(forwardCalls)),
});

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
