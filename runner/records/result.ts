import type { EngineName, TrialConfig } from './config.ts';

/** Bumped when the meaning of a stored result changes; part of every trialId. */
export const RESULT_FORMAT = 1;

export interface History {
  /** Training loss per epoch as Keras reports it: mean over the epoch's batches, training mode, L2 penalty included. */
  loss: number[];
  /** Validation cross-entropy per epoch, inference mode, no penalty. Early stopping monitors this. */
  val_loss: number[];
  acc: number[];
  val_acc: number[];
}

export interface FinalMetrics {
  /** Cross-entropy on the (possibly bootstrapped, never augmented) training split at the kept weights, inference mode, no penalty. */
  loss: number;
  acc: number;
  val_loss: number;
  val_acc: number;
}

/** p(class 1) (binary) or the predicted class index (multi-class) on an n×n grid, row-major, y outer. */
export interface Surface {
  x0: number; x1: number; y0: number; y1: number;
  n: number;
  values: number[];
}

export type TrialStatus = 'ok' | 'diverged' | 'failed';

export interface TrialResult {
  formatVersion: number;
  fitgridVersion: string;
  trialId: string;
  cellId: string;
  sweep: string;
  config: TrialConfig;
  seed: number;
  replicate: number | null;
  status: TrialStatus;
  /** For diverged/failed: what happened, one line. */
  error?: string;
  engine: EngineName;
  backend: string;
  device: string;
  /** Wall seconds attributable to this trial (a pack's time shared equally among its trials). */
  seconds: number;
  finishedAt: string;
  history: History;
  /** 1-based epoch where training stopped (= epochs without early stopping). */
  stoppedEpoch: number;
  /** 1-based epoch whose weights were kept (the best val_loss with restoreBest, else stoppedEpoch). */
  bestEpoch: number;
  final: FinalMetrics;
  /** Per validation point, the probability of each class (length C ≥ 2). */
  valProba: number[][];
  valLabels: number[];
  /** 2-D data only: the points as trained on ([x, y, label]) and the decision surface. */
  points?: { train: [number, number, number][]; val: [number, number, number][] };
  surface?: Surface;
}
