/**
 * The IDX format of MNIST, Fashion-MNIST, KMNIST and EMNIST: two zero bytes, a type byte, the
 * number of dimensions, each dimension as a big-endian uint32, then the values, big-endian.
 * Files may be gzip-compressed; the gzip magic (1f 8b) tells, not the file name.
 */
import { gunzipSync } from 'node:zlib';

/** Type byte → bytes per value. */
const TYPES: Record<number, { name: string; size: number }> = {
  0x08: { name: 'uint8', size: 1 },
  0x09: { name: 'int8', size: 1 },
  0x0b: { name: 'int16', size: 2 },
  0x0c: { name: 'int32', size: 4 },
  0x0d: { name: 'float32', size: 4 },
  0x0e: { name: 'float64', size: 8 },
};

export interface IdxArray {
  /** The type byte (0x08 uint8 …). */
  type: number;
  typeName: string;
  dims: number[];
  /** The values, big-endian as stored (a view into the decompressed bytes). */
  bytes: Uint8Array;
}

/** Thrown for a malformed file; the caller names the file and field. */
export class IdxError extends Error {
  override readonly name = 'IdxError';
}

const hex = (b: Uint8Array, n: number) => Array.from(b.subarray(0, n), (v) => v.toString(16).padStart(2, '0')).join(' ');

/** Decompresses if gzip, then checks the header against the length. */
export function parseIdx(raw: Uint8Array): IdxArray {
  let bytes = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (error) {
      throw new IdxError(`gzip data does not decompress (${(error as Error).message})`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(`not an IDX file: expected the magic bytes 00 00 <type> <dims>, got ${hex(bytes, 4) || 'an empty file'}`);
  }
  const type = TYPES[bytes[2]];
  if (!type) throw new IdxError(`not an IDX file: unknown type byte 0x${bytes[2].toString(16).padStart(2, '0')}`);
  const rank = bytes[3];
  if (rank === 0) throw new IdxError('not an IDX file: 0 dimensions');
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new IdxError(`truncated: the header needs ${header} bytes, the file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1) * type.size;
  const found = bytes.length - header;
  if (found < expected) throw new IdxError(`truncated: dimensions ${dims.join('×')} of ${type.name} need ${expected} data bytes, the file has ${found}`);
  if (found > expected) throw new IdxError(`${found - expected} bytes after the ${dims.join('×')} ${type.name} values the header announces`);
  return { type: bytes[2], typeName: type.name, dims, bytes: bytes.subarray(header) };
}

/** An IDX file's values as numbers (integers for the integer types). */
export function idxValues(a: IdxArray): Float64Array {
  const n = a.dims.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  const view = new DataView(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength);
  for (let i = 0; i < n; i++) {
    switch (a.type) {
      case 0x08: out[i] = a.bytes[i]; break;
      case 0x09: out[i] = view.getInt8(i); break;
      case 0x0b: out[i] = view.getInt16(2 * i, false); break;
      case 0x0c: out[i] = view.getInt32(4 * i, false); break;
      case 0x0d: out[i] = view.getFloat32(4 * i, false); break;
      default: out[i] = view.getFloat64(8 * i, false);
    }
  }
  return out;
}

/** An IDX file of uint8 values with these dimensions (tests, fixtures). */
export function encodeIdx(dims: readonly number[], values: ArrayLike<number>): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + values.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(Array.from(values), header);
  return out;
}
