// Minimal ZIP reader (stored + deflate, ZIP64) with bounds checks and size caps, and a writer that
// produces the stored-entry layout of PyTorch's archive writer (64-byte aligned member data).

import * as fs from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { CheckpointError } from './tensor.ts';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIR = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIR = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const DATA_DESCRIPTOR = 0x08074b50;
const ZIP64_EXTRA = 0x0001;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

export interface ZipLimits {
  /** Largest uncompressed member. */
  readonly maxEntryBytes: number;
  readonly maxEntries: number;
}

/** Enough for any single tensor we accept (2^31 f32 values) and any real checkpoint's member count. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntryBytes: 2 ** 33, maxEntries: 1_000_000 };
/** deflate cannot expand more than ~1032:1; anything claiming more is a bomb or a lie. */
const MAX_DEFLATE_RATIO = 1032;

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

/** An open archive: the central directory is parsed eagerly, member data is read on demand. */
export class ZipReader {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly centralDirOffset: number;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly fileSize: number,
    private readonly limits: ZipLimits,
  ) {
    const { entries, centralDirOffset } = readCentralDirectory(this);
    this.entries = entries;
    this.centralDirOffset = centralDirOffset;
  }

  static open(file: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipReader {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new CheckpointError(file, `cannot open: ${(e as Error).message}`);
    }
    try {
      return new ZipReader(file, fd, fs.fstatSync(fd).size, limits);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  fail(detail: string, member?: string): never {
    throw new CheckpointError(this.file, member === undefined ? detail : `zip member '${member}': ${detail}`);
  }

  get size(): number {
    return this.fileSize;
  }

  get caps(): ZipLimits {
    return this.limits;
  }

  /** Reads `length` bytes at `position`, failing on anything outside the file. */
  readBytes(position: number, length: number, what: string): Uint8Array {
    if (position < 0 || length < 0 || position + length > this.fileSize) {
      this.fail(`${what} [${position}, ${position + length}) lies outside the file (${this.fileSize} bytes)`);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, length - done, position + done);
      if (n === 0) this.fail(`unexpected end of file while reading ${what}`);
      done += n;
    }
    return out;
  }

  /** The uncompressed bytes of a member, CRC-checked. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (entry === undefined) this.fail(`missing zip member '${name}'`);
    const dataStart = this.dataStart(entry);
    if (dataStart + entry.compressedSize > this.centralDirOffset) {
      this.fail('data runs into the central directory', name);
    }
    const raw = this.readBytes(dataStart, entry.compressedSize, `data of '${name}'`);
    const data = entry.method === METHOD_STORED ? raw : this.inflate(entry, raw);
    if (data.byteLength !== entry.size) this.fail(`size ${data.byteLength} ≠ declared ${entry.size}`, name);
    if (crc32(data) !== entry.crc) this.fail('CRC-32 mismatch', name);
    return data;
  }

  private inflate(entry: ZipEntry, raw: Uint8Array): Uint8Array {
    try {
      // maxOutputLength stops a bomb at the declared size instead of exhausting memory.
      return inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
    } catch (e) {
      this.fail(`cannot inflate: ${(e as Error).message}`, entry.name);
    }
  }

  private dataStart(entry: ZipEntry): number {
    const header = view(this.readBytes(entry.localHeaderOffset, 30, `local header of '${entry.name}'`));
    if (header.getUint32(0, true) !== LOCAL_HEADER) this.fail('bad local header signature', entry.name);
    const nameLength = header.getUint16(26, true);
    const extraLength = header.getUint16(28, true);
    return entry.localHeaderOffset + 30 + nameLength + extraLength;
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function safeU64(zip: ZipReader, dv: DataView, at: number, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) zip.fail(`${what} ${v} is out of range`);
  return Number(v);
}

interface CentralDirectory {
  readonly entries: Map<string, ZipEntry>;
  readonly centralDirOffset: number;
}

interface DirectoryLocation {
  readonly count: number;
  readonly offset: number;
  readonly size: number;
  /** Where the (ZIP64) end records begin: the central directory must end at or before it. */
  readonly limit: number;
}

function findEndOfCentralDirectory(zip: ZipReader): DirectoryLocation {
  if (zip.size < EOCD_SIZE) zip.fail(`file too short (${zip.size} bytes) to be a zip archive`);
  const tailLength = Math.min(zip.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = zip.size - tailLength;
  const tail = zip.readBytes(tailStart, tailLength, 'end of central directory');
  const dv = view(tail);
  for (let at = tailLength - EOCD_SIZE; at >= 0; at--) {
    if (dv.getUint32(at, true) !== END_OF_CENTRAL_DIR) continue;
    const eocdPosition = tailStart + at;
    const count = dv.getUint16(at + 10, true);
    const size = dv.getUint32(at + 12, true);
    const offset = dv.getUint32(at + 16, true);
    const zip64 = readZip64End(zip, eocdPosition);
    return zip64 ?? { count, offset, size, limit: eocdPosition };
  }
  return zip.fail('no end-of-central-directory record: not a zip archive');
}

function readZip64End(zip: ZipReader, eocdPosition: number): DirectoryLocation | undefined {
  if (eocdPosition < 20) return undefined;
  const locator = view(zip.readBytes(eocdPosition - 20, 20, 'ZIP64 locator'));
  if (locator.getUint32(0, true) !== ZIP64_LOCATOR) return undefined;
  const recordPosition = safeU64(zip, locator, 8, 'ZIP64 end record offset');
  const record = view(zip.readBytes(recordPosition, 56, 'ZIP64 end record'));
  if (record.getUint32(0, true) !== ZIP64_END_OF_CENTRAL_DIR) zip.fail('bad ZIP64 end record signature');
  return {
    count: safeU64(zip, record, 32, 'entry count'),
    size: safeU64(zip, record, 40, 'central directory size'),
    offset: safeU64(zip, record, 48, 'central directory offset'),
    limit: recordPosition,
  };
}

function readCentralDirectory(zip: ZipReader): CentralDirectory {
  const { count, offset, size, limit } = findEndOfCentralDirectory(zip);
  if (count > zip.caps.maxEntries) zip.fail(`${count} entries exceed the cap of ${zip.caps.maxEntries}`);
  if (offset + size > limit)
    zip.fail(`central directory [${offset}, ${offset + size}) overruns its end record`);
  const bytes = zip.readBytes(offset, size, 'central directory');
  const dv = view(bytes);
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > size || dv.getUint32(at, true) !== CENTRAL_HEADER)
      zip.fail(`bad central directory entry ${i}`);
    const nameLength = dv.getUint16(at + 28, true);
    const extraLength = dv.getUint16(at + 30, true);
    const commentLength = dv.getUint16(at + 32, true);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > size) zip.fail(`central directory entry ${i} overruns the directory`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    const extra = bytes.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
    const entry = parseEntry(zip, name, dv, at, extra, offset);
    if (entries.has(name)) zip.fail(`duplicate zip member '${name}'`);
    entries.set(name, entry);
    at = end;
  }
  return { entries, centralDirOffset: offset };
}

function parseEntry(
  zip: ZipReader,
  name: string,
  dv: DataView,
  at: number,
  extra: Uint8Array,
  centralDirOffset: number,
): ZipEntry {
  const flags = dv.getUint16(at + 8, true);
  const method = dv.getUint16(at + 10, true);
  if (flags & 1) zip.fail('encrypted members are not supported', name);
  if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
    zip.fail(`unsupported compression method ${method}`, name);
  }
  const sizes = applyZip64Extra(zip, name, extra, {
    size: dv.getUint32(at + 24, true),
    compressedSize: dv.getUint32(at + 20, true),
    localHeaderOffset: dv.getUint32(at + 42, true),
  });
  const { size, compressedSize, localHeaderOffset } = sizes;
  if (size > zip.caps.maxEntryBytes)
    zip.fail(`declared size ${size} exceeds the cap of ${zip.caps.maxEntryBytes}`, name);
  if (method === METHOD_STORED && compressedSize !== size)
    zip.fail('stored member with size ≠ compressed size', name);
  if (method === METHOD_DEFLATE && size > compressedSize * MAX_DEFLATE_RATIO + 1024) {
    zip.fail(`declared size ${size} is impossible for ${compressedSize} deflated bytes`, name);
  }
  if (localHeaderOffset + 30 + compressedSize > centralDirOffset) {
    zip.fail('member data lies outside the archive body', name);
  }
  return { name, method, crc: dv.getUint32(at + 16, true), compressedSize, size, localHeaderOffset };
}

interface EntrySizes {
  size: number;
  compressedSize: number;
  localHeaderOffset: number;
}

/** Replaces 0xFFFFFFFF placeholders with the ZIP64 extra field's u64 values, in the spec's order. */
function applyZip64Extra(zip: ZipReader, name: string, extra: Uint8Array, sizes: EntrySizes): EntrySizes {
  const dv = view(extra);
  for (let at = 0; at + 4 <= extra.byteLength; ) {
    const id = dv.getUint16(at, true);
    const length = dv.getUint16(at + 2, true);
    if (at + 4 + length > extra.byteLength) zip.fail('extra field overruns its entry', name);
    if (id === ZIP64_EXTRA) {
      const out = { ...sizes };
      let field = at + 4;
      for (const key of ['size', 'compressedSize', 'localHeaderOffset'] as const) {
        if (sizes[key] !== 0xffffffff) continue;
        if (field + 8 > at + 4 + length) zip.fail('truncated ZIP64 extra field', name);
        out[key] = safeU64(zip, dv, field, `ZIP64 ${key}`);
        field += 8;
      }
      return out;
    }
    at += 4 + length;
  }
  return sizes;
}

export interface ZipMember {
  readonly name: string;
  readonly data: Uint8Array;
}

const ALIGNMENT = 64;

/**
 * Stored-entry archive in the layout of PyTorch's `PyTorchStreamWriter`: member data 64-byte
 * aligned via an 'FB' padding extra field, sizes in data descriptors, ZIP64 end records.
 */
export function serializeZip(members: readonly ZipMember[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let position = 0;
  const push = (chunk: Uint8Array) => {
    chunks.push(chunk);
    position += chunk.byteLength;
  };
  for (const { name, data } of members) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const headerOffset = position;
    push(localHeader(nameBytes, paddingExtra(position + 30 + nameBytes.byteLength)));
    push(data);
    push(dataDescriptor(crc, data.byteLength));
    central.push(centralHeader(nameBytes, crc, data.byteLength, headerOffset));
  }
  const centralOffset = position;
  for (const c of central) push(c);
  const centralSize = position - centralOffset;
  const zip64RecordOffset = position;
  push(zip64EndRecord(members.length, centralSize, centralOffset));
  push(zip64Locator(zip64RecordOffset));
  push(endRecord(members.length, centralSize, centralOffset));
  return Buffer.concat(chunks);
}

function paddingExtra(positionAfterName: number): Uint8Array {
  const padLength = (ALIGNMENT - ((positionAfterName + 4) % ALIGNMENT)) % ALIGNMENT;
  const extra = Buffer.alloc(4 + padLength, 'Z'.charCodeAt(0));
  extra.write('FB', 0, 'latin1');
  extra.writeUInt16LE(padLength, 2);
  return extra;
}

function localHeader(name: Uint8Array, extra: Uint8Array): Uint8Array {
  const b = Buffer.alloc(30);
  b.writeUInt32LE(LOCAL_HEADER, 0);
  b.writeUInt16LE(0x0808, 6); // sizes follow in a data descriptor; UTF-8 names
  b.writeUInt16LE(name.byteLength, 26);
  b.writeUInt16LE(extra.byteLength, 28);
  return Buffer.concat([b, name, extra]);
}

function dataDescriptor(crc: number, size: number): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(DATA_DESCRIPTOR, 0);
  b.writeUInt32LE(crc, 4);
  b.writeUInt32LE(size, 8);
  b.writeUInt32LE(size, 12);
  return b;
}

function centralHeader(name: Uint8Array, crc: number, size: number, offset: number): Uint8Array {
  const b = Buffer.alloc(46);
  b.writeUInt32LE(CENTRAL_HEADER, 0);
  b.writeUInt16LE(0x0808, 8);
  b.writeUInt32LE(crc, 16);
  b.writeUInt32LE(size, 20);
  b.writeUInt32LE(size, 24);
  b.writeUInt16LE(name.byteLength, 28);
  b.writeUInt32LE(offset, 42);
  return Buffer.concat([b, name]);
}

function zip64EndRecord(count: number, size: number, offset: number): Uint8Array {
  const b = Buffer.alloc(56);
  b.writeUInt32LE(ZIP64_END_OF_CENTRAL_DIR, 0);
  b.writeBigUInt64LE(44n, 4);
  b.writeUInt16LE(0x031e, 12);
  b.writeUInt16LE(0x2d, 14);
  b.writeBigUInt64LE(BigInt(count), 24);
  b.writeBigUInt64LE(BigInt(count), 32);
  b.writeBigUInt64LE(BigInt(size), 40);
  b.writeBigUInt64LE(BigInt(offset), 48);
  return b;
}

function zip64Locator(recordOffset: number): Uint8Array {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(ZIP64_LOCATOR, 0);
  b.writeBigUInt64LE(BigInt(recordOffset), 8);
  b.writeUInt32LE(1, 16);
  return b;
}

/** Saturated values tell readers to take the real ones from the ZIP64 record. */
function endRecord(count: number, size: number, offset: number): Uint8Array {
  const b = Buffer.alloc(22);
  b.writeUInt32LE(END_OF_CENTRAL_DIR, 0);
  b.writeUInt16LE(Math.min(count, 0xffff), 8);
  b.writeUInt16LE(Math.min(count, 0xffff), 10);
  b.writeUInt32LE(Math.min(size, 0xffffffff), 12);
  b.writeUInt32LE(Math.min(offset, 0xffffffff), 16);
  return b;
}
