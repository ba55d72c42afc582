// Initial values for the parameters of new adapters, fusions and heads, following the library's init
// schemes by parameter role (semantics §2, §1.5, §5.1), from a seeded generator so runs reproduce.
import type { HostTensor } from '../checkpoint/tensor.ts';

/** xorshift128+ → uniform [0,1); deterministic across platforms. */
export function seededUniform(seed: number, salt: string): () => number {
  let s0 = (seed ^ 0x9e3779b9) >>> 0;
  let s1 = 0x85ebca6b;
  for (const ch of salt) {
    s0 = Math.imul(s0 ^ ch.charCodeAt(0), 0x5bd1e995) >>> 0;
    s1 = (s1 + s0 + 0x27d4eb2d) >>> 0;
  }
  return () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x >>> 0;
    return ((s0 + s1) >>> 0) / 4294967296;
  };
}

function filled(shape: readonly number[], value: (i: number) => number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, (_, i) => value(i)) };
}

export function initialValue(key: string, shape: readonly number[], seed: number): HostTensor {
  const uniform = seededUniform(seed, key);
  const normal = (std: number) => () =>
    std * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const kaiming = () => {
    // kaiming_uniform(a=√5) on [out, in]: bound 1/√in, as nn.Linear's default.
    const bound = 1 / Math.sqrt(shape[shape.length - 1]);
    return (uniform() * 2 - 1) * bound;
  };
  if (key.endsWith('.lora_A')) return filled(shape, kaiming);
  if (key.endsWith('.lora_B')) return filled(shape, () => (shape[1] === 1 ? 1 : 0));
  if (key.endsWith('.scaling')) return filled(shape, () => 1);
  if (key.includes('adapter_fusion_layer') && key.endsWith('.value.weight')) {
    // value_initialized: identity, off-diagonal 1e-6 (not 0), as the library does.
    return filled(shape, (i) => (Math.floor(i / shape[1]) === i % shape[1] ? 1 : 1e-6));
  }
  // prompt_init "random_uniform": U(−0.5, 0.5).
  if (key.endsWith('.prompt_embedding.weight')) return filled(shape, () => uniform() - 0.5);
  if (key.endsWith('.wte.weight') || key.endsWith('self_prefix.control_trans'))
    return filled(shape, normal(1));
  if (key.includes('norm') && key.endsWith('.weight')) return filled(shape, () => 1);
  if (key.endsWith('.bias')) return filled(shape, () => 0);
  return filled(shape, normal(0.02));
}
