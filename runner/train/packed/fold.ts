import type * as TF from '../tfjs.ts';
import type { Tf, HostParams, PackedShape, TensorCache } from './model.ts';

/**
 * Features → relu units → one output with the output kernel w folded into the input layer:
 * relu commutes with a positive scale, so w·relu(z) = ±relu(|w|·z). Each trial's input rows are
 * scaled by |w| and ordered units with w ≥ 0 first on the host (signedRows); one matMul and one
 * segment sum then give each trial's two partial sums, whose difference is the logit, with no
 * pass multiplying the activations by w.
 */
export interface FoldedLayer {
  /** [K·units, features + 1] */
  rows: TF.Tensor2D;
  /** Each row's segment: 2t for trial t's units with w ≥ 0, 2t + 1 for the others. */
  ids: TF.Tensor1D;
  /** 1 + the last segment id: 2K, or 2K − 1 when the last trial has no unit with w < 0 (2·to for a range of the pack's trials, uploadFold). */
  segments: number;
  /** The output bias [K, 1]. */
  bias: TF.Tensor2D;
}

/** A fold on the host: row r holds unit perm[r] (counted trial by trial, as in the unfolded rows), in segment ids[r]. */
export interface FoldBuffers { rows: Float32Array; ids: Int32Array; perm: Int32Array }

/**
 * Whether the output kernel can be folded into the input layer (FoldedLayer): features → relu
 * units → one output (`layers` = 2 weight layers), on wasm, where a multiply by a column is one
 * of the slowest passes and reading a tensor from the host costs nothing (peek).
 */
export const foldsOutputKernel = (tf: Tf, layers: number, shape: PackedShape): boolean =>
  tf.getBackend() === 'wasm' && layers === 2 && shape.outputs === 1 && shape.activation === 'relu';

/** The folded layer of K trials' host weights (HostParams of features → units → 1), uploaded. */
export function foldLayer(tf: Tf, host: HostParams, k: number, features: number): FoldedLayer {
  return uploadFold(tf, signedRows(host, k, features, host[1].length / k), host[2]);
}

/**
 * Trials [from, to) of a host fold and their output biases as a FoldedLayer's tensors (uploads
 * copy: the arrays are free afterwards). The segment ids stay the pack's (2t, 2t + 1), so a
 * segment sum over a later range of trials starts with 2·from rows of zeros.
 */
export function uploadFold(tf: Tf, fold: FoldBuffers, bias: Float32Array, from = 0, to = bias.length): FoldedLayer {
  const units = fold.ids.length / bias.length;
  const width = fold.rows.length / fold.ids.length;
  const [first, end] = [from * units, to * units];
  return {
    rows: tf.tensor2d(fold.rows.subarray(first * width, end * width), [end - first, width]),
    ids: tf.tensor1d(fold.ids.subarray(first, end), 'int32'),
    segments: fold.ids[end - 1] + 1, bias: tf.tensor2d(bias.subarray(from, to), [to - from, 1]),
  };
}

export const disposeFolded = (tf: Tf, f: FoldedLayer) => tf.dispose([f.rows, f.ids, f.bias]);

/** predictAll's probabilities [K, 1, N] through the folded layer, for the shapes foldsOutputKernel accepts. */
export function predictFolded(tf: Tf, cache: TensorCache, folded: FoldedLayer, xT: TF.Tensor2D): TF.Tensor3D {
  return tf.sigmoid(tf.reshape(foldedLogits(tf, cache, folded, xT), [folded.bias.shape[0], 1, xT.shape[1]])) as TF.Tensor3D;
}

/**
 * The folded layer's hidden activations on points xT [features + 1, N], [K·units, N] in the
 * fold's row order (each unit's times |w|: zero exactly where the unit's), and their sums per
 * segment [segments, N]: row 2t trial t's units with w ≥ 0, row 2t + 1 the others.
 */
export function foldedSums(tf: Tf, cache: TensorCache, folded: FoldedLayer, xT: TF.Tensor2D): { sums: TF.Tensor2D; hidden: TF.Tensor2D } {
  const rows = folded.rows.shape[0];
  const hidden = tf.fused.matMul({ a: folded.rows, b: xT, activation: 'relu' }) as TF.Tensor2D;
  const indices = cache.get(`range:${rows}`, () => tf.range(0, rows, 1, 'int32') as TF.Tensor1D);
  return { sums: tf.sparse.sparseSegmentSum(hidden, indices, folded.ids) as TF.Tensor2D, hidden };
}

/** The logits [K, N] on points xT: each trial's two partial sums' difference, plus its bias. */
function foldedLogits(tf: Tf, cache: TensorCache, folded: FoldedLayer, xT: TF.Tensor2D): TF.Tensor2D {
  const k = folded.bias.shape[0];
  const n = xT.shape[1];
  let { sums } = foldedSums(tf, cache, folded, xT);
  if (folded.segments < 2 * k) sums = tf.concat([sums, tf.zeros([2 * k - folded.segments, n]) as TF.Tensor2D]);
  const pairs = tf.reshape(sums, [k, 2 * n]);
  return tf.add(tf.sub(tf.slice(pairs, [0, 0], [k, n]), tf.slice(pairs, [0, n], [k, n])), folded.bias) as TF.Tensor2D;
}

/**
 * FoldedLayer's rows on the host, with each row's segment and unit. A unit with w = 0 exactly is
 * scaled by 2⁻¹⁰⁰ rather than 0: its contribution stays below any float32 logit's last digit,
 * and its activations stay nonzero where the unit is on, as the weight gradient needs them.
 */
export function signedRows(host: HostParams, k: number, features: number, units: number, into?: FoldBuffers): FoldBuffers {
  const [input, kernel1] = host as [Float32Array, Float32Array];
  const width = features + 1;
  // every row, id and unit is written below: buffers from an earlier fold need no clearing
  const fits = into?.rows.length === k * units * width && into.perm.length === k * units;
  const out = fits ? into : emptyFold(k * units, width);
  const { rows, perm } = out;
  for (let t = 0; t < k; t++) {
    const first = t * units;
    // units with w ≥ 0 fill the trial's block from the front, the others from the back
    let front = first;
    let back = first + units;
    for (let u = first; u < first + units; u++) {
      const w = kernel1[u];
      const at = w < 0 ? --back : front++;
      perm[at] = u;
      foldRow(rows, at * width, input, u * width, width, w);
    }
    markSegments(out.ids, t, first, front, units);
  }
  return out;
}

const emptyFold = (rows: number, width: number): FoldBuffers => ({ rows: new Float32Array(rows * width), ids: new Int32Array(rows), perm: new Int32Array(rows) });

/** Trial t's segment ids: 2t for its `front` first rows (w ≥ 0), 2t + 1 for the rest of its block. */
export function markSegments(ids: Int32Array, t: number, first: number, front: number, units: number): void {
  ids.fill(2 * t, first, front);
  ids.fill(2 * t + 1, front, first + units);
}

/** |w|, but 2⁻¹⁰⁰ for w = 0 (signedRows); not `w || tiny`: a NaN weight must stay NaN, so a diverged trial shows it. */
export const foldScale = (w: number): number => (w < 0 ? -w : w === 0 ? 2 ** -100 : w);

/** The folded row of a unit with input row input[from…] and output weight w, written at rows[to…]. */
function foldRow(rows: Float32Array, to: number, input: Float32Array, from: number, width: number, w: number): void {
  const scale = foldScale(w);
  if (width === 3) {
    // two features, the common case, spelled out: a third faster than the loop
    rows[to] = input[from] * scale;
    rows[to + 1] = input[from + 1] * scale;
    rows[to + 2] = input[from + 2] * scale;
  } else for (let f = 0; f < width; f++) rows[to + f] = input[from + f] * scale;
}

/**
 * A tensor's values to read at once: on wasm a view of its memory (dataSync copies into a fresh
 * buffer, every epoch, as many floats as the pack has activations), elsewhere dataSync. Read it before the next
 * tfjs op, which may grow the wasm memory and leave the view empty.
 */
export function peek(tf: Tf, t: TF.Tensor): Float32Array {
  const backend = tf.backend() as unknown as { typedArrayFromHeap?: (t: TF.Tensor) => Float32Array };
  if (tf.getBackend() === 'wasm' && backend.typedArrayFromHeap) return backend.typedArrayFromHeap(t);
  return t.dataSync() as Float32Array;
}
