import { deflateSync, inflateSync } from 'node:zlib';
import type { History, Surface, TrialResult } from '../train/types.ts';

/**
 * How a trial result is laid out in the store, independent of RESULT_FORMAT (which enters
 * trial ids: bumping it would retrain every stored trial). Encoding 1 is the plain JSON of a
 * TrialResult; encoding 2 is the same JSON object with its long numeric arrays replaced by typed
 * array objects (see README, "Stored results").
 */
export const RESULT_ENCODING = 2;

/** A stored result that cannot be read: truncated, not JSON, or written by an unknown encoding. */
export class ResultFormatError extends Error {
  override name = 'ResultFormatError';
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

const SURFACE_LEVELS = 255;

/** Serialises a result in the current encoding. */
export function encodeTrialResult(result: TrialResult): string {
  const { history, valProba, points, surface, ...rest } = result;
  const classes = valProba[0]?.length ?? 0;
  const encoded: Record<string, unknown> = {
    encoding: RESULT_ENCODING,
    ...rest,
    history: {
      epochs: history.val_loss.length,
      loss: f32(history.loss), val_loss: f32(history.val_loss), acc: f32(history.acc), val_acc: f32(history.val_acc),
    },
    valProba: f32(valProba.flat(), [valProba.length, classes]),
  };
  if (points) encoded.points = { train: f32(points.train.flat(), [points.train.length, 3]), val: f32(points.val.flat(), [points.val.length, 3]) };
  if (surface) encoded.surface = encodeSurface(surface, classes);
  return JSON.stringify(encoded);
}

/**
 * Reads a stored trial result in any encoding fitgrid has written (the plain JSON of encoding 1
 * included) into the in-memory TrialResult. Throws ResultFormatError for anything else.
 */
export function readTrialResult(bytes: Uint8Array | string): TrialResult {
  const text = typeof bytes === 'string' ? bytes : decoder.decode(bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ResultFormatError(text.length === 0 ? 'empty file' : `not complete JSON (${text.length} bytes; truncated?)`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ResultFormatError('not a JSON object');
  const o = value as Record<string, unknown>;
  const encoding = o.encoding ?? 1;
  if (encoding === 1) return checked(o as unknown as TrialResult);
  if (encoding !== RESULT_ENCODING) {
    throw new ResultFormatError(`unknown encoding ${JSON.stringify(encoding)} (this fitgrid reads 1 to ${RESULT_ENCODING}; a newer fitgrid wrote it?)`);
  }
  try {
    return checked(decodeV2(o));
  } catch (error) {
    if (error instanceof ResultFormatError) throw error;
    throw new ResultFormatError(`malformed encoding-2 result: ${(error as Error).message}`);
  }
}

const decoder = new TextDecoder();

function decodeV2(o: Record<string, unknown>): TrialResult {
  const { encoding: _e, history, valProba, points, surface, ...rest } = o as Record<string, never>;
  const h = history as Record<string, EncodedArray>;
  const result = {
    ...(rest as object),
    history: { loss: numbers(h.loss), val_loss: numbers(h.val_loss), acc: numbers(h.acc), val_acc: numbers(h.val_acc) } satisfies History,
    valProba: rows(valProba),
  } as TrialResult;
  if (points) {
    const p = points as { train: EncodedArray; val: EncodedArray };
    result.points = { train: rows(p.train) as [number, number, number][], val: rows(p.val) as [number, number, number][] };
  }
  if (surface) {
    const { values, ...extent } = surface as Omit<Surface, 'values'> & { values: EncodedArray };
    result.surface = { ...extent, values: numbers(values) };
  }
  return result;
}

/** The fields every reader relies on; a JSON object without them is not a trial result. */
function checked(r: TrialResult): TrialResult {
  const missing = ['trialId', 'cellId', 'status', 'history', 'final', 'valLabels'].filter((k) => (r as unknown as Record<string, unknown>)[k] === undefined);
  if (missing.length) throw new ResultFormatError(`not a fitgrid trial result (no ${missing.join(', ')})`);
  if (!Array.isArray(r.history.val_loss) || !Array.isArray(r.valProba)) throw new ResultFormatError('not a fitgrid trial result (history or valProba is not an array)');
  return r;
}

/**
 * Binary surfaces hold p(class 1) and are drawn, never computed with: 256 levels are finer than
 * any colour ramp shows. Multi-class surfaces hold a class index, stored exactly.
 */
function encodeSurface(s: Surface, classes: number): Record<string, unknown> {
  const { values, ...extent } = s;
  const probability = classes <= 2;
  const q = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    q[i] = probability ? Math.round(Math.min(1, Math.max(0, v)) * SURFACE_LEVELS) : v;
  }
  return { ...extent, values: array(q, 'uint8', [s.n, s.n], probability ? 1 / SURFACE_LEVELS : undefined) };
}

function f32(values: readonly number[], shape = [values.length]): EncodedArray {
  return array(Float32Array.from(values), 'float32', shape);
}

/** Little-endian bytes, compressed only when that makes them smaller. */
function array(values: Float32Array | Uint8Array, dtype: DType, shape: number[], scale?: number): EncodedArray {
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (!littleEndian) throw new Error('fitgrid stores results from little-endian machines only');
  let best: { bytes: Uint8Array; codec?: EncodedArray['codec'] } = { bytes: raw };
  if (raw.length >= 64) {
    const width = values.BYTES_PER_ELEMENT;
    const candidates: [NonNullable<EncodedArray['codec']>, Uint8Array][] = [['zlib', raw]];
    if (width > 1) candidates.push(['shuffle+zlib', shuffle(raw, width)]);
    for (const [codec, bytes] of candidates) {
      const packed = deflateSync(bytes, { level: 9 });
      if (packed.length < best.bytes.length) best = { bytes: packed, codec };
    }
  }
  return {
    dtype, shape, data: Buffer.from(best.bytes.buffer, best.bytes.byteOffset, best.bytes.length).toString('base64'),
    ...(best.codec ? { codec: best.codec } : {}), ...(scale !== undefined ? { scale } : {}),
  };
}

function numbers(a: EncodedArray): number[] {
  if (!a || typeof a.data !== 'string' || !Array.isArray(a.shape)) throw new ResultFormatError('an array field is not {dtype, shape, data}');
  let bytes: Uint8Array = Buffer.from(a.data, 'base64');
  const width = a.dtype === 'float32' ? 4 : a.dtype === 'uint8' ? 1 : 0;
  if (!width) throw new ResultFormatError(`unknown dtype ${JSON.stringify(a.dtype)}`);
  if (a.codec === 'zlib' || a.codec === 'shuffle+zlib') bytes = inflateSync(bytes);
  else if (a.codec !== undefined) throw new ResultFormatError(`unknown codec ${JSON.stringify(a.codec)}`);
  if (a.codec === 'shuffle+zlib') bytes = unshuffle(bytes, width);
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (bytes.length !== count * width) throw new ResultFormatError(`array of shape [${a.shape.join(', ')}] holds ${bytes.length} bytes, expected ${count * width}`);
  // copied into an aligned buffer: a view of base64-decoded bytes may start at any offset
  const aligned = new Uint8Array(bytes);
  const typed = width === 4 ? new Float32Array(aligned.buffer) : aligned;
  const out = new Array<number>(count);
  const scale = a.scale ?? 1;
  for (let i = 0; i < count; i++) out[i] = typed[i]! * scale;
  return out;
}

/** A 2-D array as rows; a 1-D one as rows of one. */
function rows(a: EncodedArray): number[][] {
  const flat = numbers(a);
  const [n = 0, width = 1] = a.shape;
  return Array.from({ length: n }, (_, i) => flat.slice(i * width, (i + 1) * width));
}

function shuffle(bytes: Uint8Array, width: number): Uint8Array {
  const n = bytes.length / width;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < n; i++) for (let b = 0; b < width; b++) out[b * n + i] = bytes[i * width + b]!;
  return out;
}

function unshuffle(bytes: Uint8Array, width: number): Uint8Array {
  const n = bytes.length / width;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < n; i++) for (let b = 0; b < width; b++) out[i * width + b] = bytes[b * n + i]!;
  return out;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
