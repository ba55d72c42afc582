// e[row] = words[inputIds[row]] + positions[positionIds[row]] (+ tokenTypes[tokenTypeIds[row]]), one invocation
// per 4 columns of a row. Position ids come from the host, so BERT's arange and RoBERTa's padding-aware
// positions use the same kernel. The layer norm that follows is a separate layerNormKernel launch.

import { type Dims, dispatch1D, requireMultipleOf, type WgslKernel } from './kernel.ts';
import { renderKernel, type StorageDecl } from './render.ts';
import { renderLoad4, renderStore4, vectorElement } from './vector-access.ts';

export interface EmbeddingSpec {
  readonly name?: string;
  /** DistilBERT has no token-type table. */
  readonly tokenTypes: boolean;
  readonly alignH: 1 | 4;
  readonly workgroupSize?: number;
}

export interface EmbeddingDims extends Dims {
  readonly rows: number;
  readonly H: number;
}

export function embeddingKernel(spec: EmbeddingSpec): WgslKernel<EmbeddingDims> {
  const workgroupSize = spec.workgroupSize ?? 64;
  const name = spec.name ?? `embedding${spec.tokenTypes ? '' : '_no_token_types'}`;
  const vec = spec.alignH === 4;
  const element = vectorElement(vec);
  const tables: [string, string, string][] = [
    ['loadWord', 'words', 'inputIds'],
    ['loadPosition', 'positions', 'positionIds'],
    ...(spec.tokenTypes ? [['loadTokenType', 'tokenTypes', 'tokenTypeIds'] as [string, string, string]] : []),
  ];
  const storage: StorageDecl[] = [
    ...tables.map(([, , ids]) => ({ name: ids, access: 'read', element: 'u32' }) as const),
    ...tables.map(([, table]) => ({ name: table, access: 'read', element }) as const),
    { name: 'out', access: 'read_write', element },
  ];
  const sum = tables.map(([load, , ids]) => `${load}(${ids}[row] * p.H, at)`).join(' + ');
  return renderKernel<EmbeddingDims>(
    {
      name,
      storage,
      uniforms: [
        { name: 'rows', type: 'u32' },
        { name: 'H', type: 'u32' },
      ],
      functions: [
        ...tables.map(([load, table]) =>
          renderLoad4({ name: load, buffer: table, vectorized: vec, bound: 'p.H' }),
        ),
        renderStore4({ name: 'storeOut', buffer: 'out', vectorized: vec, bound: 'p.H' }),
      ],
      workgroupSize,
      body: [
        'let chunks = (p.H + 3u) / 4u;',
        'if (index >= p.rows * chunks) { return; }',
        'let row = index / chunks;',
        'let at = (index % chunks) * 4u;',
        `storeOut(row * p.H, at, ${sum});`,
      ],
    },
    (dims) => {
      if (vec) requireMultipleOf(name, 'H', dims.H, 4);
      return dispatch1D(dims.rows * Math.ceil(dims.H / 4), workgroupSize);
    },
  );
}
