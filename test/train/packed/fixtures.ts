import type { Dataset } from '../../../runner/data/types.ts';
import type { Trial } from '../../../runner/records/config.ts';
import { trial as baseTrial, type TrialOptions as BaseOptions } from '../fixtures.ts';

export { moons } from '../fixtures.ts';

/** Three blobs around the corners of a triangle, for the softmax path. */
export function blobs(perClass = 12): Dataset {
  const centres = [[0, 0], [2, 0], [1, 1.7]];
  const x: number[][] = [];
  const y: number[] = [];
  let s = 7;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  for (let i = 0; i < perClass; i++) centres.forEach(([cx, cy], c) => { x.push([cx + 1.6 * r(), cy + 1.6 * r()]); y.push(c); });
  const cut = Math.floor(x.length / 2);
  return { featureNames: ['x0', 'x1'], classNames: ['a', 'b', 'c'], inputShape: [2], train: { x: x.slice(0, cut), y: y.slice(0, cut) }, val: { x: x.slice(cut), y: y.slice(cut) } };
}

export interface TrialOptions extends BaseOptions {
  hidden?: number[];
  activation?: 'relu' | 'tanh' | 'sigmoid';
}

/** A small MLP moons trial (fixtures.ts) with the engine left to choose. */
export function trial(o: TrialOptions = {}): Trial {
  const base = baseTrial({ ...o, model: { kind: 'mlp', hidden: o.hidden ?? [32], activation: o.activation ?? 'relu' } });
  return { ...base, config: { ...base.config, train: { ...base.config.train, engine: 'auto' } } };
}

/** Largest |a − b| / |b| over two series of equal length. */
export function maxRelativeError(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  return Math.max(0, ...a.map((v, i) => Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), 1e-12)));
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
