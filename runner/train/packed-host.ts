import type * as TF from '@tensorflow/tfjs';
import type { OptimizerSpec } from '../grid/types.ts';
import { sharedPointSums, type HostParams, type TensorCache, type Tf } from './packed-model.ts';
import { disposeFolded, foldedSums, peek, signedRows, uploadFold, type FoldBuffers, type FoldedLayer } from './packed-fold.ts';
import { stepTrials, Update, type StepArrays } from './packed-host-step.ts';
import { HelperLink, helperThread } from './packed-host-helper.ts';

/** Points every trial of a pack sees: [N, features + 1] with a column of ones, its transpose, and their labels (0 or 1). */
export interface SharedPoints { points: TF.Tensor2D; pointsT: TF.Tensor2D; labels: readonly number[] }

/**
 * A folded pack's training run from the host (features → relu units → one sigmoid output, every
 * trial on the same points, wasm): the weights, the optimizer's moments and the fold live in JS
 * arrays; the backend runs the passes over the [K·units, points] activations: per epoch a fused
 * matMul and a segment sum on the training points, the step times δ and a matMul for the
 * backward, and a matMul and a segment sum on the validation points. The host reads their sums
 * through views of the backend's memory and does the rest, where tfjs would take some seventy
 * small ops and fifty passes over the 4·K·units weights: the loss, accuracy and δ from the
 * logits, and one loop per trial that turns the backward's sums into gradients, updates every
 * weight as tfjs' Adam or SGD does and writes the next fold.
 */
export class FoldedTraining {
  private readonly epsilon: number;
  private readonly update: Update;
  /** Which of arrays.folds is current. */
  private current = 0;
  private folded: FoldedLayer;
  private disposed = false;

  private constructor(
    private readonly tf: Tf, private readonly cache: TensorCache, private readonly arrays: StepArrays,
    optimizer: OptimizerSpec, private readonly train: SharedPoints, private readonly val: SharedPoints,
    private readonly helper: HelperLink | null, private readonly share: number,
  ) {
    this.update = new Update(optimizer);
    this.epsilon = tf.backend().epsilon();
    this.folded = uploadFold(tf, arrays.folds[0], arrays.params[2], arrays.k);
  }

  /**
   * The training of K trials from their weights (HostParams of features → units → 1), each with
   * its L2 coefficient, on the shared training points, validated on `val` (only its transposed
   * points and labels are read). With a helper thread (packed-host-helper.ts) the update's
   * trials are shared between two threads.
   */
  static async create(
    tf: Tf, cache: TensorCache, params: HostParams, k: number, features: number, optimizer: OptimizerSpec,
    l2: readonly number[], train: SharedPoints, val: SharedPoints,
  ): Promise<FoldedTraining> {
    const width = features + 1;
    const units = params[1]!.length / k;
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
    // the main thread also copies the helper's sums over to it: it keeps the first half, rounded down
    const share = Math.floor(k / 2);
    const helper = threads ? await HelperLink.open(arrays, optimizer, share) : null;
    return new FoldedTraining(tf, cache, arrays, optimizer, train, val, helper, helper ? share : k);
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
   */
  epoch(active: readonly boolean[]): Float64Array {
    const { tf, cache, arrays, train } = this;
    const { k } = arrays;
    const figures = new Float64Array(4 * k);
    const b = train.labels.length;
    const forward = tf.tidy(() => foldedSums(tf, cache, this.folded, train.pointsT));
    const delta = new Float32Array(k * b);
    try {
      binaryFigures(peek(tf, forward.sums), this.folded.segments, arrays.params[2], train.labels, this.epsilon, figures, 0, delta);
      const sums = tf.tidy(() => sharedPointSums(tf, forward.hidden, tf.tensor3d(delta, [k, 1, b]), train.points));
      try {
        for (let t = 0; t < k; t++) {
          arrays.active[t] = active[t] ? 1 : 0;
          let sum = 0;
          for (let n = 0; n < b; n++) sum += delta[t * b + n]!;
          arrays.biasGrad[t] = sum;
        }
        this.step(peek(tf, sums));
        for (let t = 0; t < k; t++) figures[t] += arrays.penalty[t]!;
      } finally {
        sums.dispose();
      }
    } finally {
      tf.dispose([forward.sums, forward.hidden]);
    }
    disposeFolded(tf, this.folded);
    this.folded = uploadFold(tf, arrays.folds[this.current]!, arrays.params[2], k);
    const validation = tf.tidy(() => foldedSums(tf, cache, this.folded, this.val.pointsT).sums);
    binaryFigures(peek(tf, validation), this.folded.segments, arrays.params[2], this.val.labels, this.epsilon, figures, 2 * k);
    validation.dispose();
    return figures;
  }

  /** Frees the tensors and the helper thread once training is over (again: nothing); the weights stay readable. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeFolded(this.tf, this.folded);
    this.helper?.close();
  }

  /** The update of every trial from the backward's sums (a view of the backend's memory: read before the next op). */
  private step(sums: Float32Array): void {
    this.update.begin();
    this.helper?.start(this.update, this.current, sums);
    stepTrials(this.arrays, this.update, this.current, 0, this.share, sums, 0);
    this.helper?.wait();
    this.current = 1 - this.current;
  }
}

/** `into` (a copy of `from` when absent) with trial t's blocks taken from `from` wherever which[t]. */
export function copyTrials(from: HostParams, which: readonly boolean[], into?: HostParams): HostParams {
  if (!into) return from.map((a) => a.slice());
  const k = which.length;
  from.forEach((a, i) => {
    const size = a.length / k;
    which.forEach((take, t) => {
      if (take) into[i]!.set(a.subarray(t * size, (t + 1) * size), t * size);
    });
  });
  return into;
}

/**
 * Per trial, tfjs-layers' binary cross-entropy and accuracy (p > 0.5) over N points, from
 * foldedSums' segment sums [segments, N] and the output biases [K], written to figures[at + t]
 * and figures[at + K + t]. With `delta`, also the loss's gradient at each logit [K, N]:
 * (p − y)/N, or 0 where the clip holds p. tfjs-layers clips p to [ε, 1 − ε] in float32 and
 * takes the logit back: that is the logit itself where p is not clipped, and the clip's own
 * logits (−16.12 and 15.94 for ε = 1e-7) where it is.
 */
export function binaryFigures(
  sums: Float32Array, segments: number, bias: Float32Array, labels: readonly number[], epsilon: number,
  figures: Float64Array, at: number, delta?: Float32Array,
): void {
  const k = bias.length;
  const n = labels.length;
  const [low, high] = [Math.fround(epsilon), Math.fround(1 - epsilon)];
  const lowest = Math.log(low / Math.fround(1 - low));
  const highest = Math.log(high / Math.fround(1 - high));
  for (let t = 0; t < k; t++) {
    const positive = 2 * t * n;
    // (the last trial has no row of negative sums when none of its output weights is negative)
    const negative = 2 * t + 1 < segments ? (2 * t + 1) * n : -1;
    let loss = 0;
    let right = 0;
    for (let j = 0; j < n; j++) {
      const logit = sums[positive + j]! - (negative < 0 ? 0 : sums[negative + j]!) + bias[t]!;
      const y = labels[j]!;
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
      if (delta) delta[t * n + j] = d;
    }
    figures[at + t] = loss / n;
    figures[at + k + t] = right / n;
  }
}
