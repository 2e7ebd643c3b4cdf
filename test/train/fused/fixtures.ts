import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import type { Augmentation, DropoutValue, OptimizerSpec, Trial } from '../../../runner/records/config.ts';
import type { Dataset } from '../../../runner/data/types.ts';
import type { TrialResult } from '../../../runner/records/result.ts';
import { makeMoons } from '../../../runner/data/synthetic.ts';
import { trainPackFused } from '../../../runner/train/fused/index.ts';
import { trainTrialLayers } from '../../../runner/train/layers/train.ts';

/** A fresh random seed per check (printed by the tests that use it, so a failure can be replayed). */
export const freshSeed = () => randomInt(1, 2 ** 31 - 1);

/** Noisy moons from a fresh random state: `train` rows train, the rest validate. */
export function moonsData(samples: number, train: number, randomState = freshSeed()): Dataset {
  const { X, y } = makeMoons({ samples, noise: 0.25, randomState });
  return {
    featureNames: ['x0', 'x1'], classNames: ['0', '1'], inputShape: [2],
    train: { x: X.slice(0, train), y: y.slice(0, train) },
    val: { x: X.slice(train), y: y.slice(train) },
  };
}

/** `classes` Gaussian blobs in `features` dimensions at random centres (never zeros). */
export function blobsData(classes: number, features: number, perClass: number, trainFraction = 0.4, seed = freshSeed()): Dataset {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const centres = Array.from({ length: classes }, () => Array.from({ length: features }, () => 3 * gauss()));
  const rows: { x: number[]; y: number }[] = [];
  for (let i = 0; i < perClass; i++) for (let c = 0; c < classes; c++) rows.push({ x: centres[c].map((m) => m + 1.2 * gauss()), y: c });
  const cut = Math.round(rows.length * trainFraction);
  return {
    featureNames: Array.from({ length: features }, (_, i) => `x${i}`), classNames: Array.from({ length: classes }, (_, c) => `c${c}`),
    inputShape: [features],
    train: { x: rows.slice(0, cut).map((r) => r.x), y: rows.slice(0, cut).map((r) => r.y) },
    val: { x: rows.slice(cut).map((r) => r.x), y: rows.slice(cut).map((r) => r.y) },
  };
}

export interface TrialOverrides {
  hidden?: number[];
  activation?: 'relu' | 'tanh' | 'sigmoid';
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  optimizer?: OptimizerSpec;
  l2?: number;
  dropout?: DropoutValue;
  augmentation?: Augmentation | null;
  patience?: number | null;
  minDelta?: number;
  restoreBest?: boolean;
  seed?: number;
  replicate?: number | null;
}

let counter = 0;
/** A trial as grid expansion would make it (ids are labels here, not hashes). */
export function makeTrial(o: TrialOverrides = {}): Trial {
  const config: Trial['config'] = {
    data: { kind: 'moons', samples: 100, noise: 0.25, randomState: 1, shuffle: true, split: { kind: 'first', train: 30 } },
    model: { kind: 'mlp', hidden: o.hidden ?? [16], activation: o.activation ?? 'relu' },
    train: {
      epochs: o.epochs ?? 50, batchSize: o.batchSize ?? 32,
      optimizer: o.optimizer ?? { kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      shuffle: o.shuffle ?? true, minDelta: o.minDelta ?? 0, restoreBest: o.restoreBest ?? true, engine: 'fused',
    },
    l2: o.l2 ?? 0, dropout: o.dropout ?? 0, augmentation: o.augmentation ?? null, patience: o.patience ?? null,
  };
  const n = counter++;
  return { trialId: `trial-${n}`, cellId: `cell-${n}`, config, seed: o.seed ?? 0, replicate: o.replicate ?? null };
}

/** max |a − b| / max(|b|, floor) over two series of equal length. */
export function maxRelDiff(a: readonly number[], b: readonly number[], floor = 1e-3): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return worst;
}

export const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: readonly number[]) => {
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
};

export const adam = (learningRate: number) => ({ kind: 'adam' as const, learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });

/** Two engines' runs of one trial: both ok, same length, losses within `tolerance` relative. */
export function expectAgreement(fused: TrialResult, layers: TrialResult, tolerance: number) {
  expect(fused.status).toBe('ok');
  expect(layers.status).toBe('ok');
  expect(fused.history.loss.length).toBe(layers.history.loss.length);
  expect(maxRelDiff(fused.history.loss, layers.history.loss)).toBeLessThanOrEqual(tolerance);
  expect(maxRelDiff(fused.history.val_loss, layers.history.val_loss)).toBeLessThanOrEqual(tolerance);
  expect(maxRelDiff([fused.final.loss, fused.final.val_loss], [layers.final.loss, layers.final.val_loss])).toBeLessThanOrEqual(tolerance);
}

/** Trains one trial in the fused kernel and in the layers engine from the same initial weights, and holds them to 1e-5 relative. */
export async function fusedAgainstLayers(trial: Trial, data: Dataset, sweep: string): Promise<{ fused: TrialResult; layers: TrialResult }> {
  const [fused] = await trainPackFused([trial], data, { sweep });
  const layers = await trainTrialLayers(trial, data);
  expect(fused.engine).toBe('fused');
  expectAgreement(fused, layers, 1e-5);
  return { fused: fused, layers };
}

/**
 * Trains the trials (seeds of one config with dropout or augmentation) in both engines and holds
 * the final losses to the same distribution; returns the fused results.
 */
export async function expectSameDistribution(sweep: string, trials: Trial[], data: Dataset): Promise<TrialResult[]> {
  const fused = await trainPackFused(trials, data, { sweep });
  const layers: TrialResult[] = [];
  for (const t of trials) layers.push(await trainTrialLayers(t, data));
  for (const key of ['loss', 'val_loss'] as const) {
    const f = fused.map((r) => r.history[key].at(-1)!);
    const l = layers.map((r) => r.history[key].at(-1)!);
    // the seeds' spread: both samples' standard deviations together (identical distributions
    // put the means this far apart about once in 10^5 runs; a real mismatch of 2σ fails)
    expect(Math.min(std(f), std(l))).toBeGreaterThan(0);
    expect(Math.abs(mean(f) - mean(l))).toBeLessThan(std(f) + std(l));
  }
  return fused;
}
