import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatModuleConfig,
  MODULE_FILES,
  type ModuleKind,
  readAdapterHubFolder,
  renameLegacyKey,
  renameModuleKeys,
  selectModuleKeys,
  withBasePrefix,
  withoutBasePrefix,
  writeAdapterHubFolder,
} from '../../src/checkpoint/adapterhub.ts';
import { readSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/checkpoint/tensor.ts';
import { readTorchBin } from '../../src/checkpoint/torch-bin.ts';
import { checkpointError, expectSameTensors, GOLDEN, tempDir, tensor } from './helpers.ts';

const out = tempDir('ah');

const GOLDEN_MODULES: [ModuleKind, string][] = [
  ...fs.readdirSync(join(GOLDEN, 'adapters')).map((a): [ModuleKind, string] => ['adapter', `adapters/${a}`]),
  ...fs.readdirSync(join(GOLDEN, 'heads')).map((h): [ModuleKind, string] => ['head', `heads/${h}`]),
  ['fusion', 'fusion/seq_seq2_seq3'],
];

describe('AdapterHub folders', () => {
  it.each(GOLDEN_MODULES)(
    '%s %s: read → write → read keeps tensors and config; JSON is byte-identical',
    (kind, path) => {
      const source = join(GOLDEN, path);
      const module = readAdapterHubFolder(source, kind);
      const target = join(out, path.replace('/', '_'));
      writeAdapterHubFolder(target, kind, module);
      const files = MODULE_FILES[kind];
      expect(fs.readdirSync(target).sort()).toEqual([files.config, files.weights, files.safeWeights].sort());
      const again = readAdapterHubFolder(target, kind);
      expect(again.json).toEqual(module.json);
      expectSameTensors(again.weights, module.weights);
      expectSameTensors(readTorchBin(join(target, files.weights)), module.weights);
      expect(fs.readFileSync(join(target, files.config), 'utf8')).toBe(
        fs.readFileSync(join(source, files.config), 'utf8'),
      );
      expect(
        fs
          .readFileSync(join(target, files.safeWeights))
          .equals(fs.readFileSync(join(source, files.safeWeights))),
      ).toBe(true);
    },
  );

  it('prefers safetensors and falls back to .bin', () => {
    const target = join(out, 'binonly');
    fs.mkdirSync(target);
    fs.copyFileSync(join(GOLDEN, 'adapters/seq/adapter_config.json'), join(target, 'adapter_config.json'));
    fs.copyFileSync(join(GOLDEN, 'adapters/seq/pytorch_adapter.bin'), join(target, 'pytorch_adapter.bin'));
    expectSameTensors(
      readAdapterHubFolder(target, 'adapter').weights,
      readSafetensors(join(GOLDEN, 'adapters/seq/adapter.safetensors')),
    );
    fs.rmSync(join(target, 'pytorch_adapter.bin'));
    expect(checkpointError(() => readAdapterHubFolder(target, 'adapter')).message).toMatch(
      /no adapter weights/,
    );
  });

  it('leaves the previous folder intact and no temp folders when writing fails', () => {
    const target = join(out, 'atomic');
    const module = readAdapterHubFolder(join(GOLDEN, 'heads/cls2'), 'head');
    writeAdapterHubFolder(target, 'head', module);
    const before = fs.readFileSync(join(target, 'head_config.json'));
    const broken = new Map<string, HostTensor>([
      ['heads.cls2.1.weight', { shape: [3], data: new Float32Array(2) }],
    ]);
    expect(() => writeAdapterHubFolder(target, 'head', { json: module.json, weights: broken })).toThrow(
      /≠ 2 values/,
    );
    expect(fs.readFileSync(join(target, 'head_config.json')).equals(before)).toBe(true);
    expect(fs.readdirSync(out).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
  });

  it('renames for load_as, including legacy segments, without touching other modules', () => {
    const weights = new Map([
      ['bert.encoder.layer.0.output.adapters.a.adapter_up.weight', tensor([1])],
      ['bert.encoder.layer.0.output.layer_text_task_adapters.a.adapter_down.0.weight', tensor([1])],
      ['bert.encoder.layer.0.attention.self.query.loras.a.lora_A', tensor([1])],
      ['bert.prefix_tuning.prefix_tunings.a.self_prefix.wte.weight', tensor([1])],
      ['bert.invertible_adapters.a.F.0.weight', tensor([1])],
      ['bert.shared_parameters.a.phm_rule', tensor([1])],
      ['bert.encoder.layer.0.output.adapters.ab.adapter_up.weight', tensor([1])],
    ]);
    expect([...renameModuleKeys('adapter', weights, 'a', 'z').keys()]).toEqual([
      'bert.encoder.layer.0.output.adapters.z.adapter_up.weight',
      'bert.encoder.layer.0.output.adapters.z.adapter_down.0.weight',
      'bert.encoder.layer.0.attention.self.query.loras.z.lora_A',
      'bert.prefix_tuning.prefix_tunings.z.self_prefix.wte.weight',
      'bert.invertible_adapters.z.F.0.weight',
      'bert.shared_parameters.z.phm_rule',
      'bert.encoder.layer.0.output.adapters.ab.adapter_up.weight',
    ]);
    const fusion = new Map([
      ['bert.encoder.layer.0.output.adapter_fusion_layer.a,b.query.weight', tensor([1])],
    ]);
    expect([...renameModuleKeys('fusion', fusion, 'a,b', 'f').keys()]).toEqual([
      'bert.encoder.layer.0.output.adapter_fusion_layer.f.query.weight',
    ]);
    const heads = new Map([
      ['heads.cls.1.weight', tensor([1])],
      ['heads.cls2.1.weight', tensor([1])],
    ]);
    expect([...renameModuleKeys('head', heads, 'cls', 'x').keys()]).toEqual([
      'heads.x.1.weight',
      'heads.cls2.1.weight',
    ]);
    expect(renameLegacyKey('bert.invertible_lang_adapters.en.F.0.weight')).toBe(
      'bert.invertible_adapters.en.F.0.weight',
    );
  });

  it('selects a module by the library filters and reconciles the base prefix', () => {
    const weights = new Map([
      ['bert.encoder.layer.0.output.adapters.a.adapter_up.weight', tensor([1])],
      ['bert.encoder.layer.0.output.adapters.b.adapter_up.weight', tensor([1])],
      ['heads.a.1.weight', tensor([1])],
      ['bert.heads.a.1.weight', tensor([1])],
    ]);
    expect([...selectModuleKeys('adapter', weights, 'a').keys()]).toEqual([
      'bert.encoder.layer.0.output.adapters.a.adapter_up.weight',
    ]);
    expect([...selectModuleKeys('head', weights, 'a').keys()]).toEqual(['heads.a.1.weight']);
    const bare = new Map([
      ['encoder.layer.0.output.adapters.a.adapter_up.weight', tensor([1])],
      ['heads.a.1.weight', tensor([1])],
    ]);
    const prefixed = withBasePrefix(bare);
    expect([...prefixed.keys()]).toEqual([
      'bert.encoder.layer.0.output.adapters.a.adapter_up.weight',
      'heads.a.1.weight',
    ]);
    expect([...withoutBasePrefix(prefixed).keys()]).toEqual([...bare.keys()]);
  });

  it('formats config JSON like json.dump(indent=2, sort_keys=True)', () => {
    expect(formatModuleConfig({ b: { scaling: 4, r: 8, list: [1, 'x'] }, a: [] })).toBe(
      '{\n  "a": [],\n  "b": {\n    "list": [\n      1,\n      "x"\n    ],\n    "r": 8,\n    "scaling": 4.0\n  }\n}',
    );
  });
});
