/**
 * scikit-learn 1.2.1's `make_moons` and `make_circles`, reproduced operation for operation
 * (same linspace arithmetic, same draws in the same order from numpy's legacy RandomState), so
 * a grid's `randomState` gives the very points an sklearn user gets.
 */
import { RandomState } from './random/mt19937.ts';

export interface Labelled2D {
  X: number[][];
  y: number[];
}

export interface MoonsOptions {
  samples: number;
  /** Standard deviation of the Gaussian noise; `null` adds none and draws none (sklearn's `noise=None`). */
  noise: number | null;
  randomState: number;
  shuffle?: boolean;
}

export interface CirclesOptions extends MoonsOptions {
  /** Radius of the inner circle relative to the outer one, in [0, 1). */
  factor: number;
}

/** Two interleaving half circles; class 0 the upper moon, class 1 the lower. */
export function makeMoons({ samples, noise, randomState, shuffle = true }: MoonsOptions): Labelled2D {
  checkSamples(samples);
  const nOut = Math.floor(samples / 2);
  const nIn = samples - nOut;
  const rng = new RandomState(randomState);
  const outer = linspace(0, Math.PI, nOut, true);
  const inner = linspace(0, Math.PI, nIn, true);
  const X = [
    ...outer.map((t) => [Math.cos(t), Math.sin(t)]),
    ...inner.map((t) => [1 - Math.cos(t), 1 - Math.sin(t) - 0.5]),
  ];
  return finish(X, nOut, nIn, rng, shuffle, noise);
}

/** A small circle inside a large one; class 0 the outer circle, class 1 the inner. */
export function makeCircles({ samples, noise, factor, randomState, shuffle = true }: CirclesOptions): Labelled2D {
  checkSamples(samples);
  if (!(factor >= 0 && factor < 1)) throw new RangeError(`Expected \`factor\` to be in [0, 1), got ${factor}`);
  const nOut = Math.floor(samples / 2);
  const nIn = samples - nOut;
  const rng = new RandomState(randomState);
  const outer = linspace(0, 2 * Math.PI, nOut, false);
  const inner = linspace(0, 2 * Math.PI, nIn, false);
  const X = [
    ...outer.map((t) => [Math.cos(t), Math.sin(t)]),
    ...inner.map((t) => [Math.cos(t) * factor, Math.sin(t) * factor]),
  ];
  return finish(X, nOut, nIn, rng, shuffle, noise);
}

/** Labels, then `sklearn.utils.shuffle` (a shuffled arange of indices), then noise in C order. */
function finish(X: number[][], nOut: number, nIn: number, rng: RandomState, shuffle: boolean, noise: number | null): Labelled2D {
  let y = [...new Array<number>(nOut).fill(0), ...new Array<number>(nIn).fill(1)];
  if (shuffle) {
    const idx = rng.shuffle(Array.from(X, (_, i) => i));
    X = idx.map((i) => X[i]);
    y = idx.map((i) => y[i]);
  }
  if (noise !== null) {
    const g = rng.normal(0, noise, X.length * 2);
    X = X.map(([a, b], i) => [a + g[2 * i], b + g[2 * i + 1]]);
  }
  return { X, y };
}

/** `np.linspace(start, stop, num, endpoint)` for float64, including its last-point overwrite. */
export function linspace(start: number, stop: number, num: number, endpoint: boolean): number[] {
  const div = endpoint ? num - 1 : num;
  const delta = stop - start;
  const step = delta / div;
  const y = Array.from({ length: num }, (_, i) => {
    if (div <= 0) return i * delta + start;
    // numpy divides first when the step underflows to zero (denormal ranges)
    return (step === 0 ? (i / div) * delta : i * step) + start;
  });
  if (endpoint && num > 1) y[num - 1] = stop;
  return y;
}

function checkSamples(samples: number): void {
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`Expected \`samples\` to be an integer from 1 and up, got ${samples}`);
}
