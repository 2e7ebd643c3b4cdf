import type { Trial } from '../../records/config.ts';
import type { Dataset, Split } from '../../data/types.ts';
import { streamSeed } from '../../data/random/streams.ts';
import { initialWeights, outputUnits, rateAt } from '../init.ts';
import type { Training } from '../replay.ts';
import type { KernelJob } from './kernel.d.mts';

const ACTIVATIONS = { relu: 0, tanh: 1, sigmoid: 2 } as const;
/** kernel.c's row_loss keeps per-class probabilities in a fixed buffer. */
const MAX_CLASSES = 64;

/** The fused engine's `supports`: null when the kernel trains this trial, else why not (train-pack then gives it to layers). */
export function fusedSupports(trial: Trial, data: Dataset): string | null {
  const { model, augmentation } = trial.config;
  if (model.kind !== 'mlp') return 'the fused kernel trains MLPs only';
  if (model.hidden.length > 15) return 'the fused kernel takes at most 15 hidden layers';
  if (data.classNames.length > MAX_CLASSES) return `the fused kernel takes at most ${MAX_CLASSES} classes`;
  const features = data.inputShape.reduce((a, b) => a * b, 1);
  const other = Object.entries(augmentation ?? {}).filter(([k, v]) => !['jitter', 'scale', 'rotation'].includes(k) && v);
  if (other.length) return `the fused kernel draws jitter, scale and rotation only, not ${other.map(([k]) => k).join(', ')}`;
  if (augmentation?.rotation && features !== 2) return 'rotation needs 2-D points';
  if ((augmentation?.rotation || augmentation?.scale) && features > 256) return 'the fused kernel scales and rotates at most 256 features';
  return null;
}

/** One training (a trial, or trials differing only in patience) as the kernel's job. */
export function kernelJob(trial: Trial, training: Training, data: Dataset, train: Split, surface: number[][] | undefined): KernelJob {
  const { model, train: spec, dropout, l2, augmentation } = trial.config;
  if (model.kind !== 'mlp') throw new Error('the fused kernel trains MLPs only');
  const features = data.inputShape.reduce((a, b) => a * b, 1);
  const opt = spec.optimizer;
  // The kernel's own dropout/jitter/shuffle generator, seeded per seed and replicate (never per patience).
  const [seedLo, seedHi] = streamSeed(trial.seed, 'fused-kernel', trial.replicate);
  const rule = training.rules[0];
  const cfg = Int32Array.from([
    features, outputUnits(data.classNames.length), model.hidden.length, ACTIVATIONS[model.activation],
    train.x.length, data.val.x.length, spec.batchSize, spec.epochs, opt.kind === 'adam' ? 0 : 1, spec.shuffle ? 1 : 0,
    training.rules.length, rule.restoreBest ? 1 : 0, seedLo, seedHi, ...model.hidden,
  ]);
  const fcfg = Float64Array.from([
    opt.learningRate, opt.kind === 'adam' ? opt.beta1 : 0, opt.kind === 'adam' ? opt.beta2 : 0,
    opt.kind === 'adam' ? opt.epsilon : 0, opt.kind === 'sgd' ? opt.momentum : 0,
    l2, augmentation?.jitter ?? 0, rule.minDelta, augmentation?.scale ?? 0, augmentation?.rotation ?? 0,
    ...model.hidden.map((_, i) => rateAt(dropout, i)),
  ]);
  const xTrain = flat(train.x, features);
  const xVal = flat(data.val.x, features);
  return {
    cfg, fcfg,
    patience: Int32Array.from(training.rules.map((r) => r.patience ?? -1)),
    xTrain, yTrain: Int32Array.from(train.y), xVal, yVal: Int32Array.from(data.val.y),
    weights: concat(initialWeights(trial, data)),
    predict: { train: xTrain, val: xVal, surface: surface ? flat(surface, features) : null },
  };
}

function flat(rows: number[][], width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(r, i * width));
  return out;
}

export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
