import type { OptimizerSpec } from '../../../records/config.ts';
import { foldScale, markSegments, type FoldBuffers } from '../fold.ts';

/**
 * The arrays a folded pack's host update reads and writes (FoldedTraining). When a helper thread
 * takes part of the trials, they all live on SharedArrayBuffers; each thread writes only its own
 * trials' blocks. No tfjs here: the helper thread loads this module alone.
 */
export interface StepArrays {
  k: number;
  units: number;
  /** features + 1 */
  width: number;
  /** The weights in unit order: input rows [K·units·width], output kernel [K·units], output bias [K]. */
  params: [Float32Array, Float32Array, Float32Array];
  /** Per weights array, Adam's first and second moments, or SGD's velocity (twice the same arrays). */
  first: [Float32Array, Float32Array, Float32Array];
  second: [Float32Array, Float32Array, Float32Array];
  /** The current fold and the next one (which fold is current alternates step by step). */
  folds: [FoldBuffers, FoldBuffers];
  /** Per trial: the L2 coefficient, the output bias's gradient, whether it trains (1) or is frozen (0), and the penalty written. */
  l2: Float32Array;
  biasGrad: Float32Array;
  active: Uint8Array;
  penalty: Float32Array;
}

/**
 * Trials [from, to) of one update: from the backward's sums per unit (R_i = Σ x_i·δ·S and
 * R_b = Σ δ·S, row by row in the current fold's order, row r at sums[(r − sumsFrom)·width]), the
 * gradients of the input rows (the sums times w) and of w (Σ rows·sums: hidden = rows·[x, 1]
 * where on), plus Keras' 2c·w on the kernels; every weight updated as tfjs' optimizer does; and
 * the next fold (folds[1 − current]). Frozen trials keep their weights and moments and fold.
 * Writes each trial's L2 penalty c·Σw² at the weights the sums were taken at.
 */
export function stepTrials(a: StepArrays, update: Update, current: number, from: number, to: number, sums: Float32Array, sumsFrom: number): void {
  const { units, width, l2, penalty } = a;
  const [input, kernel, bias] = a.params;
  const [m0, m1, m2] = a.first;
  const [v0, v1, v2] = a.second;
  const fold = a.folds[current];
  const next = a.folds[1 - current];
  const { perm } = fold;
  const { rows } = next;
  const offset = sumsFrom * width;
  for (let t = from; t < to; t++) {
    const first = t * units;
    if (!a.active[t]) {
      rows.set(fold.rows.subarray(first * width, (first + units) * width), first * width);
      next.ids.set(fold.ids.subarray(first, first + units), first);
      next.perm.set(perm.subarray(first, first + units), first);
      continue;
    }
    const twice = 2 * l2[t];
    let squares = 0;
    let front = first;
    let back = first + units;
    for (let at = first; at < first + units; at++) {
      const u = perm[at];
      const w = kernel[u];
      const s = at * width - offset;
      const p = u * width;
      let dw = twice * w;
      if (width === 3) {
        // two features, spelled out: a third faster than the loop
        const x0 = input[p];
        const x1 = input[p + 1];
        const x2 = input[p + 2];
        const s0 = sums[s];
        const s1 = sums[s + 1];
        const s2 = sums[s + 2];
        dw += x0 * s0 + x1 * s1 + x2 * s2;
        squares += x0 * x0 + x1 * x1;
        input[p] = update.next(m0, v0, p, s0 * w + twice * x0, x0);
        input[p + 1] = update.next(m0, v0, p + 1, s1 * w + twice * x1, x1);
        input[p + 2] = update.next(m0, v0, p + 2, s2 * w, x2);
      } else {
        for (let f = 0; f < width; f++) {
          const x = input[p + f];
          const g = sums[s + f];
          dw += x * g;
          const kernelEntry = f < width - 1;
          if (kernelEntry) squares += x * x;
          input[p + f] = update.next(m0, v0, p + f, g * w + (kernelEntry ? twice * x : 0), x);
        }
      }
      squares += w * w;
      const updated = (kernel[u] = update.next(m1, v1, u, dw, w));
      const at2 = updated < 0 ? --back : front++;
      next.perm[at2] = u;
      // foldRow, written out: this loop is too long for V8 to inline it (twice the time)
      const scale = foldScale(updated);
      const q = at2 * width;
      if (width === 3) {
        rows[q] = input[p] * scale;
        rows[q + 1] = input[p + 1] * scale;
        rows[q + 2] = input[p + 2] * scale;
      } else for (let f = 0; f < width; f++) rows[q + f] = input[p + f] * scale;
    }
    markSegments(next.ids, t, first, front, units);
    bias[t] = update.next(m2, v2, t, a.biasGrad[t], bias[t]);
    penalty[t] = l2[t] * squares;
  }
}

/**
 * One weight's update as tfjs' AdamOptimizer (m, v; bias-corrected by β^t kept in float32) or
 * SGD/MomentumOptimizer (velocity in m) computes it, its constants rounded to float32 as tfjs'
 * scalars are; the arithmetic runs in float64 and rounds once, on the store.
 */
export class Update {
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
  stepRate = 0.5;
  rootCorrection = 0.5;

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

  /** The next step's corrections (the helper thread receives them rather than keeping β^t itself). */
  begin(): void {
    this.stepRate = this.rate / Math.fround(1 - this.accBeta1);
    this.rootCorrection = 1 / Math.sqrt(Math.fround(1 - this.accBeta2));
    this.accBeta1 = Math.fround(this.accBeta1 * this.beta1);
    this.accBeta2 = Math.fround(this.accBeta2 * this.beta2);
  }

  /** p's next value after gradient g, updating the moments m[i] (and v[i]). */
  next(m: Float32Array, v: Float32Array, i: number, g: number, p: number): number {
    if (this.adam) {
      const mi = (m[i] = m[i] * this.beta1 + g * this.rest1);
      const vi = (v[i] = v[i] * this.beta2 + g * g * this.rest2);
      // (m/c₁)/(√(v/c₂) + ε) with the corrections taken out: one division a weight, not three
      return p + (this.stepRate * mi) / (Math.sqrt(vi) * this.rootCorrection + this.epsilon);
    }
    if (this.momentum === 0) return p + this.rate * g;
    const velocity = (m[i] = m[i] * this.momentum + g);
    return p + this.rate * velocity;
  }
}
