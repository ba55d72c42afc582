import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatModuleConfig } from '../../src/checkpoint/adapterhub.ts';
import { readPeftLoraFolder } from '../../src/checkpoint/peft.ts';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/checkpoint/tensor.ts';
import { checkpointError, GOLDEN, tempDir, tensor } from './helpers.ts';

const root = tempDir('peft');
let counter = 0;

const BASE_CONFIG = {
  peft_type: 'LORA',
  task_type: 'FEATURE_EXTRACTION',
  r: 4,
  lora_alpha: 8,
  lora_dropout: 0,
  target_modules: ['query', 'value'],
  bias: 'none',
  fan_in_fan_out: false,
  use_rslora: false,
  use_dora: false,
  modules_to_save: null,
  rank_pattern: {},
  alpha_pattern: {},
};

function loraPair(prefix: string, module: string, suffix = '.weight'): [string, HostTensor][] {
  return [
    [`${prefix}${module}.lora_A${suffix}`, tensor([4, 32])],
    [`${prefix}${module}.lora_B${suffix}`, tensor([32, 4])],
  ];
}

function peftFolder(config: Record<string, unknown>, weights: [string, HostTensor][]): string {
  const dir = join(root, `p${counter++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config));
  writeSafetensors(join(dir, 'adapter_model.safetensors'), new Map(weights));
  return dir;
}

describe('PEFT LoRA import', () => {
  it('maps keys and config to the AdapterHub LoRA layout (matches the golden lora config)', () => {
    const weights = [0, 1, 2, 3].flatMap((i) => [
      ...loraPair(`base_model.model.encoder.layer.${i}.`, 'attention.self.query'),
      ...loraPair(`base_model.model.bert.encoder.layer.${i}.`, 'attention.self.value', '.default.weight'),
    ]);
    const adapter = readPeftLoraFolder(peftFolder(BASE_CONFIG, weights), 'lora');
    const golden = JSON.parse(fs.readFileSync(join(GOLDEN, 'adapters/lora/adapter_config.json'), 'utf8'));
    expect(formatModuleConfig(adapter.config)).toBe(formatModuleConfig(golden.config));
    const goldenKeys = [
      ...fs
        .readFileSync(join(GOLDEN, 'adapters/lora/adapter.safetensors'))
        .subarray(8, 4000)
        .toString()
        .matchAll(/"(bert\.[^"]+)"/g),
    ].map((m) => m[1]);
    expect([...adapter.weights.keys()].sort()).toEqual(goldenKeys.sort());
  });

  it('maps intermediate.dense and output.dense from the wrapped modules when target_modules is a regex', () => {
    const config = {
      ...BASE_CONFIG,
      target_modules: '.*(query|key|value|intermediate\\.dense|layer\\.\\d+\\.output\\.dense)',
    };
    const weights = [
      'attention.self.query',
      'attention.self.key',
      'attention.self.value',
      'intermediate.dense',
      'output.dense',
    ].flatMap((m) => loraPair('base_model.model.encoder.layer.0.', m));
    const adapter = readPeftLoraFolder(peftFolder(config, weights), 'x');
    expect(adapter.config).toMatchObject({
      attn_matrices: ['q', 'k', 'v'],
      intermediate_lora: true,
      output_lora: true,
    });
    expect(adapter.weights.has('bert.encoder.layer.0.output.dense.loras.x.lora_B')).toBe(true);
  });

  it.each([
    ['use_rslora', { use_rslora: true }],
    ['use_dora', { use_dora: true }],
    ['bias', { bias: 'all' }],
    ['fan_in_fan_out', { fan_in_fan_out: true }],
    ["target module 'dense'", { target_modules: ['query', 'dense'] }],
    // PEFT matches 'output.dense' as a suffix, so it wraps attention.output.dense as well.
    ["target module 'output.dense'", { target_modules: ['query', 'output.dense'] }],
    ['peft_type', { peft_type: 'IA3' }],
  ])('rejects what AdapterHub cannot express: %s', (what, override) => {
    const dir = peftFolder(
      { ...BASE_CONFIG, ...override },
      loraPair('base_model.model.encoder.layer.0.', 'attention.self.query'),
    );
    expect(checkpointError(() => readPeftLoraFolder(dir, 'x')).message).toContain(what);
  });

  it('rejects attention.output.dense weights, naming the key', () => {
    const key = 'base_model.model.encoder.layer.0.attention.output.dense';
    const dir = peftFolder(
      BASE_CONFIG,
      loraPair('base_model.model.encoder.layer.0.', 'attention.output.dense'),
    );
    const err = checkpointError(() => readPeftLoraFolder(dir, 'x'));
    expect(err.tensor).toBe(`${key}.lora_A.weight`);
  });

  it('turns layers without LoRA into leave_out and rejects partially covered layers', () => {
    const gap = [0, 2].flatMap((i) =>
      loraPair(`base_model.model.encoder.layer.${i}.`, 'attention.self.query'),
    );
    const config = { ...BASE_CONFIG, target_modules: ['query'] };
    expect(readPeftLoraFolder(peftFolder(config, gap), 'x').config.leave_out).toEqual([1]);
    const partial = [
      ...loraPair('base_model.model.encoder.layer.0.', 'attention.self.query'),
      ...loraPair('base_model.model.encoder.layer.0.', 'attention.self.value'),
      ...loraPair('base_model.model.encoder.layer.1.', 'attention.self.query'),
    ];
    expect(checkpointError(() => readPeftLoraFolder(peftFolder(BASE_CONFIG, partial), 'x')).tensor).toBe(
      'bert.encoder.layer.1.attention.self.value.loras.x.lora_A',
    );
  });

  it('rejects unknown keys, missing partners and rank mismatches', () => {
    const odd = peftFolder(BASE_CONFIG, [['base_model.model.classifier.weight', tensor([2, 32])]]);
    expect(checkpointError(() => readPeftLoraFolder(odd, 'x')).tensor).toBe(
      'base_model.model.classifier.weight',
    );
    const lonely = peftFolder(BASE_CONFIG, [
      loraPair('base_model.model.encoder.layer.0.', 'attention.self.query')[0],
    ]);
    expect(checkpointError(() => readPeftLoraFolder(lonely, 'x')).message).toMatch(/no matching lora_B/);
    const ranked = peftFolder(
      { ...BASE_CONFIG, r: 8 },
      loraPair('base_model.model.encoder.layer.0.', 'attention.self.query'),
    );
    expect(checkpointError(() => readPeftLoraFolder(ranked, 'x')).message).toMatch(/rank r = 8/);
  });
});
