// The library's config hash (get_adapter_config_hash, semantics §6): drop falsy values recursively,
// drop keys at their v2-era defaults, dump with sorted keys, SHA-1, first 16 hex digits.
import { createHash } from 'node:crypto';
import { ADAPTER_FLOAT_KEYS, adapterConfigToJson } from './adapter.ts';
import { isRecord } from './fields.ts';
import { pythonJson } from './python-json.ts';
import type { AdapterConfig } from './types.ts';

const HASH_IGNORED_DEFAULTS: Readonly<Record<string, unknown>> = {
  phm_layer: true,
  phm_dim: 4,
  factorized_phm_W: true,
  shared_W_phm: false,
  shared_phm_rule: true,
  factorized_phm_rule: false,
  phm_c_init: 'normal',
  phm_init_range: 0.0001,
  learn_phm: true,
  hypercomplex_nonlinearity: 'glorot-uniform',
  phm_rank: 1,
  phm_bias: true,
  init_weights: 'bert',
  scaling: 1.0,
};

/** Python truthiness: empty lists and dicts, 0, '', false and null are falsy. */
const truthy = (v: unknown): boolean =>
  Array.isArray(v) ? v.length > 0 : isRecord(v) ? Object.keys(v).length > 0 : Boolean(v);

const minimize = (v: unknown): unknown =>
  isRecord(v)
    ? Object.fromEntries(
        Object.entries(v)
          .filter(([, x]) => truthy(x))
          .map(([k, x]) => [k, minimize(x)]),
      )
    : v;

export function configHash(config: AdapterConfig, length = 16): string {
  const minimized = minimize(adapterConfigToJson(config)) as Record<string, unknown>;
  const kept = Object.fromEntries(
    Object.entries(minimized).filter(([key, value]) => HASH_IGNORED_DEFAULTS[key] !== value),
  );
  const text = pythonJson(kept, { floatKeys: ADAPTER_FLOAT_KEYS });
  return createHash('sha1').update(text, 'utf8').digest('hex').slice(0, length);
}
