import type { Dataset } from '../../runner/data/types.ts';
import type { Augmentation, DropoutValue, OptimizerSpec, Trial, TrialConfig } from '../../runner/grid/types.ts';
import { makeMoons } from '../../runner/data/synthetic.ts';

/** The seed article's data, smaller: make_moons, the first `train` points train, the rest validate. */
export function moons(samples = 60, train = 20): Dataset {
  const { X, y } = makeMoons({ samples, noise: 0.2, randomState: 1, shuffle: true });
  return {
    featureNames: ['x0', 'x1'],
    classNames: ['0', '1'],
    inputShape: [2],
    train: { x: X.slice(0, train), y: y.slice(0, train) },
    val: { x: X.slice(train), y: y.slice(train) },
  };
}

/** Three blobs around the corners of a triangle, for the softmax path. */
export function blobs(perClass = 12): Dataset {
  const centres = [[0, 0], [2, 0], [1, 1.7]];
  const x: number[][] = [];
  const y: number[] = [];
  let s = 7;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  for (let i = 0; i < perClass; i++) centres.forEach(([cx, cy], c) => { x.push([cx! + 1.6 * r(), cy! + 1.6 * r()]); y.push(c); });
  const cut = Math.floor(x.length / 2);
  return { featureNames: ['x0', 'x1'], classNames: ['a', 'b', 'c'], inputShape: [2], train: { x: x.slice(0, cut), y: y.slice(0, cut) }, val: { x: x.slice(cut), y: y.slice(cut) } };
}

export interface TrialOptions {
  seed?: number;
  l2?: number;
  dropout?: DropoutValue;
  augmentation?: Augmentation | null;
  patience?: number | null;
  epochs?: number;
  hidden?: number[];
  batchSize?: number;
  minDelta?: number;
  optimizer?: OptimizerSpec;
  replicate?: number | null;
}

export function trial(o: TrialOptions = {}): Trial {
  const config: TrialConfig = {
    data: { kind: 'moons', samples: 60, noise: 0.2, randomState: 1, shuffle: true, split: { kind: 'first', train: 20 } },
    model: { kind: 'mlp', hidden: o.hidden ?? [32], activation: 'relu' },
    train: {
      epochs: o.epochs ?? 20,
      batchSize: o.batchSize ?? 32,
      optimizer: o.optimizer ?? { kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      shuffle: true,
      minDelta: o.minDelta ?? 0,
      restoreBest: true,
      engine: 'auto',
    },
    l2: o.l2 ?? 0,
    dropout: o.dropout ?? 0,
    augmentation: o.augmentation ?? null,
    patience: o.patience ?? null,
  };
  const seed = o.seed ?? 0;
  const replicate = o.replicate ?? null;
  const cellId = JSON.stringify({ ...config, seed: undefined });
  return { trialId: `${cellId}/${seed}/${replicate}`, cellId, config, seed, replicate };
}

/** Largest |a − b| / |b| over two series of equal length. */
export function maxRelativeError(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  return Math.max(0, ...a.map((v, i) => Math.abs(v - b[i]!) / Math.max(Math.abs(b[i]!), 1e-12)));
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
