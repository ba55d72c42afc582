// Text form of the IR: one op per line with its shape, for snapshot tests and `adaptc explain`.
import type { Graph, Node, ParamOrigin } from './graph.ts';
import { formatDim, formatShape } from './shape.ts';

export function formatOrigin(o: ParamOrigin): string {
  return o.kind === 'base' ? 'base' : `${o.kind} ${o.name}`;
}

function attrs(n: Node): string {
  switch (n.op) {
    case 'input':
      return ` ${n.name}`;
    case 'param':
      return ` @${n.key} (${formatOrigin(n.origin)})`;
    case 'const':
      return ` ${n.value}`;
    case 'position_ids':
      return `{padding=${n.padding}}`;
    case 'matmul':
      return n.transB ? '.tB' : '';
    case 'binary':
    case 'unary':
    case 'unary_grad':
      return `.${n.fn}`;
    case 'layernorm_grad':
      return `{eps=${n.eps}, wrt=${n.wrt}}`;
    case 'dropout_mask':
      return `{p=${n.p}, stream=${n.stream}}`;
    case 'layernorm':
      return `{eps=${n.eps}}`;
    case 'mean':
    case 'sum':
    case 'concat':
      return `{axis=${n.axis}}`;
    case 'reshape':
    case 'expand':
      return `{${formatShape(n.to)}}`;
    case 'permute':
      return `{${n.perm.join(',')}}`;
    case 'slice':
      return `{axis=${n.axis}, ${formatDim(n.start)}:${formatDim(n.end)}}`;
    case 'segmented_linear':
      return `{rows ${n.bounds.map(formatDim).join('|')}}`;
    case 'tile':
      return `{x${n.times}}`;
    default:
      return '';
  }
}

export function formatNode(n: Node): string {
  const args = n.inputs.length > 0 ? ` ${n.inputs.map((i) => `%${i}`).join(', ')}` : '';
  const type = `${n.dtype === 'f32' ? '' : n.dtype}${formatShape(n.shape)}`;
  const line = `%${n.id} = ${n.op}${attrs(n)}${args} : ${type}`;
  return n.scope ? `${line.padEnd(72)} # ${n.scope}` : line;
}

export function printGraph(g: Graph): string {
  const body = g.nodes.map(formatNode);
  const outs = g.outputs.map((o) => `  ${o.name} = %${o.node}`);
  return [...body, 'outputs:', ...outs].join('\n');
}
