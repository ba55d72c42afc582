import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { CheckpointError, type HostTensor, type StateDict } from '../../src/checkpoint/tensor.ts';

export const GOLDEN = '/work/shared/golden';

/** A temp folder removed after the file's tests. */
export function tempDir(tag: string): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), `adaptc-${tag}-`));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function tensor(shape: number[], values?: number[]): HostTensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from(values ?? Array.from({ length: count }, (_, i) => i * 0.5 - 1)) };
}

export function expectSameTensors(actual: StateDict, expected: StateDict): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, t] of expected) {
    const a = actual.get(key)!;
    expect(a.shape, key).toEqual(t.shape);
    expect(
      Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(bytesOf(t.data)),
      key,
    ).toBe(true);
  }
}

function bytesOf(data: Float32Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Runs `fn` and returns the CheckpointError it throws (failing the test if it throws nothing else). */
export function checkpointError(fn: () => unknown): CheckpointError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a CheckpointError');
}
