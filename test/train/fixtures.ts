import type { Dataset } from '../../runner/data/types.ts';
import type { Augmentation, DropoutValue, ModelSpec, OptimizerSpec, Trial, TrialConfig } from '../../runner/records/config.ts';
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

/** Tiny 6×6 one-channel "images" of three classes: a bright row, column or diagonal, with noise. */
export function stripes(perClass = 10): Dataset {
  let s = 11;
  const r = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < perClass; i++) {
    for (let c = 0; c < 3; c++) {
      const k = Math.floor(r() * 6);
      const img = Array.from({ length: 36 }, () => 0.2 * r());
      for (let j = 0; j < 6; j++) img[c === 0 ? k * 6 + j : c === 1 ? j * 6 + k : j * 6 + j] = 0.8 + 0.2 * r();
      x.push(img);
      y.push(c);
    }
  }
  const cut = Math.floor(x.length * 0.6);
  return {
    featureNames: x[0].map((_, i) => `p${Math.floor(i / 6)}_${i % 6}`),
    classNames: ['row', 'column', 'diagonal'],
    inputShape: [6, 6, 1],
    train: { x: x.slice(0, cut), y: y.slice(0, cut) },
    val: { x: x.slice(cut), y: y.slice(cut) },
  };
}

export interface TrialOptions {
  seed?: number;
  l2?: number;
  dropout?: DropoutValue;
  augmentation?: Augmentation | null;
  patience?: number | null;
  epochs?: number;
  model?: ModelSpec;
  batchSize?: number;
  minDelta?: number;
  restoreBest?: boolean;
  optimizer?: OptimizerSpec;
  replicate?: number | null;
}

export function trial(o: TrialOptions = {}): Trial {
  const config: TrialConfig = {
    data: { kind: 'moons', samples: 60, noise: 0.2, randomState: 1, shuffle: true, split: { kind: 'first', train: 20 } },
    model: o.model ?? { kind: 'mlp', hidden: [32], activation: 'relu' },
    train: {
      epochs: o.epochs ?? 20,
      batchSize: o.batchSize ?? 32,
      optimizer: o.optimizer ?? { kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      shuffle: true,
      minDelta: o.minDelta ?? 0,
      restoreBest: o.restoreBest ?? true,
      engine: 'layers',
    },
    l2: o.l2 ?? 0,
    dropout: o.dropout ?? 0,
    augmentation: o.augmentation ?? null,
    patience: o.patience ?? null,
  };
  const seed = o.seed ?? 0;
  const replicate = o.replicate ?? null;
  const cellId = JSON.stringify(config);
  return { trialId: `${cellId}/${seed}/${replicate}`, cellId, config, seed, replicate };
}
