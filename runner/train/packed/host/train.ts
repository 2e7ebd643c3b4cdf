import type * as TF from '../../tfjs.ts';
import type { OptimizerSpec } from '../../../records/config.ts';
import { sharedPointSums, type HostParams, type TensorCache, type Tf } from '../model.ts';
import { disposeFolded, foldedSums, peek, signedRows, uploadFold, type FoldBuffers, type FoldedLayer } from '../fold.ts';
import { stepTrials, Update, type StepArrays } from './step.ts';
import { HelperLink, helperThread } from './helper.ts';

/** Points every trial of a pack sees: [N, features + 1] with a column of ones, its transpose, and their labels (0 or 1). */
export interface SharedPoints { points: TF.Tensor2D; pointsT: TF.Tensor2D; labels: readonly number[] }
/** Validation needs only the transposed points. */
export type ValidationPoints = Pick<SharedPoints, 'pointsT' | 'labels'>;

/**
 * A folded pack's training run from the host (features → relu units → one sigmoid output, every
 * trial on the same points, wasm): the weights, the optimizer's moments and the fold live in JS
 * arrays; the backend runs the passes over the [K·units, points] activations: per epoch a fused
 * matMul and a segment sum on the training points, the step times δ and a matMul for the
 * backward, and a matMul and a segment sum on the validation points. The host reads their sums
 * through views of the backend's memory and does the rest, which on the tfjs path is a hundred
 * small ops an epoch, each a pass over the 4·K·units weights: the loss, accuracy
 * and δ from the logits, and one loop per trial that turns the backward's sums into gradients,
 * updates every weight as tfjs' Adam or SGD does and writes the next fold.
 */
export class FoldedTraining {
  private readonly epsilon: number;
  private readonly update: Update;
  /** Which of arrays.folds is current. */
  private current = 0;
  /** The pack's trials in one range, or two when a helper thread updates one while tfjs runs the other's passes. */
  private readonly ranges: [number, number][];
  /** Each range's current fold, uploaded. */
  private folded: FoldedLayer[];
  private disposed = false;

  private constructor(
    private readonly tf: Tf, private readonly cache: TensorCache, private readonly arrays: StepArrays,
    optimizer: OptimizerSpec, private readonly train: SharedPoints, private readonly val: ValidationPoints,
    private readonly helper: HelperLink | null,
  ) {
    this.update = new Update(optimizer);
    this.epsilon = tf.backend().epsilon();
    const { k } = arrays;
    this.ranges = helper ? [[0, Math.ceil(k / 2)], [Math.ceil(k / 2), k]] : [[0, k]];
    this.folded = this.ranges.map(([from, to]) => uploadFold(tf, arrays.folds[0], arrays.params[2], from, to));
  }

  /**
   * The training of K trials from their weights (HostParams of features → units → 1), each with
   * its L2 coefficient, on the shared training points, validated on `val`. With a helper thread
   * (helper.ts) the pack runs as two halves: the helper updates one while the main
   * thread runs the other's passes.
   */
  static async create(
    tf: Tf, cache: TensorCache, params: HostParams, k: number, features: number, optimizer: OptimizerSpec,
    l2: readonly number[], train: SharedPoints, val: ValidationPoints,
  ): Promise<FoldedTraining> {
    const width = features + 1;
    const units = params[1].length / k;
    const threads = k >= 2 && (await helperThread());
    const floats = (n: number) => (threads ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n));
    const ints = (n: number) => (threads ? new Int32Array(new SharedArrayBuffer(4 * n)) : new Int32Array(n));
    const copy = (a: ArrayLike<number>) => {
      const c = floats(a.length);
      c.set(a);
      return c;
    };
    const zeros = (): StepArrays['params'] => [floats(k * units * width), floats(k * units), floats(k)];
    const fold = (): FoldBuffers => ({ rows: floats(k * units * width), ids: ints(k * units), perm: ints(k * units) });
    const first = zeros();
    const arrays: StepArrays = {
      k, units, width,
      params: params.map(copy) as StepArrays['params'],
      first, second: optimizer.kind === 'adam' ? zeros() : first,
      folds: [fold(), fold()],
      l2: copy(l2), biasGrad: floats(k), penalty: floats(k),
      active: new Uint8Array(threads ? new SharedArrayBuffer(k) : new ArrayBuffer(k)),
    };
    signedRows(arrays.params, k, features, units, arrays.folds[0]);
    const helper = threads ? await HelperLink.open(arrays, optimizer, Math.ceil(k / 2)) : null;
    return new FoldedTraining(tf, cache, arrays, optimizer, train, val, helper);
  }

  /** The weights in unit order, as HostParams: the arrays training updates (copy what must outlive the next epoch). */
  get params(): HostParams {
    return this.arrays.params;
  }

  /**
   * One epoch: a step on the training points, then validation. Returns [K] each of the training
   * loss (penalty included, at the weights the step started from, as Keras reports it) and
   * accuracy, then the validation loss and accuracy after the step. Inactive trials keep their
   * weights and moments, as the stop mask does.
   *
   * With two halves: the passes of half 0's step, then half 1's while the helper updates half
   * 0, then half 0's validation while it updates half 1, then half 1's validation.
   */
  epoch(active: readonly boolean[]): Float64Array {
    const { tf, arrays, helper } = this;
    const figures = new Float64Array(4 * arrays.k);
    for (let t = 0; t < arrays.k; t++) arrays.active[t] = active[t] ? 1 : 0;
    this.update.begin();
    const next = 1 - this.current;
    for (const [h, [from, to]] of this.ranges.entries()) {
      const sums = this.backward(h, figures);
      try {
        // (a view of the backend's memory: read before the next op)
        const view = peek(tf, sums);
        if (!helper) stepTrials(arrays, this.update, this.current, from, to, view, from * arrays.units);
        else {
          if (h > 0) helper.wait();
          helper.start(this.update, this.current, view, from, to);
        }
      } finally {
        sums.dispose();
      }
      if (helper && h > 0) this.validate(h - 1, next, figures);
    }
    helper?.wait();
    this.validate(this.ranges.length - 1, next, figures);
    this.current = next;
    for (let t = 0; t < arrays.k; t++) figures[t] += arrays.penalty[t];
    return figures;
  }

  /** Frees the tensors and the helper thread once training is over (again: nothing); the weights stay readable. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const f of this.folded) disposeFolded(this.tf, f);
    this.helper?.close();
  }

  /**
   * Range h's forward pass on the training points, its loss, accuracy and output biases'
   * gradients on the host, and the backward's sums per unit [units of the range, F + 1].
   */
  private backward(h: number, figures: Float64Array): TF.Tensor2D {
    const { tf, cache, arrays, train } = this;
    const [from, to] = this.ranges[h];
    const b = train.labels.length;
    const folded = this.folded[h];
    const forward = tf.tidy(() => foldedSums(tf, cache, folded, train.pointsT));
    try {
      const delta = new Float32Array((to - from) * b);
      binaryFigures(peek(tf, forward.sums), folded.segments, arrays.params[2], train.labels, this.epsilon, figures, 0, delta, from, to);
      for (let t = from; t < to; t++) {
        let sum = 0;
        for (let n = 0; n < b; n++) sum += delta[(t - from) * b + n];
        arrays.biasGrad[t] = sum;
      }
      return tf.tidy(() => sharedPointSums(tf, forward.hidden, tf.tensor3d(delta, [to - from, 1, b]), train.points));
    } finally {
      tf.dispose([forward.sums, forward.hidden]);
    }
  }

  /** Range h's updated weights uploaded from fold `fold`, and its validation figures. */
  private validate(h: number, fold: number, figures: Float64Array): void {
    const { tf, cache, arrays } = this;
    const [from, to] = this.ranges[h];
    disposeFolded(tf, this.folded[h]);
    const folded = (this.folded[h] = uploadFold(tf, arrays.folds[fold], arrays.params[2], from, to));
    const sums = tf.tidy(() => foldedSums(tf, cache, folded, this.val.pointsT).sums);
    binaryFigures(peek(tf, sums), folded.segments, arrays.params[2], this.val.labels, this.epsilon, figures, 2 * arrays.k, undefined, from, to);
    sums.dispose();
  }
}

/** `into` (a copy of `from` when absent) with trial t's blocks taken from `from` wherever which[t]. */
export function copyTrials(from: HostParams, which: readonly boolean[], into?: HostParams): HostParams {
  if (!into) return from.map((a) => a.slice());
  const k = which.length;
  from.forEach((a, i) => {
    const size = a.length / k;
    which.forEach((take, t) => {
      if (take) into[i].set(a.subarray(t * size, (t + 1) * size), t * size);
    });
  });
  return into;
}

/**
 * Per trial t of [from, to), tfjs-layers' binary cross-entropy and accuracy (p > 0.5) over N
 * points, from foldedSums' segment sums [segments, N] (row 2t and 2t + 1: the pack's numbering) and
 * the output biases [K], written to figures[at + t] and figures[at + K + t]. With `delta`, also the
 * loss's gradient at each logit [to − from, N]: (p − y)/N, or 0 where the clip holds p.
 * tfjs-layers clips p to [ε, 1 − ε] in float32 and takes the logit back: that is the logit itself
 * where p is not clipped, and the clip's own logits (−16.12 and 15.94 for ε = 1e-7) where it is.
 */
export function binaryFigures(
  sums: Float32Array, segments: number, bias: Float32Array, labels: readonly number[], epsilon: number,
  figures: Float64Array, at: number, delta?: Float32Array, from = 0, to = bias.length,
): void {
  const k = bias.length;
  const n = labels.length;
  const [low, high] = [Math.fround(epsilon), Math.fround(1 - epsilon)];
  const lowest = Math.log(low / Math.fround(1 - low));
  const highest = Math.log(high / Math.fround(1 - high));
  for (let t = from; t < to; t++) {
    const positive = 2 * t * n;
    // (the last trial has no row of negative sums when none of its output weights is negative)
    const negative = 2 * t + 1 < segments ? (2 * t + 1) * n : -1;
    let loss = 0;
    let right = 0;
    for (let j = 0; j < n; j++) {
      const logit = sums[positive + j] - (negative < 0 ? 0 : sums[negative + j]) + bias[t];
      const y = labels[j];
      if ((logit > 0 ? 1 : 0) === y) right++;
      let z = logit;
      let d = 0;
      if (logit >= lowest && logit <= highest) {
        // p = σ(logit) from e = exp(−|logit|), which log1p also needs
        const e = Math.exp(-Math.abs(logit));
        d = ((logit >= 0 ? 1 / (1 + e) : e / (1 + e)) - y) / n;
        loss += Math.max(z, 0) - z * y + Math.log1p(e);
      } else {
        // clipped; a NaN logit stays NaN, so the trial shows as diverged
        z = logit < lowest ? lowest : logit > highest ? highest : NaN;
        loss += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
      }
      if (delta) delta[(t - from) * n + j] = d;
    }
    figures[at + t] = loss / n;
    figures[at + k + t] = right / n;
  }
}
