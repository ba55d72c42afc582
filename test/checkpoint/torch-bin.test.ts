import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PickleEmitter } from '../../src/checkpoint/pickle.ts';
import { readSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/checkpoint/tensor.ts';
import { readTorchBin, serializeTorchBin, writeTorchBin } from '../../src/checkpoint/torch-bin.ts';
import { serializeZip, type ZipMember } from '../../src/checkpoint/zip.ts';
import { checkpointError, expectSameTensors, GOLDEN, tempDir, tensor } from './helpers.ts';

const dir = tempDir('bin');

/** Every golden .bin next to its safetensors twin. */
const GOLDEN_PAIRS: [string, string][] = [
  ...fs
    .readdirSync(join(GOLDEN, 'adapters'))
    .map((a): [string, string] => [`adapters/${a}/pytorch_adapter.bin`, `adapters/${a}/adapter.safetensors`]),
  ...fs
    .readdirSync(join(GOLDEN, 'heads'))
    .map((h): [string, string] => [`heads/${h}/pytorch_model_head.bin`, `heads/${h}/model_head.safetensors`]),
  [
    'fusion/seq_seq2_seq3/pytorch_model_adapter_fusion.bin',
    'fusion/seq_seq2_seq3/model_adapter_fusion.safetensors',
  ],
];

/** A one-tensor pickle written by hand, so tests can vary storage keys, sizes and strides. */
interface HandTensor {
  key?: string;
  numel: number;
  size: number[];
  stride: number[];
  offset?: number;
  /** Legacy persistent ids carry a sixth item, the view metadata (None). */
  legacy?: boolean;
}

function handPickle(opts: HandTensor) {
  const p = new PickleEmitter();
  p.op(0x80).op(2).op(0x7d).memoize();
  p.string('t');
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.op(0x28).op(0x28);
  p.string('storage');
  p.global('torch', 'FloatStorage');
  p.string(opts.key ?? '0');
  p.string('cpu');
  p.int(opts.numel);
  if (opts.legacy) p.op(0x4e);
  p.op(0x74);
  p.memoize();
  p.op(0x51)
    .int(opts.offset ?? 0)
    .intTuple(opts.size)
    .intTuple(opts.stride)
    .op(0x89);
  p.global('collections', 'OrderedDict');
  p.op(0x29).op(0x52).op(0x74).op(0x52).op(0x73).op(0x2e);
  return p.bytes();
}

let counter = 0;
function archive(members: ZipMember[]): string {
  const file = join(dir, `hand${counter++}.bin`);
  fs.writeFileSync(file, serializeZip(members));
  return file;
}

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

/** A legacy (pre-zip) torch.save stream holding one tensor over storage '0'. */
function legacyFile(
  tensor: HandTensor,
  storage: number[],
  keys = ['0'],
  declaredCount = storage.length,
): string {
  const magic = Buffer.from('80028a0a6c fc 9c 46 f9 20 6a a8 50 19 2e'.replaceAll(' ', ''), 'hex');
  const protocol = Buffer.from([0x80, 2, 0x4d, 0xe9, 0x03, 0x2e]);
  const sysInfo = new PickleEmitter();
  sysInfo.op(0x80).op(2).op(0x7d).memoize();
  sysInfo.string('little_endian');
  sysInfo.op(0x88).op(0x73).op(0x2e);
  const keyList = new PickleEmitter();
  keyList.op(0x80).op(2).op(0x5d).memoize();
  keyList.op(0x28);
  for (const k of keys) keyList.string(k);
  keyList.op(0x65).op(0x2e);
  const count = Buffer.alloc(8);
  count.writeBigInt64LE(BigInt(declaredCount));
  const file = join(dir, `legacy${counter++}.bin`);
  fs.writeFileSync(
    file,
    Buffer.concat([
      magic,
      protocol,
      sysInfo.bytes(),
      handPickle({ ...tensor, legacy: true }),
      keyList.bytes(),
      count,
      f32(storage),
    ]),
  );
  return file;
}

describe('torch .bin', () => {
  it.each(GOLDEN_PAIRS)('%s holds the same tensors as its safetensors twin', (bin, safe) => {
    expectSameTensors(readTorchBin(join(GOLDEN, bin)), readSafetensors(join(GOLDEN, safe)));
  });

  it.each(GOLDEN_PAIRS)('rewriting %s reproduces torch 1.13 bytes exactly', (bin) => {
    const file = join(GOLDEN, bin);
    const archiveName = bin.split('/').pop()!.split('.')[0];
    const bytes = serializeTorchBin(archiveName, readTorchBin(file), { byteorder: false });
    expect(Buffer.from(bytes).equals(fs.readFileSync(file))).toBe(true);
  });

  it('round-trips write → read, with the byteorder record and shared storages', () => {
    const shared = tensor([2, 3]);
    const dict = new Map<string, HostTensor>([
      ['w', shared],
      ['tied', shared],
      ['scalar', tensor([], [3.25])],
      ['big', tensor([70000])],
    ]);
    const file = join(dir, 'rt.bin');
    writeTorchBin(file, dict);
    const back = readTorchBin(file);
    expectSameTensors(back, dict);
    expect(back.get('w')!.data).toBe(back.get('tied')!.data);
  });

  it('honours offsets and strides (a transposed view)', () => {
    const file = archive([
      { name: 'a/data.pkl', data: handPickle({ numel: 7, size: [3, 2], stride: [1, 3], offset: 1 }) },
      { name: 'a/data/0', data: f32([9, 1, 2, 3, 4, 5, 6]) },
      { name: 'a/version', data: Buffer.from('3\n') },
    ]);
    const t = readTorchBin(file).get('t')!;
    expect(t.shape).toEqual([3, 2]);
    expect([...t.data]).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('rejects views reaching past their storage', () => {
    const file = archive([
      { name: 'a/data.pkl', data: handPickle({ numel: 4, size: [2, 3], stride: [3, 1] }) },
      { name: 'a/data/0', data: f32([1, 2, 3, 4]) },
    ]);
    expect(checkpointError(() => readTorchBin(file)).message).toMatch(/tensor 't'.*reaches element 5/);
  });

  it('rejects zip members that do not match the storage keys', () => {
    const missing = archive([
      { name: 'a/data.pkl', data: handPickle({ key: '0', numel: 2, size: [2], stride: [1] }) },
      { name: 'a/data/1', data: f32([1, 2]) },
    ]);
    const err = checkpointError(() => readTorchBin(missing));
    expect(err.file).toBe(missing);
    expect(err.message).toMatch(/do not match.*missing \[0\], unreferenced \[1\]/);
  });

  it('rejects a storage member whose size disagrees with the pickle', () => {
    const file = archive([
      { name: 'a/data.pkl', data: handPickle({ numel: 1_000_000, size: [2], stride: [1] }) },
      { name: 'a/data/0', data: f32([1, 2]) },
    ]);
    expect(checkpointError(() => readTorchBin(file)).message).toMatch(/storage '0' holds 8 bytes/);
  });

  it('rejects absurd storage sizes before allocating', () => {
    const file = archive([
      { name: 'a/data.pkl', data: handPickle({ numel: 2 ** 40, size: [2], stride: [1] }) },
      { name: 'a/data/0', data: f32([1, 2]) },
    ]);
    expect(checkpointError(() => readTorchBin(file)).message).toMatch(/2\^31/);
  });

  it('refuses a .bin whose pickle calls os.system, naming the file', () => {
    const evil = Buffer.from('\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.', 'latin1');
    const file = archive([{ name: 'a/data.pkl', data: evil }]);
    const err = checkpointError(() => readTorchBin(file));
    expect(err.file).toBe(file);
    expect(err.message).toContain("non-whitelisted global 'os.system'");
  });

  it('reads an OrderedDict root with _metadata state (torch.save(model.state_dict()))', () => {
    const p = new PickleEmitter();
    p.op(0x80).op(2);
    p.global('collections', 'OrderedDict');
    p.op(0x29).op(0x52);
    p.memoize();
    const body = handPickle({ numel: 2, size: [2], stride: [1] });
    // Reuse the hand pickle's SETITEM payload: everything between its EMPTY_DICT+BINPUT and STOP.
    const items = body.subarray(5, body.length - 1);
    // BUILD with state {'_metadata': {}} on the OrderedDict, then STOP.
    const tail = Buffer.from([0x7d, 0x58, 9, 0, 0, 0, ...Buffer.from('_metadata'), 0x7d, 0x73, 0x62, 0x2e]);
    const pickle = Buffer.concat([p.bytes(), items, tail]);
    const file = archive([
      { name: 'a/data.pkl', data: pickle },
      { name: 'a/data/0', data: f32([5, 6]) },
    ]);
    expect([...readTorchBin(file).get('t')!.data]).toEqual([5, 6]);
  });

  it('reads the legacy (pre-zip) stream format', () => {
    const file = legacyFile({ numel: 4, size: [2, 2], stride: [2, 1] }, [1, 2, 3, 4]);
    expectSameTensors(readTorchBin(file), new Map([['t', tensor([2, 2], [1, 2, 3, 4])]]));
  });

  it('rejects legacy files whose storage list or counts disagree with the pickle', () => {
    const t = { numel: 4, size: [4], stride: [1] };
    expect(checkpointError(() => readTorchBin(legacyFile(t, [1, 2, 3, 4], ['0', '1']))).message).toMatch(
      /unreferenced \[1\]/,
    );
    expect(checkpointError(() => readTorchBin(legacyFile(t, [1, 2, 3, 4], ['0'], 9))).message).toMatch(
      /holds 9 elements/,
    );
    const truncated = legacyFile(t, [1, 2, 3, 4]);
    fs.truncateSync(truncated, fs.statSync(truncated).size - 4);
    expect(checkpointError(() => readTorchBin(truncated)).message).toMatch(/truncated/);
  });

  it('rejects files that are neither format', () => {
    const file = join(dir, 'garbage.bin');
    fs.writeFileSync(file, Buffer.from([0x80, 2, 0x4b, 7, 0x2e]));
    expect(checkpointError(() => readTorchBin(file)).message).toMatch(/neither a zip archive/);
  });

  it('rejects archives without exactly one data.pkl', () => {
    const file = archive([{ name: 'a/other', data: Buffer.from('x') }]);
    expect(checkpointError(() => readTorchBin(file)).message).toMatch(/data\.pkl/);
  });
});
