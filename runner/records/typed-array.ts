import { deflateSync, inflateSync } from 'node:zlib';

/** Thrown for an encoded array that cannot be decoded (wrong length, unknown dtype or codec). */
export class ArrayFormatError extends Error {
  override name = 'ArrayFormatError';
}

type DType = 'float32' | 'uint8';

/**
 * One numeric array: little-endian bytes in base64. `codec` `zlib` means the bytes were
 * zlib-compressed; `shuffle+zlib` means they were first regrouped byte plane by byte plane (every
 * element's first byte, then every second byte…), which lets zlib find the shared exponents of
 * neighbouring floats. `scale`: each stored integer q stands for q · scale.
 */
export interface EncodedArray {
  dtype: DType;
  shape: number[];
  data: string;
  codec?: 'zlib' | 'shuffle+zlib';
  scale?: number;
}

/** Numbers as float32. */
export function float32Array(values: readonly number[], shape = [values.length]): EncodedArray {
  return encodeArray(Float32Array.from(values), shape);
}

/**
 * Numbers in [0, max] as 256 levels (q · max / 255), for what is only drawn: a colour ramp or a
 * contour at a share of the maximum shows no difference finer than that.
 */
export function quantizedArray(values: readonly number[], max: number, shape = [values.length]): EncodedArray {
  const q = new Uint8Array(values.length);
  const top = max > 0 ? max : 1;
  for (let i = 0; i < values.length; i++) q[i] = Math.round(Math.min(1, Math.max(0, values[i] / top)) * 255);
  return encodeArray(q, shape, top / 255);
}

/** Little-endian bytes, compressed only when that makes them smaller. */
export function encodeArray(values: Float32Array | Uint8Array, shape: number[], scale?: number): EncodedArray {
  const dtype: DType = values instanceof Float32Array ? 'float32' : 'uint8';
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (!littleEndian) throw new Error('fitgrid stores results from little-endian machines only');
  let best: { bytes: Uint8Array; codec?: EncodedArray['codec'] } = { bytes: raw };
  if (raw.length >= 64) {
    const width = values.BYTES_PER_ELEMENT;
    const candidates: [NonNullable<EncodedArray['codec']>, Uint8Array][] = [['zlib', raw]];
    if (width > 1) candidates.push(['shuffle+zlib', shuffle(raw, width)]);
    for (const [codec, bytes] of candidates) {
      const packed = deflateSync(bytes, { level: 6 });
      if (packed.length < best.bytes.length) best = { bytes: packed, codec };
    }
  }
  return {
    dtype, shape, data: Buffer.from(best.bytes.buffer, best.bytes.byteOffset, best.bytes.length).toString('base64'),
    ...(best.codec ? { codec: best.codec } : {}), ...(scale !== undefined ? { scale } : {}),
  };
}

/** The numbers an EncodedArray holds, flat, each stored integer times `scale`. */
export function decodeArray(a: EncodedArray): number[] {
  if (!a || typeof a.data !== 'string' || !Array.isArray(a.shape)) throw new ArrayFormatError('an array field is not {dtype, shape, data}');
  let bytes: Uint8Array = Buffer.from(a.data, 'base64');
  const width = a.dtype === 'float32' ? 4 : a.dtype === 'uint8' ? 1 : 0;
  if (!width) throw new ArrayFormatError(`unknown dtype ${JSON.stringify(a.dtype)}`);
  if (a.codec === 'zlib' || a.codec === 'shuffle+zlib') bytes = inflateSync(bytes);
  else if (a.codec !== undefined) throw new ArrayFormatError(`unknown codec ${JSON.stringify(a.codec)}`);
  if (a.codec === 'shuffle+zlib') bytes = unshuffle(bytes, width);
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (bytes.length !== count * width) throw new ArrayFormatError(`array of shape [${a.shape.join(', ')}] holds ${bytes.length} bytes, expected ${count * width}`);
  // copied into an aligned buffer: a view of base64-decoded bytes may start at any offset
  const aligned = new Uint8Array(bytes);
  const typed = width === 4 ? new Float32Array(aligned.buffer) : aligned;
  const out = new Array<number>(count);
  const scale = a.scale ?? 1;
  for (let i = 0; i < count; i++) out[i] = typed[i] * scale;
  return out;
}

function shuffle(bytes: Uint8Array, width: number): Uint8Array {
  const n = bytes.length / width;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < n; i++) for (let b = 0; b < width; b++) out[b * n + i] = bytes[i * width + b];
  return out;
}

function unshuffle(bytes: Uint8Array, width: number): Uint8Array {
  const n = bytes.length / width;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < n; i++) for (let b = 0; b < width; b++) out[i * width + b] = bytes[b * n + i];
  return out;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Plain numbers as they are, an EncodedArray decoded: for fields written either way. */
export function toNumbers(values: readonly number[] | EncodedArray): number[] {
  return Array.isArray(values) ? [...values] : decodeArray(values as EncodedArray);
}
