// Model inputs and outputs as users hand them over: `inputs.json` in, `out.json` out.
import type { Graph } from '../ir/graph.ts';
import type { Inputs, Tensor } from './reference/interpret.ts';

export class InputError extends Error {
  override name = 'InputError';
}

type IdMatrix = readonly (readonly number[])[];

export interface InputJson {
  readonly input_ids: IdMatrix;
  readonly attention_mask?: IdMatrix;
  readonly token_type_ids?: IdMatrix;
  readonly task_ids?: readonly number[];
}

function matrix(name: string, value: unknown, rows?: number, cols?: number): Tensor {
  if (!Array.isArray(value) || value.length === 0)
    throw new InputError(`${name} must be a non-empty list of rows`);
  const width = cols ?? (Array.isArray(value[0]) ? value[0].length : -1);
  if (rows !== undefined && value.length !== rows) {
    throw new InputError(`${name} has ${value.length} rows, input_ids has ${rows}`);
  }
  const data = new Int32Array(value.length * Math.max(width, 0));
  value.forEach((row: unknown, r) => {
    if (!Array.isArray(row) || row.length !== width || width === 0) {
      throw new InputError(
        `${name} row ${r} has ${Array.isArray(row) ? row.length : 'no'} tokens, expected ${width}`,
      );
    }
    row.forEach((v: unknown, c) => {
      if (!Number.isInteger(v))
        throw new InputError(`${name}[${r}][${c}] = ${JSON.stringify(v)} is not an integer`);
      data[r * width + c] = v as number;
    });
  });
  return { shape: [value.length, width], data };
}

/** Validates inputs.json; a missing attention mask is all ones and missing token types are zeros, as in HF. */
export function inputsFromJson(json: unknown): Inputs {
  if (typeof json !== 'object' || json === null) throw new InputError('inputs must be a JSON object');
  const o = json as Record<string, unknown>;
  const ids = matrix('input_ids', o.input_ids);
  const [rows, cols] = ids.shape;
  const fill = (v: number): Tensor => ({ shape: [rows, cols], data: new Int32Array(rows * cols).fill(v) });
  const inputs: Inputs = {
    input_ids: ids,
    attention_mask:
      o.attention_mask === undefined ? fill(1) : matrix('attention_mask', o.attention_mask, rows, cols),
    token_type_ids:
      o.token_type_ids === undefined ? fill(0) : matrix('token_type_ids', o.token_type_ids, rows, cols),
  };
  if (o.task_ids !== undefined) {
    if (!Array.isArray(o.task_ids) || o.task_ids.length !== rows || !o.task_ids.every(Number.isInteger)) {
      throw new InputError(`task_ids must be ${rows} integers, one per row`);
    }
    return { ...inputs, task_ids: { shape: [rows], data: Int32Array.from(o.task_ids) } };
  }
  return inputs;
}

export interface TensorJson {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

export interface OutputJson {
  readonly backend: string;
  readonly outputs: {
    readonly last_hidden_state: TensorJson;
    readonly pooler_output: TensorJson;
    readonly heads: Readonly<Record<string, TensorJson>>;
    readonly fusion_attentions?: Readonly<Record<string, TensorJson>>;
  };
}

const tensorJson = (t: Tensor): TensorJson => ({ shape: [...t.shape], data: Array.from(t.data) });

/** Groups graph outputs (`heads.NAME`, `fusion_attentions.KEY`) into the out.json layout. */
export function outputsToJson(
  graph: Graph,
  values: ReadonlyMap<string, Tensor>,
  backend: string,
): OutputJson {
  const group = (prefix: string) =>
    Object.fromEntries(
      graph.outputs
        .filter((o) => o.name.startsWith(prefix))
        .map((o) => [o.name.slice(prefix.length), tensorJson(values.get(o.name)!)]),
    );
  const fusion = group('fusion_attentions.');
  return {
    backend,
    outputs: {
      last_hidden_state: tensorJson(values.get('last_hidden_state')!),
      pooler_output: tensorJson(values.get('pooler_output')!),
      heads: group('heads.'),
      ...(Object.keys(fusion).length > 0 ? { fusion_attentions: fusion } : {}),
    },
  };
}
