import type { History, Surface, TrialResult } from './result.ts';
import { ArrayFormatError, decodeArray, encodeArray, float32Array as f32, quantizedArray, type EncodedArray } from './typed-array.ts';

export type { EncodedArray } from './typed-array.ts';

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
    if (error instanceof ArrayFormatError) throw new ResultFormatError(error.message);
    throw new ResultFormatError(`malformed encoding-2 result: ${(error as Error).message}`);
  }
}

const decoder = new TextDecoder();

function decodeV2(o: Record<string, unknown>): TrialResult {
  const { encoding: _e, history, valProba, points, surface, ...rest } = o as Record<string, never>;
  const h = history as Record<string, EncodedArray>;
  const result = {
    ...(rest as object),
    history: { loss: decodeArray(h.loss), val_loss: decodeArray(h.val_loss), acc: decodeArray(h.acc), val_acc: decodeArray(h.val_acc) } satisfies History,
    valProba: rows(valProba),
  } as TrialResult;
  if (points) {
    // Decoded on first read: a summary draws the points of one trial per cell, and decoding
    // them for every trial (hundreds of three-number rows each) would cost more than the rest.
    const p = points as { train: EncodedArray; val: EncodedArray };
    let decoded: TrialResult['points'];
    Object.defineProperty(result, 'points', {
      enumerable: true, configurable: true,
      get: () => (decoded ??= decodePoints(p)),
      set: (value: TrialResult['points']) => { decoded = value; },
    });
  }
  if (surface) {
    const { values, ...extent } = surface as Omit<Surface, 'values'> & { values: EncodedArray };
    result.surface = { ...extent, values: decodeArray(values) };
  }
  return result;
}

/** A damaged points array surfaces on first read, as the ResultFormatError any other damage gives. */
function decodePoints(p: { train: EncodedArray; val: EncodedArray }): NonNullable<TrialResult['points']> {
  try {
    return { train: rows(p.train) as [number, number, number][], val: rows(p.val) as [number, number, number][] };
  } catch (error) {
    throw new ResultFormatError(`points: ${(error as Error).message}`);
  }
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
  const shape = [s.n, s.n];
  return { ...extent, values: classes <= 2 ? quantizedArray(values, 1, shape) : encodeArray(Uint8Array.from(values), shape) };
}

/** A 2-D array as rows; a 1-D one as rows of one. */
function rows(a: EncodedArray): number[][] {
  const flat = decodeArray(a);
  const [n = 0, width = 1] = a.shape;
  return Array.from({ length: n }, (_, i) => flat.slice(i * width, (i + 1) * width));
}
