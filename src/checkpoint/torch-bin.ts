// torch.save checkpoints: a restricted reader for the zip format (`<archive>/data.pkl` +
// `<archive>/data/<key>`) and the legacy stream format, and a zip writer whose output matches
// torch.save's bytes (plus the `byteorder` record newer torch adds).

import * as fs from 'node:fs';
import { basename } from 'node:path';
import { decodeToF32, ITEM_SIZE } from './dtype.ts';
import {
  isTensorRef,
  PickleEmitter,
  PickleGlobal,
  PickleTuple,
  type PickleValue,
  STORAGE_DTYPES,
  type StorageRef,
  type TensorRef,
  unpickle,
  unpickleAt,
} from './pickle.ts';
import { MAX_TENSOR_ELEMENTS, writeFileAtomically } from './safetensors.ts';
import { CheckpointError, type HostTensor, numel, type StateDict } from './tensor.ts';
import { serializeZip, type ZipMember, ZipReader } from './zip.ts';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** Reads a torch.save state dict: the zip format (torch ≥ 1.6) or the legacy stream format. */
export function readTorchBin(file: string): StateDict {
  return startsWithZipMagic(file) ? readZipFormat(file) : readLegacyFormat(file);
}

function startsWithZipMagic(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new CheckpointError(file, `cannot open: ${(e as Error).message}`);
  }
  try {
    const head = new Uint8Array(4);
    const n = fs.readSync(fd, head, 0, 4, 0);
    return n === 4 && ZIP_MAGIC.every((b, i) => head[i] === b);
  } finally {
    fs.closeSync(fd);
  }
}

/** Collects the storages a pickle names through persistent ids, insisting each key has one meaning. */
function storageCollector(file: string, pidItems: number) {
  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: PickleValue): StorageRef => {
    const ref = parsePersistentId(pid, pidItems);
    const known = storages.get(ref.key);
    if (known !== undefined && (known.dtype !== ref.dtype || known.numel !== ref.numel)) {
      throw new CheckpointError(file, `storage '${ref.key}' is declared with two different types or sizes`);
    }
    storages.set(ref.key, ref);
    return ref;
  };
  return { storages, persistentLoad };
}

/** Turns the pickle's tensors into HostTensors, decoding each storage once. */
function tensorsFromPickle(
  file: string,
  root: PickleValue,
  storageBytes: (ref: StorageRef) => Uint8Array,
): StateDict {
  const decoded = new Map<string, Float32Array>();
  const storageData = (ref: StorageRef): Float32Array => {
    let data = decoded.get(ref.key);
    if (data === undefined) {
      data = decodeStorage(ref, storageBytes(ref));
      decoded.set(ref.key, data);
    }
    return data;
  };
  return buildStateDict(file, root, (name, t) => materialize(file, name, t, storageData(t.storage)));
}

function readZipFormat(file: string): StateDict {
  const zip = ZipReader.open(file);
  try {
    const prefix = findArchivePrefix(file, zip);
    const byteorder = zip.entries.has(`${prefix}byteorder`)
      ? new TextDecoder().decode(zip.read(`${prefix}byteorder`))
      : 'little';
    if (byteorder !== 'little') throw new CheckpointError(file, `unsupported byte order '${byteorder}'`);
    const { storages, persistentLoad } = storageCollector(file, 5);
    const root = unpickle(file, zip.read(`${prefix}data.pkl`), persistentLoad);
    checkStorageMembers(file, zip, prefix, storages);
    return tensorsFromPickle(file, root, (ref) => zip.read(`${prefix}data/${ref.key}`));
  } finally {
    zip.close();
  }
}

function findArchivePrefix(file: string, zip: ZipReader): string {
  const pickles = [...zip.entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    throw new CheckpointError(file, `expected one '<archive>/data.pkl' member, found ${pickles.length}`);
  }
  return pickles[0].slice(0, -'data.pkl'.length);
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** The legacy format has no index, so the whole file is read; refuse anything implausibly large. */
const MAX_LEGACY_BYTES = 2 ** 31 - 1;

/**
 * Legacy stream: pickles of the magic number, protocol version, sys_info and the state dict, a pickle
 * of the sorted storage keys, then per key an int64 element count followed by the raw elements.
 */
function readLegacyFormat(file: string): StateDict {
  const size = fs.statSync(file).size;
  if (size > MAX_LEGACY_BYTES)
    throw new CheckpointError(file, `legacy checkpoint of ${size} bytes exceeds the cap`);
  const bytes = new Uint8Array(fs.readFileSync(file));
  const noStorages = () => {
    throw new CheckpointError(file, 'unexpected persistent id in the legacy header');
  };
  const magic = unpickleAt(file, bytes, 0, noStorages);
  if (magic.value !== LEGACY_MAGIC)
    throw new CheckpointError(file, 'neither a zip archive nor a legacy torch checkpoint');
  const protocol = unpickleAt(file, bytes, magic.end, noStorages);
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw new CheckpointError(file, `legacy protocol ${String(protocol.value)} is not ${LEGACY_PROTOCOL}`);
  }
  const sysInfo = unpickleAt(file, bytes, protocol.end, noStorages);
  if (!(sysInfo.value instanceof Map) || sysInfo.value.get('little_endian') !== true) {
    throw new CheckpointError(file, 'legacy checkpoint is not little-endian');
  }
  const { storages, persistentLoad } = storageCollector(file, 6);
  const main = unpickleAt(file, bytes, sysInfo.end, persistentLoad);
  const keyList = unpickleAt(file, bytes, main.end, noStorages);
  const offsets = legacyStorageOffsets(file, bytes, keyList.value, keyList.end, storages);
  return tensorsFromPickle(file, main.value, (ref) => {
    const start = offsets.get(ref.key)!;
    return bytes.subarray(start, start + ref.numel * ITEM_SIZE[ref.dtype]);
  });
}

/** Checks the key list against the pickle's storages and locates each storage's data. */
function legacyStorageOffsets(
  file: string,
  bytes: Uint8Array,
  keyList: PickleValue,
  start: number,
  storages: ReadonlyMap<string, StorageRef>,
): Map<string, number> {
  if (!Array.isArray(keyList) || !keyList.every((k) => typeof k === 'string')) {
    throw new CheckpointError(file, 'legacy storage key list is not a list of strings');
  }
  const keys = keyList as string[];
  const missing = [...storages.keys()].filter((k) => !keys.includes(k));
  const unreferenced = keys.filter((k) => !storages.has(k));
  if (missing.length > 0 || unreferenced.length > 0) {
    throw new CheckpointError(
      file,
      `storage list does not match the pickle's storages: missing [${missing.join(', ')}], unreferenced [${unreferenced.join(', ')}]`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets = new Map<string, number>();
  let at = start;
  for (const key of keys) {
    const ref = storages.get(key)!;
    if (at + 8 > bytes.byteLength) throw new CheckpointError(file, `storage '${key}' is truncated`);
    const count = dv.getBigInt64(at, true);
    if (count !== BigInt(ref.numel)) {
      throw new CheckpointError(
        file,
        `storage '${key}' holds ${count} elements, the pickle says ${ref.numel}`,
      );
    }
    const length = ref.numel * ITEM_SIZE[ref.dtype];
    if (at + 8 + length > bytes.byteLength) throw new CheckpointError(file, `storage '${key}' is truncated`);
    offsets.set(key, at + 8);
    at += 8 + length;
  }
  if (at !== bytes.byteLength)
    throw new CheckpointError(file, `${bytes.byteLength - at} trailing bytes after the storages`);
  return offsets;
}

/** ('storage', <torch.XStorage>, key, location, numel) — legacy files append view metadata (None). */
function parsePersistentId(pid: PickleValue, itemCount: number): StorageRef {
  const items = pid instanceof PickleTuple ? pid.items : [];
  if (items.length !== itemCount || items[0] !== 'storage' || (itemCount === 6 && items[5] !== null)) {
    throw new Error("expected ('storage', type, key, location, numel) without storage views");
  }
  const [, type, key, , count] = items;
  if (!(type instanceof PickleGlobal) || !Object.hasOwn(STORAGE_DTYPES, type.qualifiedName)) {
    throw new Error('storage type is not a torch storage class');
  }
  if (typeof key !== 'string' || !/^[0-9A-Za-z_]{1,64}$/.test(key))
    throw new Error('storage key is not a plain name');
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > MAX_TENSOR_ELEMENTS) {
    throw new Error(`storage size ${String(count)} is not an integer in [0, 2^31]`);
  }
  return { kind: 'storage', key, dtype: STORAGE_DTYPES[type.qualifiedName], numel: count };
}

/** Every `data/<key>` member must be a storage the pickle names, and vice versa. */
function checkStorageMembers(
  file: string,
  zip: ZipReader,
  prefix: string,
  storages: ReadonlyMap<string, StorageRef>,
) {
  const dataPrefix = `${prefix}data/`;
  const members = [...zip.entries.keys()]
    .filter((n) => n.startsWith(dataPrefix))
    .map((n) => n.slice(dataPrefix.length));
  const missing = [...storages.keys()].filter((k) => !zip.entries.has(dataPrefix + k));
  const unreferenced = members.filter((k) => !storages.has(k));
  if (missing.length > 0 || unreferenced.length > 0) {
    throw new CheckpointError(
      file,
      `zip members do not match the pickle's storages: missing [${missing.join(', ')}], unreferenced [${unreferenced.join(', ')}]`,
    );
  }
  for (const ref of storages.values()) {
    const declared = zip.entries.get(dataPrefix + ref.key)!.size;
    if (declared !== ref.numel * ITEM_SIZE[ref.dtype]) {
      throw new CheckpointError(
        file,
        `storage '${ref.key}' holds ${declared} bytes, expected ${ref.numel} × ${ref.dtype} (${ref.numel * ITEM_SIZE[ref.dtype]} bytes)`,
      );
    }
  }
}

function decodeStorage(ref: StorageRef, bytes: Uint8Array): Float32Array {
  if (ref.dtype === 'float32' && bytes.byteOffset % 4 === 0)
    return new Float32Array(bytes.buffer, bytes.byteOffset, ref.numel);
  return decodeToF32(ref.dtype, bytes, ref.numel);
}

function buildStateDict(
  file: string,
  root: PickleValue,
  toTensor: (name: string, t: TensorRef) => HostTensor,
): StateDict {
  if (!(root instanceof Map)) throw new CheckpointError(file, 'pickle root is not a dict');
  const dict = new Map<string, HostTensor>();
  for (const [key, value] of root) {
    if (typeof key !== 'string')
      throw new CheckpointError(file, `state-dict key ${String(key)} is not a string`);
    if (!isTensorRef(value)) throw new CheckpointError(file, 'value is not a tensor', key);
    dict.set(key, toTensor(key, value));
  }
  return dict;
}

function contiguousStrides(size: readonly number[]): number[] {
  const strides = new Array<number>(size.length);
  let step = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= Math.max(size[i], 1);
  }
  return strides;
}

/** Applies offset/size/stride. Contiguous tensors view their storage (no copy); others are gathered. */
function materialize(file: string, name: string, t: TensorRef, storage: Float32Array): HostTensor {
  if (t.size.some((d) => d < 0) || t.stride.some((s) => s < 0) || t.size.length !== t.stride.length) {
    throw new CheckpointError(
      file,
      `bad size ${JSON.stringify(t.size)} / stride ${JSON.stringify(t.stride)}`,
      name,
    );
  }
  let count = 1;
  for (const d of t.size) {
    count *= d;
    if (count > MAX_TENSOR_ELEMENTS) throw new CheckpointError(file, 'more than 2^31 elements', name);
  }
  const lastIndex = t.offset + t.size.reduce((acc, d, i) => acc + (d - 1) * t.stride[i], 0);
  if (count > 0 && lastIndex >= storage.length) {
    throw new CheckpointError(
      file,
      `view reaches element ${lastIndex} of a ${storage.length}-element storage`,
      name,
    );
  }
  const shape = [...t.size];
  const rowMajor = contiguousStrides(t.size);
  const contiguous = t.stride.every((s, i) => t.size[i] <= 1 || s === rowMajor[i]);
  if (contiguous) {
    const whole = t.offset === 0 && count === storage.length;
    return { shape, data: whole ? storage : storage.subarray(t.offset, t.offset + count) };
  }
  return { shape, data: gather(storage, t, count) };
}

function gather(storage: Float32Array, t: TensorRef, count: number): Float32Array {
  const out = new Float32Array(count);
  const index = new Array<number>(t.size.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = t.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * t.stride[d];
    out[i] = storage[at];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < t.size[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

export interface TorchBinWriteOptions {
  /** Add the `byteorder` record torch ≥ 2.1 writes (torch 1.13 neither writes nor needs it). Default true. */
  readonly byteorder?: boolean;
}

/**
 * Writes a state dict the way `torch.save(dict_of_tensors)` does. Tensors whose `data` is the very
 * same Float32Array share one storage, as tied parameters do in torch.
 */
export function writeTorchBin(file: string, dict: StateDict, options: TorchBinWriteOptions = {}): void {
  writeFileAtomically(file, serializeTorchBin(archiveName(file), dict, options));
}

/** torch names the archive folder after the file, up to its first dot. */
function archiveName(file: string): string {
  return basename(file).split('.')[0] || 'archive';
}

export function serializeTorchBin(
  archive: string,
  dict: StateDict,
  options: TorchBinWriteOptions = {},
): Uint8Array {
  const { pickle, storages } = pickleStateDict(dict);
  const members: ZipMember[] = [{ name: `${archive}/data.pkl`, data: pickle }];
  if (options.byteorder ?? true) members.push({ name: `${archive}/byteorder`, data: Buffer.from('little') });
  // torch writes storages in sorted key order (as strings: 0, 1, 10, 11, …, 2).
  for (const [key, data] of [...storages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    members.push({
      name: `${archive}/data/${key}`,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
  }
  members.push({ name: `${archive}/version`, data: Buffer.from('3\n') });
  return serializeZip(members);
}

interface PickledStateDict {
  readonly pickle: Uint8Array;
  readonly storages: Map<string, Float32Array>;
}

const BATCH = 1000; // CPython's pickler emits SETITEMS in batches of this size

/** dict → `_rebuild_tensor_v2((persid), 0, size, stride, False, OrderedDict())` per entry, memoized like CPython. */
function pickleStateDict(dict: StateDict): PickledStateDict {
  const p = new PickleEmitter();
  const memo = new Map<string, number>(); // shared objects: names → memo slot
  const storageKeys = new Map<Float32Array, { key: string; slot: number }>();
  const storages = new Map<string, Float32Array>();
  const reuse = (name: string, emit: () => number) => {
    const slot = memo.get(name);
    if (slot === undefined) memo.set(name, emit());
    else p.get(slot);
  };
  p.op(0x80).op(2).op(0x7d).memoize();
  const entries = [...dict];
  for (let start = 0; start < entries.length; start += BATCH) {
    const batch = entries.slice(start, start + BATCH);
    if (batch.length > 1) p.op(0x28);
    for (const [name, tensor] of batch) {
      if (numel(tensor.shape) !== tensor.data.length) {
        throw new CheckpointError(
          '<in memory>',
          `shape ${JSON.stringify(tensor.shape)} ≠ ${tensor.data.length} values`,
          name,
        );
      }
      p.string(name);
      reuse('rebuild', () => p.global('torch._utils', '_rebuild_tensor_v2'));
      p.op(0x28).op(0x28); // args tuple, then persistent-id tuple
      reuse('storage', () => p.string('storage'));
      reuse('FloatStorage', () => p.global('torch', 'FloatStorage'));
      const known = storageKeys.get(tensor.data);
      if (known === undefined) {
        const key = String(storages.size);
        storages.set(key, tensor.data);
        storageKeys.set(tensor.data, { key, slot: p.string(key) });
      } else p.get(known.slot);
      reuse('cpu', () => p.string('cpu'));
      p.int(tensor.data.length).op(0x74);
      p.memoize();
      p.op(0x51).int(0).intTuple(tensor.shape).intTuple(contiguousStrides(tensor.shape)).op(0x89);
      reuse('OrderedDict', () => p.global('collections', 'OrderedDict'));
      p.op(0x29).op(0x52);
      p.memoize();
      p.op(0x74);
      p.memoize();
      p.op(0x52);
      p.memoize();
    }
    p.op(batch.length > 1 ? 0x75 : 0x73);
  }
  p.op(0x2e);
  return { pickle: p.bytes(), storages };
}
