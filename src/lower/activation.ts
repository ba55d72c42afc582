// AdapterHub/HF activation names (get_activation(name.lower())) → IR unary functions.
import type { UnaryFn } from '../ir/graph.ts';
import { LoweringError } from './context.ts';

const ACTIVATIONS: Readonly<Record<string, UnaryFn>> = {
  relu: 'relu',
  gelu: 'gelu',
  gelu_new: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_new',
  swish: 'silu',
  silu: 'silu',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  leakyrelu: 'leakyrelu',
  linear: 'identity',
};

export function activationFn(name: string): UnaryFn {
  const fn = ACTIVATIONS[name.toLowerCase()];
  if (!fn)
    throw new LoweringError(`activation '${name}' is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  return fn;
}
