// torch.save zip checkpoints (`<archive>/data.pkl` + `<archive>/data/<key>`): a restricted reader
// and a writer whose output matches torch.save's bytes (plus the `byteorder` record newer torch adds).

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
} from './pickle.ts';
import { MAX_TENSOR_ELEMENTS, writeFileAtomically } from './safetensors.ts';
import { CheckpointError, type HostTensor, numel, type StateDict } from './tensor.ts';
import { serializeZip, type ZipMember, ZipReader } from './zip.ts';

export function readTorchBin(file: string): StateDict {
  const zip = ZipReader.open(file);
  try {
    return readArchive(file, zip);
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

function readArchive(file: string, zip: ZipReader): StateDict {
  const prefix = findArchivePrefix(file, zip);
  const byteorder = zip.entries.has(`${prefix}byteorder`)
    ? new TextDecoder().decode(zip.read(`${prefix}byteorder`))
    : 'little';
  if (byteorder !== 'little') throw new CheckpointError(file, `unsupported byte order '${byteorder}'`);
  const storages = new Map<string, StorageRef>();
  const root = unpickle(file, zip.read(`${prefix}data.pkl`), (pid) => {
    const ref = parsePersistentId(pid);
    const known = storages.get(ref.key);
    if (known !== undefined && (known.dtype !== ref.dtype || known.numel !== ref.numel)) {
      throw new CheckpointError(file, `storage '${ref.key}' is declared with two different types or sizes`);
    }
    storages.set(ref.key, ref);
    return ref;
  });
  checkStorageMembers(file, zip, prefix, storages);
  const loaded = new Map<string, Float32Array>();
  const storageData = (ref: StorageRef): Float32Array => {
    let data = loaded.get(ref.key);
    if (data === undefined) {
      data = decodeStorage(ref, zip.read(`${prefix}data/${ref.key}`));
      loaded.set(ref.key, data);
    }
    return data;
  };
  return buildStateDict(file, root, (name, t) => materialize(file, name, t, storageData(t.storage)));
}

/** ('storage', <torch.XStorage>, key, location, numel) */
function parsePersistentId(pid: PickleValue): StorageRef {
  const items = pid instanceof PickleTuple ? pid.items : [];
  if (items.length !== 5 || items[0] !== 'storage') {
    throw new Error("expected ('storage', type, key, location, numel)");
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
  const contiguous = t.stride.every((s, i) => t.size[i] <= 1 || s === contiguousStrides(t.size)[i]);
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
