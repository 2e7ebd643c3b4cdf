import type * as TF from '@tensorflow/tfjs';
import type { OptimizerSpec } from '../grid/types.ts';
import { sharedPointSums, type HostParams, type TensorCache, type Tf } from './packed-model.ts';
import { disposeFolded, emptyFold, foldedSums, foldScale, markSegments, peek, signedRows, uploadFold, type FoldBuffers, type FoldedLayer } from './packed-fold.ts';

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
  /** In flatParams order and unit order: input rows [K, units, features + 1], output kernel [K, units, 1], output bias [K, 1, 1]. */
  readonly params: HostParams;
  private readonly units: number;
  private readonly width: number;
  /** Per param array: Adam's first and second moments, or SGD's velocity (twice the same arrays). */
  private readonly first: HostParams;
  private readonly second: HostParams;
  private readonly update: Update;
  private readonly epsilon: number;
  private fold: FoldBuffers;
  private spare: FoldBuffers;
  private folded: FoldedLayer;

  constructor(
    private readonly tf: Tf, private readonly cache: TensorCache, params: HostParams, private readonly k: number, features: number,
    optimizer: OptimizerSpec, private readonly l2: readonly number[], private readonly train: SharedPoints, private readonly val: SharedPoints,
  ) {
    this.params = params.map((a) => a.slice());
    this.units = params[1]!.length / k;
    this.width = features + 1;
    this.first = params.map((a) => new Float32Array(a.length));
    this.second = optimizer.kind === 'adam' ? params.map((a) => new Float32Array(a.length)) : this.first;
    this.update = new Update(optimizer);
    this.epsilon = tf.backend().epsilon();
    this.fold = signedRows(this.params, k, features, this.units);
    this.spare = emptyFold(k * this.units, this.width);
    this.folded = uploadFold(tf, this.fold, this.params[2]!, k);
  }

  /**
   * One epoch: a step on the training points, then validation. Returns [K] each of the training
   * loss (penalty included, at the weights the step started from, as Keras reports it) and
   * accuracy, then the validation loss and accuracy after the step. Inactive trials keep their
   * weights and moments, as the stop mask does.
   */
  epoch(active: readonly boolean[]): Float64Array {
    const { tf, cache, k, train } = this;
    const figures = new Float64Array(4 * k);
    const b = train.labels.length;
    const forward = tf.tidy(() => foldedSums(tf, cache, this.folded, train.pointsT));
    const delta = new Float32Array(k * b);
    try {
      binaryFigures(peek(tf, forward.sums), this.folded.segments, this.params[2]!, train.labels, this.epsilon, figures, 0, delta);
      const sums = tf.tidy(() => sharedPointSums(tf, forward.hidden, tf.tensor3d(delta, [k, 1, b]), train.points));
      try {
        const biasGrad = new Float32Array(k);
        for (let t = 0; t < k; t++) for (let n = 0; n < b; n++) biasGrad[t] += delta[t * b + n]!;
        // (a view of the backend's memory: read before the next op)
        const penalty = this.step(peek(tf, sums), biasGrad, active);
        if (penalty) for (let t = 0; t < k; t++) figures[t] += penalty[t]!;
      } finally {
        sums.dispose();
      }
    } finally {
      tf.dispose([forward.sums, forward.hidden]);
    }
    disposeFolded(tf, this.folded);
    this.folded = uploadFold(tf, this.fold, this.params[2]!, k);
    const validation = tf.tidy(() => foldedSums(tf, cache, this.folded, this.val.pointsT).sums);
    binaryFigures(peek(tf, validation), this.folded.segments, this.params[2]!, this.val.labels, this.epsilon, figures, 2 * k);
    validation.dispose();
    return figures;
  }

  dispose(): void {
    disposeFolded(this.tf, this.folded);
  }

  /**
   * One update of every active trial from the backward's sums per unit (R_i = Σ x_i·δ·S and
   * R_b = Σ δ·S in the current fold's row order) and the output biases' gradients [K]; writes the
   * next fold. Returns each trial's L2 penalty c·Σw² at the weights the sums were taken at, or
   * null when no trial is penalised.
   */
  private step(sums: Float32Array, biasGrad: Float32Array, active: readonly boolean[]): Float32Array | null {
    const { k, units, width, update, l2 } = this;
    const [input, kernel, bias] = this.params as [Float32Array, Float32Array, Float32Array];
    const [m0, m1, m2] = this.first as [Float32Array, Float32Array, Float32Array];
    const [v0, v1, v2] = this.second as [Float32Array, Float32Array, Float32Array];
    const { perm } = this.fold;
    const next = this.spare;
    const { rows } = next;
    const penalty = l2.some((c) => c !== 0) ? new Float32Array(k) : null;
    update.begin();
    for (let t = 0; t < k; t++) {
      const first = t * units;
      if (!active[t]) {
        next.rows.set(this.fold.rows.subarray(first * width, (first + units) * width), first * width);
        next.ids.set(this.fold.ids.subarray(first, first + units), first);
        next.perm.set(perm.subarray(first, first + units), first);
        continue;
      }
      // Keras' c·Σw² over the kernels adds 2c·w to their gradients, not to the biases'
      const twice = 2 * l2[t]!;
      let squares = 0;
      let front = first;
      let back = first + units;
      for (let at = first; at < first + units; at++) {
        const u = perm[at]!;
        const w = kernel[u]!;
        const s = at * width;
        const p = u * width;
        // the rows' gradients are the sums times w; w's is Σ rows·sums (hidden = rows·[x, 1] where on)
        let dw = twice * w;
        if (width === 3) {
          // two features, spelled out: a third faster than the loop
          const x0 = input[p]!;
          const x1 = input[p + 1]!;
          const x2 = input[p + 2]!;
          const s0 = sums[s]!;
          const s1 = sums[s + 1]!;
          const s2 = sums[s + 2]!;
          dw += x0 * s0 + x1 * s1 + x2 * s2;
          squares += x0 * x0 + x1 * x1;
          input[p] = update.next(m0, v0, p, s0 * w + twice * x0, x0);
          input[p + 1] = update.next(m0, v0, p + 1, s1 * w + twice * x1, x1);
          input[p + 2] = update.next(m0, v0, p + 2, s2 * w, x2);
        } else {
          for (let f = 0; f < width; f++) {
            const x = input[p + f]!;
            const g = sums[s + f]!;
            dw += x * g;
            const kernelEntry = f < width - 1;
            if (kernelEntry) squares += x * x;
            input[p + f] = update.next(m0, v0, p + f, g * w + (kernelEntry ? twice * x : 0), x);
          }
        }
        squares += w * w;
        const updated = (kernel[u] = update.next(m1, v1, u, dw, w));
        const to = updated < 0 ? --back : front++;
        next.perm[to] = u;
        // foldRow, written out: this loop is too long for V8 to inline it (twice the time)
        const scale = foldScale(updated);
        const q = to * width;
        if (width === 3) {
          rows[q] = input[p]! * scale;
          rows[q + 1] = input[p + 1]! * scale;
          rows[q + 2] = input[p + 2]! * scale;
        } else for (let f = 0; f < width; f++) rows[q + f] = input[p + f]! * scale;
      }
      markSegments(next.ids, t, first, front, units);
      bias[t] = update.next(m2, v2, t, biasGrad[t]!, bias[t]!);
      if (penalty) penalty[t] = l2[t]! * squares;
    }
    update.end();
    [this.fold, this.spare] = [next, this.fold];
    return penalty;
  }
}

/**
 * One weight's update as tfjs' AdamOptimizer (m, v; bias-corrected by β^t kept in float32) or
 * SGD/MomentumOptimizer (velocity in m) computes it, its constants rounded to float32 as tfjs'
 * scalars are; the arithmetic runs in float64 and rounds once, on the store.
 */
class Update {
  private readonly adam: boolean;
  private readonly rate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly rest1: number;
  private readonly rest2: number;
  private readonly epsilon: number;
  private readonly momentum: number;
  private accBeta1: number;
  private accBeta2: number;
  /** This step's learning rate over the first moment's bias correction, and one over the square root of the second's. */
  private stepRate = 0;
  private rootCorrection = 1;

  constructor(optimizer: OptimizerSpec) {
    const f = Math.fround;
    this.adam = optimizer.kind === 'adam';
    this.rate = f(-optimizer.learningRate);
    this.beta1 = optimizer.kind === 'adam' ? f(optimizer.beta1) : 0;
    this.beta2 = optimizer.kind === 'adam' ? f(optimizer.beta2) : 0;
    this.rest1 = optimizer.kind === 'adam' ? f(1 - optimizer.beta1) : 0;
    this.rest2 = optimizer.kind === 'adam' ? f(1 - optimizer.beta2) : 0;
    this.epsilon = optimizer.kind === 'adam' ? f(optimizer.epsilon) : 0;
    this.momentum = optimizer.kind === 'sgd' ? f(optimizer.momentum) : 0;
    this.accBeta1 = this.beta1;
    this.accBeta2 = this.beta2;
  }

  begin(): void {
    this.stepRate = this.rate / Math.fround(1 - this.accBeta1);
    this.rootCorrection = 1 / Math.sqrt(Math.fround(1 - this.accBeta2));
  }

  /** p's next value after gradient g, updating the moments m[i] (and v[i]). */
  next(m: Float32Array, v: Float32Array, i: number, g: number, p: number): number {
    if (this.adam) {
      const mi = (m[i] = m[i]! * this.beta1 + g * this.rest1);
      const vi = (v[i] = v[i]! * this.beta2 + g * g * this.rest2);
      // (m/c₁)/(√(v/c₂) + ε) with the corrections taken out: one division a weight, not three
      return p + (this.stepRate * mi) / (Math.sqrt(vi) * this.rootCorrection + this.epsilon);
    }
    if (this.momentum === 0) return p + this.rate * g;
    const velocity = (m[i] = m[i]! * this.momentum + g);
    return p + this.rate * velocity;
  }

  end(): void {
    this.accBeta1 = Math.fround(this.accBeta1 * this.beta1);
    this.accBeta2 = Math.fround(this.accBeta2 * this.beta2);
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
