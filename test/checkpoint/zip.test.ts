import * as fs from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { serializeZip, ZipReader } from '../../src/checkpoint/zip.ts';
import { checkpointError, tempDir } from './helpers.ts';

const dir = tempDir('zip');
let counter = 0;
function writeFile(bytes: Uint8Array): string {
  const file = join(dir, `z${counter++}.zip`);
  fs.writeFileSync(file, bytes);
  return file;
}

function readAll(file: string): Map<string, Buffer> {
  const zip = ZipReader.open(file);
  try {
    return new Map([...zip.entries.keys()].map((name) => [name, Buffer.from(zip.read(name))]));
  } finally {
    zip.close();
  }
}

interface RawEntry {
  name: string;
  method: 0 | 8;
  stored: Uint8Array;
  crc: number;
  size: number;
}

/** A classic (non-ZIP64) archive whose central directory says whatever the test wants. */
function rawZip(entries: readonly RawEntry[]): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt16LE(name.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(e.method, 10);
    c.writeUInt32LE(e.crc, 16);
    c.writeUInt32LE(e.stored.byteLength, 20);
    c.writeUInt32LE(e.size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    parts.push(local, name, Buffer.from(e.stored));
    offset += 30 + name.length + e.stored.byteLength;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}

describe('zip', () => {
  it('round-trips the torch-style stored layout with 64-byte aligned data', () => {
    const members = [
      { name: 'a/data.pkl', data: Buffer.from('hello') },
      { name: 'a/data/0', data: Buffer.alloc(1000, 7) },
      { name: 'a/version', data: Buffer.from('3\n') },
    ];
    const bytes = serializeZip(members);
    const file = writeFile(bytes);
    const back = readAll(file);
    for (const m of members) expect(back.get(m.name)?.equals(m.data)).toBe(true);
    const idx = Buffer.from(bytes).indexOf(Buffer.alloc(1000, 7));
    expect(idx % 64).toBe(0);
  });

  it('reads deflated members', () => {
    const data = Buffer.from('abc'.repeat(1000));
    const file = writeFile(
      rawZip([{ name: 'd', method: 8, stored: deflateRawSync(data), crc: crc32(data), size: data.length }]),
    );
    expect(readAll(file).get('d')?.equals(data)).toBe(true);
  });

  it('stops a zip bomb at its declared size', () => {
    const huge = Buffer.alloc(10_000_000);
    const stored = deflateRawSync(huge);
    const file = writeFile(rawZip([{ name: 'bomb', method: 8, stored, crc: crc32(huge), size: 1000 }]));
    const err = checkpointError(() => readAll(file));
    expect(err.file).toBe(file);
    expect(err.message).toMatch(/zip member 'bomb'.*inflate/);
  });

  it('rejects declared sizes no deflate stream can produce', () => {
    const stored = deflateRawSync(Buffer.from('x'));
    const file = writeFile(rawZip([{ name: 'liar', method: 8, stored, crc: 0, size: 0xfffffff0 }]));
    expect(checkpointError(() => ZipReader.open(file)).message).toMatch(/zip member 'liar'.*impossible/);
  });

  it('rejects a CRC mismatch', () => {
    const data = Buffer.from('payload');
    const file = writeFile(rawZip([{ name: 'c', method: 0, stored: data, crc: 1234, size: data.length }]));
    expect(checkpointError(() => readAll(file)).message).toMatch(/CRC-32/);
  });

  it('rejects data that runs past the file or into the directory', () => {
    const data = Buffer.from('payload');
    const bytes = rawZip([{ name: 'c', method: 0, stored: data, crc: crc32(data), size: data.length }]);
    const tampered = Buffer.from(bytes);
    const cdAt = tampered.indexOf(Buffer.from([0x50, 0x4b, 1, 2]));
    tampered.writeUInt32LE(5000, cdAt + 20);
    tampered.writeUInt32LE(5000, cdAt + 24);
    expect(checkpointError(() => ZipReader.open(writeFile(tampered))).message).toMatch(/outside the archive/);
  });

  it('rejects truncated and non-zip files', () => {
    const bytes = serializeZip([{ name: 'a', data: Buffer.from('x') }]);
    expect(checkpointError(() => ZipReader.open(writeFile(bytes.subarray(0, 40)))).message).toMatch(
      /end-of-central-directory/,
    );
    expect(checkpointError(() => ZipReader.open(writeFile(Buffer.from('tiny')))).message).toMatch(
      /too short/,
    );
  });
});
