/** Keras' epsilon: probabilities are clipped to [EPS, 1 − EPS] before the log, as its cross-entropies do. */
export const EPS = 1e-7;

/** Mean cross-entropy of the true classes, no penalty: what val_loss and the final losses report. */
export function crossEntropy(proba: number[][], y: number[]): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const p = Math.min(1 - EPS, Math.max(EPS, proba[i][y[i]]));
    sum -= Math.log(p);
  }
  return y.length ? sum / y.length : NaN;
}

/** The fraction of rows whose most probable class is the label. */
export function accuracy(proba: number[][], y: number[]): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) if (argmax(proba[i]) === y[i]) right++;
  return y.length ? right / y.length : NaN;
}

/** First maximum wins, so p = 0.5 of class 1 counts as class 0 (Keras' binary accuracy: p > 0.5). */
export function argmax(p: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return best;
}

/** Binary models output p(class 1) only; every result stores one probability per class. */
export function toClassProba(out: ArrayLike<number>, rows: number, classes: number): number[][] {
  const proba: number[][] = [];
  const width = classes === 2 ? 1 : classes;
  for (let i = 0; i < rows; i++) {
    if (classes === 2) {
      const p = out[i * width];
      proba.push([1 - p, p]);
    } else {
      proba.push(Array.from({ length: classes }, (_, k) => out[i * width + k]));
    }
  }
  return proba;
}

