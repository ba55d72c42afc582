import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  readSafetensors,
  readSafetensorsMetadata,
  serializeSafetensors,
  writeSafetensors,
} from '../../src/checkpoint/safetensors.ts';
import { CheckpointError, type HostTensor } from '../../src/checkpoint/tensor.ts';

const GOLDEN = '/work/shared/golden';
const tmp = fs.mkdtempSync(join(os.tmpdir(), 'adaptc-st-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
function writeRaw(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(headerLength ?? BigInt(json.byteLength));
  const file = join(tmp, `raw${counter++}.safetensors`);
  fs.writeFileSync(file, Buffer.concat([prefix, json, data]));
  return file;
}

function expectCheckpointError(file: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    readSafetensors(file);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CheckpointError);
  expect((caught as CheckpointError).file).toBe(file);
  expect((caught as CheckpointError).message).toMatch(pattern);
}

describe('safetensors', () => {
  it('reads the golden model and rewrites it byte for byte', () => {
    const file = join(GOLDEN, 'model/model.safetensors');
    const dict = readSafetensors(file);
    expect(dict.get('embeddings.word_embeddings.weight')?.shape).toEqual([128, 32]);
    const metadata = readSafetensorsMetadata(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Buffer.from(serializeSafetensors(dict, metadata)).equals(fs.readFileSync(file))).toBe(true);
  });

  it('rewrites golden adapter files (no __metadata__) byte for byte', () => {
    for (const file of [
      join(GOLDEN, 'adapters/seq/adapter.safetensors'),
      join(GOLDEN, 'fusion/seq_seq2_seq3/model_adapter_fusion.safetensors'),
    ]) {
      expect(Buffer.from(serializeSafetensors(readSafetensors(file))).equals(fs.readFileSync(file))).toBe(
        true,
      );
    }
  });

  it('round-trips write → read', () => {
    const dict = new Map<string, HostTensor>([
      ['b', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-7, -1e30]) }],
      ['a', { shape: [], data: Float32Array.from([7]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const file = join(tmp, 'rt.safetensors');
    writeSafetensors(file, dict, { format: 'pt' });
    const back = readSafetensors(file);
    expect([...back.keys()].sort()).toEqual(['a', 'b', 'empty']);
    for (const [k, t] of dict) expect(back.get(k)).toEqual(t);
    expect(readSafetensorsMetadata(file)).toEqual({ format: 'pt' });
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('widens F16 and BF16 to f32', () => {
    const f16 = Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x7c00]); // 1, -2, 2^-24, inf
    const bf16 = Uint16Array.from([0x3f80, 0xbfc0]); // 1, -1.5
    const data = new Uint8Array([...new Uint8Array(f16.buffer), ...new Uint8Array(bf16.buffer)]);
    const file = writeRaw(
      {
        h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
      },
      data,
    );
    const dict = readSafetensors(file);
    expect([...dict.get('h')!.data]).toEqual([1, -2, 2 ** -24, Number.POSITIVE_INFINITY]);
    expect([...dict.get('b')!.data]).toEqual([1, -1.5]);
  });

  describe('hostile files', () => {
    const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
    it('file too short', () => {
      const file = join(tmp, 'short.safetensors');
      fs.writeFileSync(file, Buffer.from([1, 2, 3]));
      expectCheckpointError(file, /too short/);
    });
    it('truncated data section (golden model cut short)', () => {
      const file = join(tmp, 'cut.safetensors');
      const bytes = fs.readFileSync(join(GOLDEN, 'model/model.safetensors'));
      fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
      expectCheckpointError(file, /tensor '.+'.*outside the data section/);
    });
    it('header length beyond the file', () => {
      expectCheckpointError(writeRaw({ t: ok }, new Uint8Array(8), 10n ** 12n), /exceeds the file/);
    });
    it('header length near 2^64', () => {
      expectCheckpointError(writeRaw({}, new Uint8Array(0), 2n ** 64n - 1n), /exceeds the file/);
    });
    it('header not JSON', () => expectCheckpointError(writeRaw('{"t": [1,'), /not valid UTF-8 JSON/));
    it('header not an object', () => expectCheckpointError(writeRaw('[1,2]'), /not a JSON object/));
    it('unknown dtype', () => {
      expectCheckpointError(writeRaw({ t: { ...ok, dtype: 'C64' } }, new Uint8Array(8)), /tensor 't'.*dtype/);
    });
    it('negative or fractional shape', () => {
      expectCheckpointError(writeRaw({ t: { ...ok, shape: [-2] } }, new Uint8Array(8)), /tensor 't'.*shape/);
      expectCheckpointError(writeRaw({ t: { ...ok, shape: [1.5] } }, new Uint8Array(8)), /tensor 't'.*shape/);
    });
    it('absurd shape (> 2^31 elements)', () => {
      const huge = { dtype: 'F32', shape: [65536, 65536, 2], data_offsets: [0, 8] };
      expectCheckpointError(writeRaw({ t: huge }, new Uint8Array(8)), /tensor 't'.*2\^31/);
    });
    it('bad data_offsets', () => {
      expectCheckpointError(writeRaw({ t: { ...ok, data_offsets: [0] } }, new Uint8Array(8)), /data_offsets/);
      expectCheckpointError(
        writeRaw({ t: { ...ok, data_offsets: ['0', 8] } }, new Uint8Array(8)),
        /data_offsets/,
      );
    });
    it('byte length ≠ numel · itemsize', () => {
      expectCheckpointError(
        writeRaw({ t: { ...ok, data_offsets: [0, 4] } }, new Uint8Array(8)),
        /byte length/,
      );
    });
    it('offsets outside the data section', () => {
      expectCheckpointError(writeRaw({ t: { ...ok, data_offsets: [8, 16] } }, new Uint8Array(8)), /outside/);
    });
    it('overlapping ranges', () => {
      const header = { a: ok, b: { ...ok, data_offsets: [4, 12] } };
      expectCheckpointError(writeRaw(header, new Uint8Array(12)), /tensor 'b'.*overlaps 'a'/);
    });
    it('metadata that is not a string map', () => {
      expectCheckpointError(writeRaw({ __metadata__: { a: 1 } }), /__metadata__/);
    });
  });
});
