// A restricted pickle VM for the opcodes `torch.save` emits. Nothing in the stream is ever
// evaluated: GLOBAL/STACK_GLOBAL resolve only names in PICKLE_GLOBALS (TypeScript stand-ins), and
// any other name fails at the GLOBAL opcode itself, before a REDUCE could use it.

import type { Dtype } from './dtype.ts';
import { CheckpointError } from './tensor.ts';

/** Python tuple (lists are plain arrays, dicts are Maps). */
export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

export type PickleKey = string | number | bigint | boolean | null;

/** A reference to a whitelisted global: a callable stand-in or a marker (storage classes). */
export class PickleGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly entry: WhitelistedGlobal,
  ) {}
}

/** A torch storage named by a persistent id: `data/<key>` holds `numel` values of `dtype`. */
export interface StorageRef {
  readonly kind: 'storage';
  readonly key: string;
  readonly dtype: Dtype;
  readonly numel: number;
}

/** What `_rebuild_tensor_v2` produces: a view description over a persistent storage. */
export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | Map<PickleKey, PickleValue>
  | PickleGlobal
  | TensorRef
  | StorageRef;

export interface WhitelistedGlobal {
  /** Called by REDUCE / NEWOBJ; absent for names that are only ever referenced (storage classes). */
  call?: (args: readonly PickleValue[]) => PickleValue;
}

/** torch storage classes, referenced from persistent ids; never called. */
export const STORAGE_DTYPES: Readonly<Record<string, Dtype>> = {
  'torch.FloatStorage': 'float32',
  'torch.HalfStorage': 'float16',
  'torch.BFloat16Storage': 'bfloat16',
  'torch.DoubleStorage': 'float64',
  'torch.LongStorage': 'int64',
  'torch.IntStorage': 'int32',
  'torch.ShortStorage': 'int16',
  'torch.CharStorage': 'int8',
  'torch.ByteStorage': 'uint8',
  'torch.BoolStorage': 'bool',
};

function intTuple(v: PickleValue, what: string): number[] {
  if (
    !(v instanceof PickleTuple) ||
    !v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x))
  ) {
    throw new Error(`${what} is not a tuple of integers`);
  }
  return v.items as number[];
}

function rebuildTensor(args: readonly PickleValue[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!isStorageRef(storage) || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new Error('_rebuild_tensor_v2 expects (storage, offset, size, stride, …)');
  }
  return {
    kind: 'tensor',
    storage,
    offset,
    size: intTuple(size, 'size'),
    stride: intTuple(stride, 'stride'),
  };
}

/** torch pickles `OrderedDict()` and then fills it with SETITEMS; other call forms are not needed. */
function emptyOrderedDict(args: readonly PickleValue[]): PickleValue {
  if (args.length > 0) throw new Error('only OrderedDict() without arguments is supported');
  return new Map();
}

function rebuildParameter(args: readonly PickleValue[]): PickleValue {
  const data = args[0];
  if (!isTensorRef(data)) throw new Error('_rebuild_parameter expects a tensor');
  return data;
}

/** The only globals a pickle may name. Entries are objects so tests can spy on the stand-ins. */
export const PICKLE_GLOBALS: Readonly<Record<string, WhitelistedGlobal>> = {
  'collections.OrderedDict': { call: emptyOrderedDict },
  'torch._utils._rebuild_tensor_v2': { call: rebuildTensor },
  'torch._utils._rebuild_parameter': { call: rebuildParameter },
  'torch._utils._rebuild_parameter_with_state': { call: rebuildParameter },
  ...Object.fromEntries(Object.keys(STORAGE_DTYPES).map((name) => [name, {}])),
};

function hasKind(v: unknown, kind: string): boolean {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === kind;
}

export function isTensorRef(v: unknown): v is TensorRef {
  return hasKind(v, 'tensor');
}

export function isStorageRef(v: unknown): v is StorageRef {
  return hasKind(v, 'storage');
}

export interface PickleLimits {
  readonly maxStackDepth: number;
  readonly maxMemoEntries: number;
  readonly maxContainerItems: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = {
  maxStackDepth: 100_000,
  maxMemoEntries: 10_000_000,
  maxContainerItems: 10_000_000,
};

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

/**
 * Runs the pickle in `bytes`. `persistentLoad` maps BINPERSID ids to values (torch storages).
 * Throws CheckpointError naming `file`, the opcode and its byte offset.
 */
export function unpickle(
  file: string,
  bytes: Uint8Array,
  persistentLoad: (pid: PickleValue) => PickleValue,
  limits: PickleLimits = DEFAULT_PICKLE_LIMITS,
): PickleValue {
  return unpickleAt(file, bytes, 0, persistentLoad, limits).value;
}

/** Runs the pickle that starts at `start` (files may hold several back to back); `end` is just past its STOP. */
export function unpickleAt(
  file: string,
  bytes: Uint8Array,
  start: number,
  persistentLoad: (pid: PickleValue) => PickleValue,
  limits: PickleLimits = DEFAULT_PICKLE_LIMITS,
): { value: PickleValue; end: number } {
  const unpickler = new Unpickler(file, bytes, persistentLoad, limits, start);
  const value = unpickler.run();
  return { value, end: unpickler.position };
}

class Unpickler {
  private opStart: number;
  private stack: StackItem[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly dv: DataView;

  constructor(
    private readonly file: string,
    private readonly bytes: Uint8Array,
    private readonly persistentLoad: (pid: PickleValue) => PickleValue,
    private readonly limits: PickleLimits,
    private pos: number,
  ) {
    this.opStart = pos;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.pos;
  }

  private fail(detail: string): never {
    throw new CheckpointError(this.file, `pickle at byte ${this.opStart}: ${detail}`);
  }

  private take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.byteLength) this.fail(`truncated (needs ${n} more bytes)`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private u8(): number {
    return this.take(1)[0];
  }

  private u16(): number {
    const at = this.take(2).byteOffset - this.bytes.byteOffset;
    return this.dv.getUint16(at, true);
  }

  private u32(): number {
    const at = this.take(4).byteOffset - this.bytes.byteOffset;
    return this.dv.getUint32(at, true);
  }

  private i32(): number {
    const at = this.take(4).byteOffset - this.bytes.byteOffset;
    return this.dv.getInt32(at, true);
  }

  private utf8(n: number): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.take(n));
    } catch {
      return this.fail('string is not valid UTF-8');
    }
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > 1024) this.fail('unterminated GLOBAL name');
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private push(v: StackItem): void {
    if (this.stack.length >= this.limits.maxStackDepth) this.fail('stack depth cap exceeded');
    this.stack.push(v);
  }

  private pop(): PickleValue {
    const v = this.stack.pop();
    if (v === undefined) this.fail('stack underflow');
    if (v === MARK) this.fail('unexpected MARK');
    return v;
  }

  private top(): PickleValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined || v === MARK) this.fail('stack underflow');
    return v;
  }

  private popToMark(): PickleValue[] {
    const at = this.stack.lastIndexOf(MARK);
    if (at < 0) this.fail('no MARK on the stack');
    const items = this.stack.slice(at + 1) as PickleValue[];
    this.stack.length = at;
    return items;
  }

  private memoize(index: number): void {
    if (!this.memo.has(index) && this.memo.size >= this.limits.maxMemoEntries) this.fail('memo cap exceeded');
    this.memo.set(index, this.top());
  }

  private recall(index: number): PickleValue {
    const v = this.memo.get(index);
    if (v === undefined) this.fail(`memo index ${index} not defined`);
    return v;
  }

  private resolveGlobal(module: string, name: string): PickleGlobal {
    const qualified = `${module}.${name}`;
    if (!Object.hasOwn(PICKLE_GLOBALS, qualified)) {
      this.fail(`pickle references non-whitelisted global '${qualified}'`);
    }
    return new PickleGlobal(qualified, PICKLE_GLOBALS[qualified]);
  }

  private call(callable: PickleValue, args: PickleValue, opcode: string): PickleValue {
    if (!(callable instanceof PickleGlobal) || callable.entry.call === undefined) {
      this.fail(`${opcode} on something that is not a whitelisted callable`);
    }
    if (!(args instanceof PickleTuple)) this.fail(`${opcode} arguments are not a tuple`);
    try {
      return callable.entry.call(args.items);
    } catch (e) {
      return this.fail(`${callable.qualifiedName}: ${(e as Error).message}`);
    }
  }

  private dictTarget(): Map<PickleKey, PickleValue> {
    const target = this.top();
    if (!(target instanceof Map)) this.fail('SETITEM(S) target is not a dict');
    return target;
  }

  private setItems(items: PickleValue[]): void {
    if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of items');
    const dict = this.dictTarget();
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      if (key !== null && typeof key === 'object') this.fail('dict key is not a str/int/bool/None');
      dict.set(key, items[i + 1]);
    }
    if (dict.size > this.limits.maxContainerItems) this.fail('dict size cap exceeded');
  }

  private append(items: PickleValue[]): void {
    const list = this.top();
    if (!Array.isArray(list)) this.fail('APPEND(S) target is not a list');
    if (list.length + items.length > this.limits.maxContainerItems) this.fail('list size cap exceeded');
    list.push(...items);
  }

  private build(): void {
    this.pop(); // state: attributes (e.g. a state dict's `_metadata`), irrelevant to weights
    const target = this.top();
    if (!(target instanceof Map) && !isTensorRef(target)) this.fail('BUILD on an unsupported object');
  }

  private long(n: number): number | bigint {
    if (n > 16) this.fail(`LONG1 of ${n} bytes is larger than any value a checkpoint needs`);
    const bytes = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    if (n > 0 && bytes[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  run(): PickleValue {
    while (this.pos < this.bytes.byteLength) {
      this.opStart = this.pos;
      const op = this.u8();
      switch (op) {
        case 0x80: // PROTO
          if (this.u8() > 5) this.fail('unsupported pickle protocol');
          break;
        case 0x95: // FRAME: framing is only a hint for buffered readers
          this.take(8);
          break;
        case 0x2e: // STOP
          return this.pop();
        case 0x28: // MARK
          this.push(MARK);
          break;
        case 0x7d: // EMPTY_DICT
          this.push(new Map());
          break;
        case 0x5d: // EMPTY_LIST
          this.push([]);
          break;
        case 0x29: // EMPTY_TUPLE
          this.push(new PickleTuple([]));
          break;
        case 0x58: // BINUNICODE
          this.push(this.utf8(this.u32()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.push(this.utf8(this.u8()));
          break;
        case 0x43: // SHORT_BINBYTES
          this.push(this.take(this.u8()).slice());
          break;
        case 0x42: // BINBYTES
          this.push(this.take(this.u32()).slice());
          break;
        case 0x4a: // BININT
          this.push(this.i32());
          break;
        case 0x4b: // BININT1
          this.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.push(this.u16());
          break;
        case 0x8a: // LONG1
          this.push(this.long(this.u8()));
          break;
        case 0x47: {
          // BINFLOAT (big-endian)
          const at = this.take(8).byteOffset - this.bytes.byteOffset;
          this.push(this.dv.getFloat64(at, false));
          break;
        }
        case 0x88: // NEWTRUE
          this.push(true);
          break;
        case 0x89: // NEWFALSE
          this.push(false);
          break;
        case 0x4e: // NONE
          this.push(null);
          break;
        case 0x74: // TUPLE
          this.push(new PickleTuple(this.popToMark()));
          break;
        case 0x85: // TUPLE1
          this.push(new PickleTuple([this.pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = this.pop();
          this.push(new PickleTuple([this.pop(), b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = this.pop();
          const b = this.pop();
          this.push(new PickleTuple([this.pop(), b, c]));
          break;
        }
        case 0x73: {
          // SETITEM
          const value = this.pop();
          const key = this.pop();
          this.setItems([key, value]);
          break;
        }
        case 0x75: // SETITEMS
          this.setItems(this.popToMark());
          break;
        case 0x61: // APPEND
          this.append([this.pop()]);
          break;
        case 0x65: // APPENDS
          this.append(this.popToMark());
          break;
        case 0x71: // BINPUT
          this.memoize(this.u8());
          break;
        case 0x72: // LONG_BINPUT
          this.memoize(this.u32());
          break;
        case 0x94: // MEMOIZE
          this.memoize(this.memo.size);
          break;
        case 0x68: // BINGET
          this.push(this.recall(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.push(this.recall(this.u32()));
          break;
        case 0x63: {
          // GLOBAL 'module\nname\n'
          const module = this.line();
          this.push(this.resolveGlobal(module, this.line()));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string')
            this.fail('STACK_GLOBAL needs two strings');
          this.push(this.resolveGlobal(module, name));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = this.pop();
          this.push(this.call(this.pop(), args, 'REDUCE'));
          break;
        }
        case 0x81: {
          // NEWOBJ
          const args = this.pop();
          this.push(this.call(this.pop(), args, 'NEWOBJ'));
          break;
        }
        case 0x62: // BUILD
          this.build();
          break;
        case 0x51: // BINPERSID
          this.push(this.persistentLoadChecked(this.pop()));
          break;
        case 0x30: // POP
          if (this.stack.pop() === undefined) this.fail('stack underflow');
          break;
        case 0x31: // POP_MARK
          this.popToMark();
          break;
        default:
          this.fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
    return this.fail('missing STOP');
  }

  private persistentLoadChecked(pid: PickleValue): PickleValue {
    try {
      return this.persistentLoad(pid);
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      return this.fail(`bad persistent id: ${(e as Error).message}`);
    }
  }
}

/**
 * Emits protocol-2 opcodes and memoizes like CPython's Pickler (every str, non-empty tuple,
 * global and dict gets the next BINPUT slot), so output matches `torch.save` byte for byte.
 */
export class PickleEmitter {
  private readonly chunks: number[] = [];
  private nextMemo = 0;

  op(code: number): this {
    this.chunks.push(code);
    return this;
  }

  private u32(v: number): void {
    this.chunks.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  /** Stores the top of stack in the next memo slot and returns that slot. */
  memoize(): number {
    const index = this.nextMemo++;
    if (index < 256) this.chunks.push(0x71, index);
    else {
      this.chunks.push(0x72);
      this.u32(index);
    }
    return index;
  }

  get(index: number): this {
    if (index < 256) this.chunks.push(0x68, index);
    else {
      this.chunks.push(0x6a);
      this.u32(index);
    }
    return this;
  }

  string(s: string): number {
    const bytes = Buffer.from(s, 'utf8');
    this.chunks.push(0x58);
    this.u32(bytes.byteLength);
    for (const b of bytes) this.chunks.push(b);
    return this.memoize();
  }

  global(module: string, name: string): number {
    for (const b of Buffer.from(`c${module}\n${name}\n`, 'utf8')) this.chunks.push(b);
    return this.memoize();
  }

  /** Non-negative int the way CPython picks the smallest opcode. */
  int(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`cannot emit ${v}`);
    if (v < 0x100) this.chunks.push(0x4b, v);
    else if (v < 0x10000) this.chunks.push(0x4d, v & 0xff, v >> 8);
    else if (v < 0x80000000) {
      this.chunks.push(0x4a);
      this.u32(v);
    } else this.long1(BigInt(v));
    return this;
  }

  private long1(v: bigint): void {
    const bytes: number[] = [];
    for (let x = v; x > 0n || (bytes.length > 0 && bytes[bytes.length - 1] & 0x80); x >>= 8n) {
      bytes.push(Number(x & 0xffn));
    }
    this.chunks.push(0x8a, bytes.length, ...bytes);
  }

  /** A tuple of ints, closed with TUPLE1/2/3 or MARK…TUPLE as CPython does, then memoized. */
  intTuple(values: readonly number[]): this {
    if (values.length === 0) return this.op(0x29);
    if (values.length > 3) this.op(0x28);
    for (const v of values) this.int(v);
    this.op(values.length > 3 ? 0x74 : 0x84 + values.length);
    this.memoize();
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}
