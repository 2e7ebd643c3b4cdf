import type { EngineChoice, Trial } from '../records/config.ts';
import type { Dataset } from '../data/types.ts';
import type { TrialResult } from '../records/result.ts';

export interface TrainOptions {
  sweep: string;
  /** Overrides the grid's `train.engine`. */
  engine?: EngineChoice;
  /** Called as each trial finishes, so the worker can store it at once (nothing is lost on a kill). */
  onResult?: (result: TrialResult) => Promise<void> | void;
  /** Epoch progress of the pack, for progress bars and logs. */
  onProgress?: (progress: { epoch: number; epochs: number; trialsDone: number; trials: number }) => void;
  signal?: AbortSignal;
}

/**
 * The one training interface every executor calls: trains the trials of a pack (same data,
 * architecture, epochs and batch size) and returns one result per trial, in order. A trial that
 * fails or diverges is a result with that status, never an exception; only infrastructure
 * failures (out of memory, a killed process) throw.
 */
export type TrainPack = (trials: Trial[], data: Dataset, options: TrainOptions) => Promise<TrialResult[]>;
