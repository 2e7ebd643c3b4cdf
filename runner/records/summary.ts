/**
 * summary.json: everything the report site shows, and the only thing it reads.
 * Produced by runner/analysis/summary.ts from a store; consumed by site/.
 */
import type { EncodedArray } from './typed-array.ts';

/**
 * A long numeric array: written as an EncodedArray (see runner/records/typed-array.ts), read as
 * either that or plain numbers (`toNumbers`).
 */
export type Numbers = number[] | EncodedArray;

export interface Stat {
  n: number;
  mean: number;
  sd: number;
  /** 95% Student-t confidence interval of the mean over seeds; [mean, mean] when n = 1. */
  ci: [number, number];
}

export type Verdict = 'good fit' | 'overfit' | 'underfit' | 'unstable' | 'failed';

export interface BiasVariance {
  loss: number;
  bias: number;
  variance: number;
  netVariance?: number;
  /** Not written by this fitgrid (the per-point values would grow summary.json by the validation set per cell). */
  perPoint?: { loss: number[]; bias: number[]; variance: number[] };
}

export interface CurveSeries {
  /** 1-based epochs of the downsampled points (at most 500 per curve). */
  epoch: number[];
  loss: number[];
  val_loss: number[];
  acc: number[];
  val_acc: number[];
}

export interface TrialSummary {
  trialId: string;
  seed: number;
  replicate: number | null;
  status: 'ok' | 'diverged' | 'failed';
  error?: string;
  engine: string;
  backend: string;
  device: string;
  seconds: number;
  bestEpoch: number;
  stoppedEpoch: number;
  final: { loss: number; acc: number; val_loss: number; val_acc: number };
  /** Best (minimum) val_loss over the run and the val_acc at that epoch. */
  best: { val_loss: number; val_acc: number };
  /**
   * Downsampled curves, for finished trials only, and in a large sweep only for the first few
   * finished trials of each cell (see the summary's TRIAL_CURVE_BUDGET); the store keeps every history.
   */
  curves?: CurveSeries;
}

/** The value of each remedy axis for a cell, in display form (e.g. l2 "0.001", augmentation "jitter 0.05"). */
export interface CellAxes {
  l2: number;
  dropout: number | number[];
  augmentation: string;
  patience: number | null;
}

export interface CellSummary {
  cellId: string;
  /** Short human label, e.g. "l2 0.001 · dropout 0.5 · none · patience 200". */
  label: string;
  axes: CellAxes;
  trials: TrialSummary[];
  counts: { ok: number; diverged: number; failed: number; missing: number };
  stats: {
    loss: Stat; acc: Stat; val_loss: Stat; val_acc: Stat;
    best_val_loss: Stat; best_val_acc: Stat;
    /** val_loss − loss */
    gap_loss: Stat;
    /** acc − val_acc */
    gap_acc: Stat;
    bestEpoch: Stat;
    stoppedEpoch: Stat;
    seconds: Stat;
  };
  /** Mean curves over the cell's ok trials, on the same downsampled epochs. */
  meanCurves?: CurveSeries;
  /** Difference to the no-remedy cell (val_loss, val_acc, gap), with CI from seed-paired differences. */
  effect?: Record<string, Stat>;
  biasVariance?: { zeroOne?: BiasVariance; mse?: BiasVariance; dataVariance?: number; seedVariance?: number };
  verdict?: { label: Verdict; reason: string };
  /** 2-D data: the mean decision surface over the cell's trials and the points of one trial. */
  surface?: { x0: number; x1: number; y0: number; y1: number; n: number; values: Numbers; variance?: Numbers };
  /** 2-D data, when they differ from the summary's (bootstrap): the points of one of the cell's trials. */
  points?: { train: [number, number, number][]; val: [number, number, number][] };
  /** Validation confusion counts summed over the cell's ok trials: rows = true class, columns = predicted. */
  confusion?: number[][];
  /** Images: the validation images the cell gets most confidently wrong (gallery.ts), pixels in ImagesSummary.gallery. */
  mistakes?: Mistake[];
}

/** One validation image a cell gets wrong: its index, true and predicted class, mean probability of the prediction. */
export interface Mistake { index: number; label: number; predicted: number; confidence: number }

/** Image data: sample training images and their augmented versions (pixels row-major in [0, 1]). */
export interface ImagesSummary {
  width: number;
  height: number;
  channels: number;
  samples?: { label: number; pixels: number[] }[];
  /** Per augmentation label: augmented versions of `samples`, same order. */
  augmented?: Record<string, number[][]>;
  /** Validation images of the cells' galleries: index → base64 of their bytes (0–255, row-major h × w × c). */
  gallery?: Record<string, string>;
}

export interface SweepSummary {
  formatVersion: number;
  fitgridVersion: string;
  generatedAt: string;
  sweep: string;
  description: string;
  gridSource: string;
  data: { kind: string; description: string; features: number; classes: string[]; train: number; val: number; inputShape: number[] };
  model: { kind: string; description: string };
  train: { epochs: number; batchSize: number; optimizer: string };
  axes: { l2: number[]; dropout: (number | number[])[]; augmentation: string[]; patience: (number | null)[] };
  counts: { trials: number; cells: number; ok: number; diverged: number; failed: number; missing: number };
  backends: string[];
  engines: string[];
  /** Sum of trial seconds, and the wall time from the first to the last finished trial. */
  trainSeconds: number;
  wallSeconds: number;
  /** The cell with no remedy, when the grid has one. */
  baselineCellId?: string;
  /** The remedy that helped most against the baseline (by val_loss), in words and numbers. */
  bestRemedy?: { cellId: string; label: string; text: string };
  cells: CellSummary[];
  /** 2-D data: the training and validation points, for the cells that carry none of their own. */
  points?: { train: [number, number, number][]; val: [number, number, number][] };
  /** Per remedy axis, each value's paired effect and the share of variation it explains, for validation loss and the gap. */
  axisEffects?: { val_loss: AxisAnalysis; gap_loss: AxisAnalysis };
  thresholds?: { bias: number; variance: number; unstable: number };
  images?: ImagesSummary;
  /** Stored results that could not be read (counted as missing): how many, and the first few with the reason. */
  unreadable?: { count: number; examples: { key: string; reason: string }[] };
}

export const AXES = ['l2', 'dropout', 'augmentation', 'patience'] as const;
export type AxisName = (typeof AXES)[number];

/** One cell as the axis analysis sees it: its remedy values and one metric (its mean over seeds). */
export interface AxisValueEffect {
  /** The axis value as JSON (`0.001`, `[0.5,0.25]`, `"jitter 0.05"`, `null`). */
  value: string;
  /**
   * The metric at this value minus at the axis' first value, over pairs of cells equal in every
   * other axis: the mean difference and its 95% Student-t interval over those pairs.
   */
  effect: Stat;
  /** The metric's mean over every cell with this value (a marginal mean). */
  mean: number;
  cells: number;
}

export interface AxisImportance {
  axis: AxisName;
  /**
   * The share of the variance of the cells' metric that this axis' marginal means explain
   * (a main effect, as functional ANOVA defines it on a full grid).
   */
  share: number;
  values: AxisValueEffect[];
}

export interface AxisAnalysis {
  /** Axes with more than one value, the most important first. */
  axes: AxisImportance[];
  /** 1 − the main effects' shares: what only combinations of axes explain (on a full grid). */
  interactions: number;
  cells: number;
}
