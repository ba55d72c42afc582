// RoBERTa: position ids count non-padding tokens from padding_idx + 1; keys live under `roberta.`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withoutBasePrefix } from '../../src/checkpoint/adapterhub.ts';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { compileFile } from '../../src/compiler.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { B, shapeOf, T } from '../../src/ir/shape.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { interpret } from '../../src/runtime/reference/interpret.ts';
import { programOf, randomWeights } from '../../src/testing/model.ts';

const work = mkdtempSync(join(tmpdir(), 'adaptc-roberta-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const config = {
  model_type: 'roberta',
  vocab_size: 40,
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 32,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-5,
  max_position_embeddings: 20,
  type_vocab_size: 1,
  pad_token_id: 1,
};

describe('RoBERTa', () => {
  it('numbers positions like create_position_ids_from_input_ids', () => {
    const g = new GraphBuilder();
    g.output('positions', g.add({ op: 'position_ids', padding: 1 }, [g.input('input_ids', shapeOf(B, T))]));
    const ids = { shape: [2, 5], data: Int32Array.from([0, 5, 6, 1, 1, 0, 7, 2, 9, 2]) };
    const out = interpret(g.build(), () => undefined, { input_ids: ids });
    expect(Array.from(out.get('positions')!.data)).toEqual([2, 3, 4, 1, 1, 2, 3, 4, 5, 6]);
  });

  it('loads a roberta model folder and runs an adapter composition on it', () => {
    const encoder = lowerProgram(programOf({ adapters: {}, setup: null }), {
      modelType: 'roberta',
      vocabSize: 40,
      hiddenSize: 16,
      numLayers: 2,
      numHeads: 2,
      intermediateSize: 32,
      hiddenAct: 'gelu',
      layerNormEps: 1e-5,
      maxPositions: 20,
      typeVocabSize: 1,
      padTokenId: 1,
    });
    const keys = encoder.nodes.flatMap((n) => (n.op === 'param' ? [n.key] : []));
    expect(keys.every((k) => k.startsWith('roberta.'))).toBe(true);
    writeFileSync(join(work, 'config.json'), JSON.stringify(config));
    writeSafetensors(
      join(work, 'model.safetensors'),
      withoutBasePrefix(randomWeights(encoder, 5), 'roberta.'),
    );
    const file = join(work, 'roberta.adapt');
    writeFileSync(file, `model "${work}"\nadapter task = seq_bn\nsetup task\n`);
    const compiled = compileFile(file);
    const out = interpret(compiled.graph, (k) => compiled.weights.get(k), {
      input_ids: { shape: [1, 4], data: Int32Array.from([0, 8, 9, 2]) },
      attention_mask: { shape: [1, 4], data: Int32Array.from([1, 1, 1, 1]) },
      token_type_ids: { shape: [1, 4], data: new Int32Array(4) },
    });
    expect(out.get('last_hidden_state')!.shape).toEqual([1, 4, 16]);
  });
});
