// Element types found in checkpoints, all widened (or narrowed) to f32 on read.

export type Dtype =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export const ITEM_SIZE: Readonly<Record<Dtype, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Decodes `count` little-endian values of `dtype` into new f32 storage. Integers (position ids, masks) are exact up to 2^24. */
export function decodeToF32(dtype: Dtype, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = READERS[dtype];
  for (let i = 0; i < count; i++) out[i] = read(dv, i);
  return out;
}

const READERS: Readonly<Record<Dtype, (dv: DataView, i: number) => number>> = {
  float32: (dv, i) => dv.getFloat32(4 * i, true),
  float16: (dv, i) => f16ToF32(dv.getUint16(2 * i, true)),
  // bf16 is the high half of an f32.
  bfloat16: (dv, i) => bf16ToF32(dv.getUint16(2 * i, true)),
  float64: (dv, i) => dv.getFloat64(8 * i, true),
  int64: (dv, i) => Number(dv.getBigInt64(8 * i, true)),
  int32: (dv, i) => dv.getInt32(4 * i, true),
  int16: (dv, i) => dv.getInt16(2 * i, true),
  int8: (dv, i) => dv.getInt8(i),
  uint8: (dv, i) => dv.getUint8(i),
  bool: (dv, i) => (dv.getUint8(i) === 0 ? 0 : 1),
};

const scratch = new DataView(new ArrayBuffer(4));

function bf16ToF32(h: number): number {
  scratch.setUint32(0, h << 16);
  return scratch.getFloat32(0);
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
