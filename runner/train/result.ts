import type { EngineName, Trial } from '../records/config.ts';
import type { Dataset, Split } from '../data/types.ts';
import { bootstrapIndices } from '../data/split.ts';
import { fitgridVersion } from '../version.ts';
import { firstLine } from '../errors.ts';
import { RESULT_FORMAT, type FinalMetrics, type History, type Surface, type TrialResult } from '../records/result.ts';
import { accuracy, argmax, crossEntropy } from './metrics.ts';

export interface SurfaceGrid {
  x0: number; x1: number; y0: number; y1: number;
  n: number;
  /** n×n points [x, y], row-major with y outer (row i is y = y0 + i·(y1 − y0)/(n − 1)). */
  points: number[][];
}

/**
 * The fixed grid a decision surface is evaluated on, for 2-D data only: the range of the
 * training and validation points, widened by 0.5 on every side.
 */
export function surfaceGrid(data: Dataset, n = 80): SurfaceGrid | undefined {
  const bounds = surfaceBounds(data);
  if (!bounds) return undefined;
  const { x0, x1, y0, y1 } = bounds;
  const points: number[][] = [];
  for (let i = 0; i < n; i++) {
    const y = y0 + (i * (y1 - y0)) / (n - 1);
    for (let j = 0; j < n; j++) points.push([x0 + (j * (x1 - x0)) / (n - 1), y]);
  }
  return { x0, x1, y0, y1, n, points };
}

/** surfaceGrid's extent without its points. */
function surfaceBounds(data: Dataset): Pick<SurfaceGrid, 'x0' | 'x1' | 'y0' | 'y1'> | undefined {
  if (!isPlanar(data)) return undefined;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const split of [data.train.x, data.val.x]) {
    for (const p of split) {
      x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]);
      y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]);
    }
  }
  if (!Number.isFinite(x0) || !Number.isFinite(y0)) return undefined;
  return { x0: x0 - 0.5, x1: x1 + 0.5, y0: y0 - 0.5, y1: y1 + 0.5 };
}

/** Two features: the data has points and a decision surface to plot. */
function isPlanar(data: Dataset): boolean {
  return data.inputShape.length === 1 && data.inputShape[0] === 2;
}

/**
 * An engine's output rows as toClassProba reads them: per point p(class 1) for two classes, else
 * one probability per class. A surface's 6,400 points passed this way skip an array per point.
 */
export interface OutputRows { out: ArrayLike<number>; classes: number }

/** p(class 1) for two classes, else the index of the most probable class. */
export function surfaceValues(proba: number[][] | OutputRows): number[] {
  if (Array.isArray(proba)) return proba.map((p) => (p.length === 2 ? p[1] : argmax(p)));
  const { out, classes } = proba;
  if (classes === 2) {
    // a plain loop: Array.from would walk the typed array through its iterator, a call per element
    const values = new Array<number>(out.length);
    for (let i = 0; i < out.length; i++) values[i] = out[i];
    return values;
  }
  return Array.from({ length: out.length / classes }, (_, i) => argmax(Array.prototype.slice.call(out, i * classes, (i + 1) * classes) as number[]));
}

/** Cross-entropy (no penalty) and accuracy of both splits, from per-class probabilities. */
export function finalMetrics(probaTrain: number[][], yTrain: number[], probaVal: number[][], yVal: number[]): FinalMetrics {
  return {
    loss: crossEntropy(probaTrain, yTrain),
    acc: accuracy(probaTrain, yTrain),
    val_loss: crossEntropy(probaVal, yVal),
    val_acc: accuracy(probaVal, yVal),
  };
}

/**
 * The training split a trial trains on: the dataset's, or its bootstrap replicate. Never
 * augmented: augmentation is drawn per epoch inside the engines.
 */
export function trainingSet(trial: Trial, data: Dataset): Split {
  if (trial.replicate === null) return data.train;
  const idx = bootstrapIndices(data.train.x.length, trial.replicate);
  return { x: idx.map((i) => data.train.x[i]), y: idx.map((i) => data.train.y[i]) };
}

/** The first 1-based epoch whose training or validation loss is not finite, or 0. */
function divergedEpoch(history: History): number {
  for (let e = 0; e < history.loss.length; e++) {
    if (!Number.isFinite(history.loss[e]) || !Number.isFinite(history.val_loss[e])) return e + 1;
  }
  return 0;
}

export interface ResultInput {
  trial: Trial;
  sweep: string;
  engine: EngineName;
  backend: { name: string; device: string };
  seconds: number;
  data: Dataset;
  /** The training split as trained on (after bootstrap, never augmented). */
  train: Split;
  history: History;
  stoppedEpoch: number;
  bestEpoch: number;
  /** Per-class probabilities at the kept weights; absent for a failed trial. */
  probaTrain?: number[][];
  probaVal?: number[][];
  /** Probabilities on surfaceGrid(data).points, for 2-D data. */
  probaSurface?: number[][] | OutputRows;
  /** A failure message: the result is `failed`. */
  error?: string;
}

const NO_METRICS: FinalMetrics = { loss: NaN, acc: NaN, val_loss: NaN, val_acc: NaN };

/**
 * One trial's stored result. Status: `failed` when an error is given; `diverged` when a loss is
 * not finite (history kept up to the epoch before, the epoch named in `error`); else `ok`.
 * For a failed or diverged trial `final` is NaN (null in JSON), `valProba` empty, no surface:
 * the analysis counts such trials but does not average them.
 */
export function buildResult(input: ResultInput): TrialResult {
  const { trial, data } = input;
  let history = input.history;
  let status: TrialResult['status'] = 'ok';
  let error = input.error;
  let { stoppedEpoch, bestEpoch } = input;
  const bad = error === undefined ? divergedEpoch(history) : 0;
  if (error !== undefined) status = 'failed';
  else if (bad > 0) {
    status = 'diverged';
    const [name, value] = Number.isFinite(history.loss[bad - 1]) ? ['val_loss', history.val_loss[bad - 1]] : ['loss', history.loss[bad - 1]];
    error = `${name} became ${value} at epoch ${bad}`;
    history = truncateHistory(history, bad - 1);
    stoppedEpoch = bad;
    bestEpoch = Math.min(bestEpoch, bad);
  }
  const ok = status === 'ok' && input.probaTrain !== undefined && input.probaVal !== undefined;
  const result: TrialResult = {
    formatVersion: RESULT_FORMAT,
    fitgridVersion,
    trialId: trial.trialId,
    cellId: trial.cellId,
    sweep: input.sweep,
    config: trial.config,
    seed: trial.seed,
    replicate: trial.replicate,
    status,
    ...(error !== undefined ? { error: firstLine(error).slice(0, 500) } : {}),
    engine: input.engine,
    backend: input.backend.name,
    device: input.backend.device,
    seconds: input.seconds,
    finishedAt: new Date().toISOString(),
    history,
    stoppedEpoch,
    bestEpoch,
    final: ok ? finalMetrics(input.probaTrain!, input.train.y, input.probaVal!, data.val.y) : NO_METRICS,
    valProba: ok ? input.probaVal!.map((p) => p.map(round6)) : [],
    valLabels: data.val.y,
  };
  if (isPlanar(data)) {
    result.points = {
      train: input.train.x.map((p, i) => [p[0], p[1], input.train.y[i]]),
      val: data.val.x.map((p, i) => [p[0], p[1], data.val.y[i]]),
    };
    if (ok && input.probaSurface) {
      // the engine evaluated surfaceGrid's points: only its extent is needed here
      const values = surfaceValues(input.probaSurface).map(round6);
      const surface: Surface = { ...surfaceBounds(data)!, n: Math.round(Math.sqrt(values.length)), values };
      result.surface = surface;
    }
  }
  return result;
}

/** A result for a trial that threw before or during training. */
export function failedResult(input: Omit<ResultInput, 'history' | 'stoppedEpoch' | 'bestEpoch' | 'train'> & { train?: Split; error: string }): TrialResult {
  return buildResult({
    ...input,
    train: input.train ?? input.data.train,
    history: { loss: [], val_loss: [], acc: [], val_acc: [] },
    stoppedEpoch: 0,
    bestEpoch: 0,
  });
}

/** The history's first `epochs` epochs: what a run that stopped there (or broke off) recorded. */
export function truncateHistory(h: History, epochs: number): History {
  return { loss: h.loss.slice(0, epochs), val_loss: h.val_loss.slice(0, epochs), acc: h.acc.slice(0, epochs), val_acc: h.val_acc.slice(0, epochs) };
}

/** Powers of ten exact in a double (up to 1e22). */
const POWERS = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * ~6 significant digits: enough for plots and bias-variance, and files a third the size. By
 * arithmetic with an exact power of ten where one fits, which agrees with toPrecision(6) but for
 * near-exact ties (about one number in a million, rounded up): a pack's results round millions
 * of numbers, and the string round trip was a fifth of building them.
 */
export function round6(v: number): number {
  const a = Math.abs(v);
  if (!(a >= 1e-17 && a < 1e6)) return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
  const p = 5 - Math.floor(Math.log10(a));
  const r = p >= 0 ? Math.round(a * POWERS[p]) / POWERS[p] : Math.round(a / POWERS[-p]) * POWERS[-p];
  return v < 0 ? -r : r;
}
