// safetensors reader/writer. Layout: u64 LE header length, JSON header, raw little-endian data.
// The writer reproduces the safetensors library's bytes: compact JSON with `__metadata__` first,
// tensors sorted by descending dtype alignment then name, header space-padded to a multiple of 8.

import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Dtype, decodeToF32, ITEM_SIZE } from './dtype.ts';
import { CheckpointError, type HostTensor, numel, type StateDict } from './tensor.ts';

/** The safetensors library refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;
/** Largest tensor we materialize; a Float32Array index is a 32-bit signed quantity in practice. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31;

const DTYPES: Readonly<Record<string, Dtype>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

interface TensorEntry {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

interface ParsedHeader {
  readonly metadata: Record<string, string>;
  readonly entries: TensorEntry[];
  /** Absolute file offset where the data section starts. */
  readonly dataStart: number;
}

export function readSafetensors(file: string): StateDict {
  const fd = openForReading(file);
  try {
    const header = readHeader(file, fd);
    const dict = new Map<string, HostTensor>();
    for (const entry of header.entries) {
      dict.set(entry.name, readTensor(file, fd, header.dataStart, entry));
    }
    return dict;
  } finally {
    fs.closeSync(fd);
  }
}

/** The `__metadata__` string map (empty when absent), without reading any tensor data. */
export function readSafetensorsMetadata(file: string): Record<string, string> {
  const fd = openForReading(file);
  try {
    return readHeader(file, fd).metadata;
  } finally {
    fs.closeSync(fd);
  }
}

function openForReading(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (e) {
    throw new CheckpointError(file, `cannot open: ${(e as Error).message}`);
  }
}

function readExactly(file: string, fd: number, target: Uint8Array, position: number): void {
  let done = 0;
  while (done < target.byteLength) {
    const n = fs.readSync(fd, target, done, target.byteLength - done, position + done);
    if (n === 0) throw new CheckpointError(file, `unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

function readHeader(file: string, fd: number): ParsedHeader {
  const fileSize = fs.fstatSync(fd).size;
  if (fileSize < 8)
    throw new CheckpointError(file, `file too short (${fileSize} bytes) for a safetensors header`);
  const lengthBytes = new Uint8Array(8);
  readExactly(file, fd, lengthBytes, 0);
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
    throw new CheckpointError(
      file,
      `header length ${headerLength} exceeds the file (${fileSize} bytes) or cap`,
    );
  }
  const headerBytes = new Uint8Array(Number(headerLength));
  readExactly(file, fd, headerBytes, 8);
  const dataStart = 8 + headerBytes.byteLength;
  return parseHeader(file, headerBytes, fileSize - dataStart, dataStart);
}

function parseHeader(file: string, bytes: Uint8Array, dataLength: number, dataStart: number): ParsedHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new CheckpointError(file, `header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(json)) throw new CheckpointError(file, 'header is not a JSON object');
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(file, value);
    else entries.push(parseEntry(file, name, value, dataLength));
  }
  checkNoOverlap(file, entries);
  // File order = data order, which is what the library's readers iterate in.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  return { metadata, entries, dataStart };
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (!isPlainObject(value)) throw new CheckpointError(file, '__metadata__ is not an object');
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string')
      throw new CheckpointError(file, `__metadata__ value for '${k}' is not a string`);
    metadata[k] = v;
  }
  return metadata;
}

function parseEntry(file: string, name: string, value: unknown, dataLength: number): TensorEntry {
  const fail = (detail: string): never => {
    throw new CheckpointError(file, detail, name);
  };
  if (!isPlainObject(value)) fail('header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) {
    fail(`unsupported dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  const dims = shape as number[];
  // Multiply step by step so a huge rank cannot overflow past the check unnoticed.
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > MAX_TENSOR_ELEMENTS) fail(`shape ${JSON.stringify(dims)} has more than 2^31 elements`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    fail(`data_offsets ${JSON.stringify(offsets)} is not [begin, end] with non-negative integers`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end || end > dataLength) {
    fail(`data_offsets [${begin}, ${end}] lie outside the data section (${dataLength} bytes)`);
  }
  const itemSize = ITEM_SIZE[DTYPES[dtype as string]];
  if (end - begin !== count * itemSize) {
    fail(
      `byte length ${end - begin} does not match ${count} elements of ${dtype} (${count * itemSize} bytes)`,
    );
  }
  return { name, dtype: DTYPES[dtype as string], shape: dims, begin, end };
}

function checkNoOverlap(file: string, entries: readonly TensorEntry[]): void {
  const nonEmpty = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < nonEmpty.length; i++) {
    const prev = nonEmpty[i - 1];
    const cur = nonEmpty[i];
    if (cur.begin < prev.end) {
      throw new CheckpointError(
        file,
        `data range [${cur.begin}, ${cur.end}] overlaps '${prev.name}' [${prev.begin}, ${prev.end}]`,
        cur.name,
      );
    }
  }
}

function readTensor(file: string, fd: number, dataStart: number, entry: TensorEntry): HostTensor {
  const count = numel(entry.shape);
  const position = dataStart + entry.begin;
  if (entry.dtype === 'float32') {
    // Read straight into the tensor's own storage: no intermediate copy.
    const data = new Float32Array(count);
    readExactly(file, fd, new Uint8Array(data.buffer), position);
    return { shape: entry.shape, data };
  }
  const raw = new Uint8Array(entry.end - entry.begin);
  readExactly(file, fd, raw, position);
  return { shape: entry.shape, data: decodeToF32(entry.dtype, raw, count) };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Serializes an f32 state dict exactly as `safetensors.torch.save_file` lays it out. */
export function serializeSafetensors(dict: StateDict, metadata?: Record<string, string>): Uint8Array {
  // All tensors are F32 (one alignment class), so the library's order reduces to name order.
  const names = [...dict.keys()].sort(compareCodePoints);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = dict.get(name)!;
    checkTensorShape(name, t);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.fill(0x20, 8, 8 + padded);
  out.set(json, 8);
  let position = 8 + padded;
  for (const name of names) {
    const { data } = dict.get(name)!;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return out;
}

function checkTensorShape(name: string, t: HostTensor): void {
  if (numel(t.shape) !== t.data.length) {
    throw new CheckpointError(
      '<in memory>',
      `shape ${JSON.stringify(t.shape)} ≠ ${t.data.length} values`,
      name,
    );
  }
}

function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Writes `dict` as safetensors; the file appears complete or not at all (temp file + rename). */
export function writeSafetensors(file: string, dict: StateDict, metadata?: Record<string, string>): void {
  writeFileAtomically(file, serializeSafetensors(dict, metadata));
}

/** Writes into a temp file in the target's folder, then renames it over the target. */
export function writeFileAtomically(file: string, bytes: Uint8Array): void {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(temp, bytes);
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw new CheckpointError(file, `cannot write: ${(e as Error).message}`);
  }
}
