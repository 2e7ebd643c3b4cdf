/**
 * Stored results without training, for benchmarks and tests of everything after training. A
 * trial's result is drawn from a model of what its remedies do rather than from a network:
 *
 * - Every dataset gets two kernel classifiers over its training points, a smooth one (what a
 *   well-regularised network learns) and a sharp one (what an overfit network memorises).
 * - A trial's remedies give it a regularisation strength; the weaker it is, the more of the sharp
 *   classifier the kept model mixes in, the more confident it is and the more its seeds disagree.
 *   Past a strength of one, the model underfits (confidence falls).
 * - Learning curves decay towards their floors; weakly regularised trials see validation loss
 *   turn up after its minimum, dropout makes the training curve noisy, and early stopping is the
 *   real rule (earlyStop) replayed over the curve. The curves are then scaled so that, at the
 *   kept epoch, they agree with the final metrics of the predictions.
 * - Results are assembled by the engines' own buildResult: same fields, rounding and statuses.
 *
 * Everything is drawn from the trial's seeded stream: the same trial gives the same result.
 */
import type { Grid, Trial } from '../records/config.ts';
import { expandGrid } from '../grid/expand.ts';
import type { Dataset } from '../data/types.ts';
import { bootstrapIndices } from '../data/split.ts';
import { streamFor, type Stream } from '../data/random/streams.ts';
import { earlyStop } from '../train/early-stopping.ts';
import { stopRule } from '../train/replay.ts';
import { replayKey } from '../grid/plan.ts';
import { buildResult, failedResult, finalMetrics, surfaceGrid, trainingSet } from '../train/result.ts';
import type { EngineName } from '../records/config.ts';
import type { History, TrialResult } from '../records/result.ts';

/** Shares of trials that come out failed and diverged. */
export interface SyntheticRates {
  failed: number;
  diverged: number;
}

const defaultRates: SyntheticRates = { failed: 0.01, diverged: 0.005 };

/** What every trial on one dataset shares: both classifiers evaluated on every point once. */
export interface SyntheticData {
  data: Dataset;
  classes: number;
  train: Fields;
  val: Fields;
  surface?: Fields;
}

/** Class probabilities of the smooth and the sharp classifier, points × classes, row-major. */
interface Fields {
  points: number[][];
  smooth: Float64Array;
  sharp: Float64Array;
}

/** Most training points the classifiers are built from: enough for a shape, cheap on images. */
const maxReference = 400;

export function syntheticData(data: Dataset): SyntheticData {
  const classes = Math.max(2, data.classNames.length);
  const step = Math.max(1, Math.ceil(data.train.x.length / maxReference));
  const ref = data.train.x.filter((_, i) => i % step === 0);
  const refY = data.train.y.filter((_, i) => i % step === 0);
  const scale = featureScale(data.train.x);
  const fields = (points: number[][]): Fields => ({
    points,
    smooth: kernelClassifier(points, ref, refY, classes, 0.35 * scale),
    sharp: kernelClassifier(points, ref, refY, classes, 0.05 * scale),
  });
  const grid = surfaceGrid(data);
  return { data, classes, train: fields(data.train.x), val: fields(data.val.x), ...(grid ? { surface: fields(grid.points) } : {}) };
}

/** The root mean square distance of a point from the mean: the data's own length scale. */
function featureScale(x: number[][]): number {
  const d = x[0]?.length ?? 1;
  let total = 0;
  for (let j = 0; j < d; j++) {
    let m = 0, s = 0;
    for (const p of x) m += p[j];
    m /= x.length || 1;
    for (const p of x) s += (p[j] - m) ** 2;
    total += s / (x.length || 1);
  }
  return Math.sqrt(total) || 1;
}

/** Nadaraya–Watson class probabilities with a Gaussian kernel of width h; the prior where no point is near. */
function kernelClassifier(points: number[][], ref: number[][], refY: number[], classes: number, h: number): Float64Array {
  const out = new Float64Array(points.length * classes);
  const inv = 1 / (2 * h * h);
  const weights = new Float64Array(ref.length);
  points.forEach((p, i) => {
    // log-sum-exp shift: far from every reference point the weights would all underflow
    let minD = Infinity;
    for (let j = 0; j < ref.length; j++) {
      const r = ref[j];
      let d = 0;
      for (let k = 0; k < p.length; k++) d += (p[k] - r[k]) ** 2;
      weights[j] = d;
      if (d < minD) minD = d;
    }
    let total = 0;
    for (let j = 0; j < ref.length; j++) {
      const w = Math.exp(-(weights[j] - minD) * inv);
      total += w;
      out[i * classes + refY[j]] += w;
    }
    for (let c = 0; c < classes; c++) out[i * classes + c] = (out[i * classes + c] + 1e-3 / classes) / (total + 1e-3);
  });
  return out;
}

/**
 * How strongly a trial's remedies regularise: about 0 for none, 1 for a well-regularised model,
 * above 1 for too much. Weights are a model of typical effects, not measurements.
 */
function regularisation(trial: Trial): number {
  const { l2, dropout, augmentation } = trial.config;
  const rL2 = l2 > 0 ? Math.min(1.5, Math.max(0, (Math.log10(l2) + 5) / 4)) : 0;
  const rates = Array.isArray(dropout) ? dropout : [dropout];
  const rDropout = rates.reduce((a, b) => a + b, 0) / (rates.length || 1) / 0.6;
  let rAugment = 0;
  if (augmentation) {
    const { jitter = 0, scale = 0, rotation = 0, shift = 0, zoom = 0, shear = 0 } = augmentation;
    rAugment = Math.min(1.2, jitter / 0.15 + scale / 0.3 + rotation / 30 + shift / 0.2 + zoom / 0.2 + shear / 20);
  }
  return rL2 + 0.5 * rDropout + 0.5 * rAugment;
}

export interface SyntheticTrialOptions {
  sweep: string;
  rates?: SyntheticRates;
}

/** One trial's synthetic result on its dataset's precomputed classifiers. */
export function syntheticResult(trial: Trial, synth: SyntheticData, options: SyntheticTrialOptions): TrialResult {
  // trials that differ only in patience share one training, as the engines replay them
  const rng = streamFor(trial.seed, 'synthetic', replayKey(trial));
  const own = streamFor(trial.seed, 'synthetic-fate', trial.trialId);
  const rates = options.rates ?? defaultRates;
  const { data, classes } = synth;
  const epochs = trial.config.train.epochs;
  const common = {
    trial, sweep: options.sweep, engine: engineOf(trial), data,
    backend: { name: 'synthetic', device: 'none (synthetic result, not trained)' },
    seconds: round3(epochs * 2e-4 * (0.8 + 0.4 * own.uniform())),
  };
  const fate = own.uniform();
  if (fate < rates.failed) return failedResult({ ...common, error: 'synthetic failure: the trial was made to fail (fitgrid synth)' });

  const strength = regularisation(trial);
  const overfit = Math.max(0, 1 - strength);
  const underfit = Math.max(0, strength - 1);
  const tau = epochs * (0.04 + 0.05 * Math.min(1, strength));
  const turn = Math.min(epochs, 3 * tau);
  const chance = Math.log(classes);
  const dropout = Array.isArray(trial.config.dropout) ? Math.max(0, ...trial.config.dropout) : trial.config.dropout;

  // shapes first: where the kept epoch falls decides how overfit the kept model is
  const shape: History = { loss: [], val_loss: [], acc: [], val_acc: [] };
  const rise = overfit * overfit * (0.3 + 0.3 * rng.uniform());
  for (let e = 1; e <= epochs; e++) {
    const decay = Math.exp(-e / tau);
    const late = Math.max(0, e - turn) / Math.max(1, epochs - turn);
    shape.val_loss.push((0.3 + (chance - 0.3) * decay + rise * late) * (1 + 0.01 * rng.gaussian()));
    shape.loss.push((0.3 + (chance - 0.3) * Math.exp(-e / (0.9 * tau)) - 0.2 * overfit * late) * (1 + (0.01 + 0.06 * dropout) * rng.gaussian()));
    shape.acc.push(1 - (1 - 1 / classes) * decay + 0.01 * rng.gaussian());
    shape.val_acc.push(1 - (1 - 1 / classes) * decay - 0.3 * rise * late + 0.01 * rng.gaussian());
  }
  const { stoppedEpoch, bestEpoch } = earlyStop(shape.val_loss, stopRule(trial));
  const kept = Math.max(0, bestEpoch - turn) / Math.max(1, epochs - turn);
  const sharpness = overfit * (0.3 + 0.7 * kept);
  const confidence = ((3 + 5 * sharpness) / (1 + 2 * underfit)) * Math.min(1, bestEpoch / (2 * tau)) * (0.9 + 0.2 * rng.uniform());
  const wobble = seedWobble(rng, synth.train.points[0]?.length ?? 1, classes, 0.2 + 1.5 * overfit);

  const proba = (f: Fields, rows?: number[]) => predict(f, rows, classes, sharpness, confidence, wobble);
  const rows = trial.replicate === null ? undefined : bootstrapIndices(data.train.x.length, trial.replicate);
  const train = trainingSet(trial, data);
  const probaTrain = asRows(proba(synth.train, rows), classes);
  const probaVal = asRows(proba(synth.val), classes);
  const final = finalMetrics(probaTrain, train.y, probaVal, data.val.y);
  // the training curve is Keras' loss, L2 penalty included: c·Σw² with Σw² of the order of a small net's
  const penalty = trial.config.l2 * 30;
  const history = fitShape(shape, bestEpoch, stoppedEpoch, { loss: final.loss + penalty, val_loss: final.val_loss, acc: final.acc, val_acc: final.val_acc });

  if (fate < rates.failed + rates.diverged) {
    // a loss that blows up: buildResult keeps the history before it and names the epoch
    const at = Math.floor(own.uniform() * history.loss.length);
    history.loss[at] = Number.NaN;
  }
  let probaSurface: { out: Float64Array; classes: number } | undefined;
  if (synth.surface) {
    const p = proba(synth.surface);
    // surfaceValues reads p(class 1) per point for two classes, every class's probability otherwise
    probaSurface = { out: classes === 2 ? p.filter((_, i) => i % 2 === 1) : p, classes };
  }
  return buildResult({ ...common, train, history, stoppedEpoch, bestEpoch, probaTrain, probaVal, probaSurface });
}

function engineOf(trial: Trial): EngineName {
  const chosen = trial.config.train.engine;
  if (chosen !== 'auto') return chosen;
  return trial.config.model.kind === 'mlp' ? 'fused' : 'layers';
}

/** A seed's own smooth distortion: one random plane wave per class, in the data's units. */
interface Wobble { directions: number[][]; phases: number[]; amplitude: number }

function seedWobble(rng: Stream, features: number, classes: number, amplitude: number): Wobble {
  const directions = Array.from({ length: classes }, () => Array.from({ length: features }, () => (2.5 * rng.gaussian()) / Math.sqrt(features)));
  return { directions, phases: Array.from({ length: classes }, () => 2 * Math.PI * rng.uniform()), amplitude };
}

/** Class probabilities of each point (or of `rows` of them), points × classes, row-major. */
function predict(f: Fields, rows: number[] | undefined, classes: number, sharpness: number, confidence: number, wobble: Wobble): Float64Array {
  const n = rows ? rows.length : f.points.length;
  const out = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : i;
    const point = f.points[r];
    const at = i * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      const dir = wobble.directions[c];
      let dot = wobble.phases[c];
      for (let k = 0; k < point.length; k++) dot += dir[k] * point[k];
      const mix = (1 - sharpness) * f.smooth[r * classes + c] + sharpness * f.sharp[r * classes + c];
      const logit = confidence * mix + wobble.amplitude * Math.sin(dot);
      out[at + c] = logit;
      if (logit > max) max = logit;
    }
    let total = 0;
    for (let c = 0; c < classes; c++) total += out[at + c] = Math.exp(out[at + c] - max);
    for (let c = 0; c < classes; c++) out[at + c] /= total;
  }
  return out;
}

/** Flat rows as one array per row, as the metrics and the stored result take them. */
function asRows(flat: Float64Array, classes: number): number[][] {
  const rows: number[][] = new Array(flat.length / classes);
  for (let i = 0; i < rows.length; i++) {
    const row = new Array<number>(classes);
    for (let c = 0; c < classes; c++) row[c] = flat[i * classes + c];
    rows[i] = row;
  }
  return rows;
}

/** Scales each shape so that it passes through the final metrics at the kept epoch, then cuts it at the stop. */
function fitShape(shape: History, bestEpoch: number, stoppedEpoch: number, at: Record<keyof History, number>): History {
  const b = Math.max(0, bestEpoch - 1);
  const scaled = (xs: number[], target: number) => {
    const k = target / (xs[b] || 1);
    return xs.slice(0, stoppedEpoch).map((x) => Math.max(1e-4, x * k));
  };
  const shifted = (xs: number[], target: number) => xs.slice(0, stoppedEpoch).map((x) => Math.min(1, Math.max(0, x + target - xs[b])));
  return {
    loss: scaled(shape.loss, at.loss),
    val_loss: scaled(shape.val_loss, at.val_loss),
    acc: shifted(shape.acc, at.acc),
    val_acc: shifted(shape.val_acc, at.val_acc),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The trials to synthesise: the grid's own, or with `seeds` seeds (0, 1, …), or about `trials`
 * of them: whole seeds over every cell, the last seed cut short (trials ordered seed by seed).
 */
export function syntheticTrials(grid: Grid, options: { seeds?: number; trials?: number } = {}): { grid: Grid; trials: Trial[] } {
  let seeds = grid.seeds;
  if (options.seeds !== undefined) seeds = range(options.seeds);
  else if (options.trials !== undefined) {
    const perSeed = expandGrid({ ...grid, seeds: [0] }).length;
    seeds = range(Math.max(1, Math.ceil(options.trials / Math.max(1, perSeed))));
  }
  const scaled = { ...grid, seeds };
  let trials = expandGrid(scaled);
  if (options.trials !== undefined) {
    const rank = new Map(seeds.map((s, i) => [s, i]));
    trials = trials.map((t, i) => ({ t, i })).sort((a, b) => rank.get(a.t.seed)! - rank.get(b.t.seed)! || a.i - b.i).map(({ t }) => t).slice(0, options.trials);
  }
  return { grid: scaled, trials };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
