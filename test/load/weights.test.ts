// Loading weights for a program: an adapter trained for another model is rejected when loaded.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAdapterHubFolder, writeAdapterHubFolder } from '../../src/checkpoint/adapterhub.ts';
import { CheckpointError, type HostTensor } from '../../src/checkpoint/tensor.ts';
import { CompileError, compileFile } from '../../src/compiler.ts';

const GOLDEN = resolve(dirname(new URL(import.meta.url).pathname), '../../../shared/golden');
const work = mkdtempSync(join(tmpdir(), 'adaptc-load-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The golden `seq` adapter re-shaped as if trained for a model of hidden size 16. */
function writeNarrowAdapter(dir: string, declaredHiddenSize: number): void {
  const seq = readAdapterHubFolder(join(GOLDEN, 'adapters', 'seq'), 'adapter');
  const narrow = new Map<string, HostTensor>(
    [...seq.weights].map(([key, t]) => {
      const shape = t.shape.map((d) => (d === 32 ? 16 : d));
      return [key, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }];
    }),
  );
  writeAdapterHubFolder(dir, 'adapter', {
    json: { ...seq.json, hidden_size: declaredHiddenSize },
    weights: narrow,
  });
}

function compileError(declaredHiddenSize: number): unknown {
  const name = `narrow${declaredHiddenSize}`;
  writeNarrowAdapter(join(work, name), declaredHiddenSize);
  const file = join(work, `${name}.adapt`);
  writeFileSync(file, `model "${join(GOLDEN, 'model')}"\nadapter narrow = load "${name}"\nsetup narrow\n`);
  try {
    compileFile(file);
  } catch (e) {
    return e;
  }
  return null;
}

describe('loading adapters into a model', () => {
  it('rejects an adapter saved for another hidden size when checking the file', () => {
    const error = compileError(16);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as Error).message).toMatch(/hidden.size/i);
  });

  it('rejects tensors that do not fit the model when loading them, naming the key and both shapes', () => {
    const error = compileError(32);
    expect(error).toBeInstanceOf(CheckpointError);
    const message = (error as Error).message;
    expect(message).toContain('bert.encoder.layer.0.output.adapters.narrow.adapter_down.0.weight');
    expect(message).toContain('[8,16]');
    expect(message).toContain('[8,32]');
  });
});

describe('what compiling reads', () => {
  /** A copy of the golden `seq` adapter whose weight file is garbage. */
  function writeBrokenAdapter(dir: string): void {
    const seq = readAdapterHubFolder(join(GOLDEN, 'adapters', 'seq'), 'adapter');
    writeAdapterHubFolder(dir, 'adapter', seq);
    writeFileSync(join(dir, 'adapter.safetensors'), 'not a checkpoint');
  }

  it('never opens the weights of an adapter AdapterDrop removes from every layer', () => {
    writeBrokenAdapter(join(work, 'broken'));
    const program = (drop: string) =>
      `model "${join(GOLDEN, 'model')}"\nadapter broken = load "broken"\nsetup broken${drop}\n`;
    const dropped = join(work, 'dropped.adapt');
    writeFileSync(dropped, program(' drop 0..3'));
    expect(
      compileFile(dropped).graph.nodes.some((n) => n.op === 'param' && n.origin.kind === 'adapter'),
    ).toBe(false);
    const active = join(work, 'active.adapt');
    writeFileSync(active, program(' drop 0..2'));
    expect(() => compileFile(active)).toThrow(CheckpointError);
  });
});
