import type { EngineChoice, EngineName, Trial } from '../records/config.ts';
import type { Dataset } from '../data/types.ts';
import type { TrialResult } from '../records/result.ts';
import type { PackProgress } from '../records/events.ts';

export interface TrainOptions {
  sweep: string;
  /** Overrides the grid's `train.engine`. */
  engine?: EngineChoice;
  /** Called as each trial finishes, so the worker can store it at once (nothing is lost on a kill). */
  onResult?: (result: TrialResult) => Promise<void> | void;
  /** Epoch progress of the pack, for progress bars and logs. */
  onProgress?: (progress: PackProgress) => void;
  signal?: AbortSignal;
}

/**
 * The one training interface every executor calls: trains the trials of a pack (same data,
 * architecture, epochs and batch size) and returns one result per trial, in order. A trial that
 * fails or diverges is a result with that status, never an exception; only infrastructure
 * failures (out of memory, a killed process) throw.
 */
export type TrainPack = (trials: Trial[], data: Dataset, options: TrainOptions) => Promise<TrialResult[]>;

/**
 * An engine: what it trains and how. `supports` answers before any training, without loading
 * tfjs: null when the engine trains the trial on this data, else why not, in words a user reads.
 * train-pack gives an engine only the trials it supports and the rest to layers, which trains
 * everything.
 */
export interface Engine {
  name: EngineName;
  supports(trial: Trial, data: Dataset): string | null;
  trainPack: TrainPack;
}

/** For an engine's own trainPack: refuses a pack holding a trial the engine does not support, before training any. */
export function requireSupport(engine: Pick<Engine, 'supports'>, trials: readonly Trial[], data: Dataset): void {
  for (const trial of trials) {
    const why = engine.supports(trial, data);
    if (why !== null) throw new Error(why);
  }
}
