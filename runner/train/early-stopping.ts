export interface StopRule {
  /** Epochs without an improvement larger than `minDelta` before stopping; null = never stop early. */
  patience: number | null;
  minDelta: number;
  /** Keep the weights of the best epoch (Keras' restore_best_weights). */
  restoreBest: boolean;
}

export interface StopPoint {
  /** 1-based epoch after which training stops (the series' length when it never stops early). */
  stoppedEpoch: number;
  /** 1-based epoch whose weights are kept: the best one with restoreBest and a patience, else stoppedEpoch. */
  bestEpoch: number;
}

/**
 * Keras' EarlyStopping(monitor='val_loss', mode='min') replayed over a finished series.
 * An epoch improves when `value < best - minDelta`; after `patience` epochs in a row without
 * improvement training stops. A NaN never improves. With restoreBest the kept weights are those
 * of the best epoch, also when the budget ends before the patience runs out, so a replayed
 * patience value and a live run with the same rule keep the same weights.
 */
export function earlyStop(valLoss: readonly number[], rule: StopRule): StopPoint {
  const epochs = valLoss.length;
  if (rule.patience === null) return { stoppedEpoch: epochs, bestEpoch: epochs };
  const watcher = createStopWatcher(rule);
  for (let e = 0; e < epochs; e++) {
    if (watcher.observe(valLoss[e]) === 'stop') break;
  }
  return watcher.point(epochs);
}

export type Observation = 'improved' | 'waiting' | 'stop';

/** The same rule, one epoch at a time, for engines that stop live. */
export function createStopWatcher(rule: StopRule) {
  let best = Infinity;
  let bestEpoch = 0;
  let wait = 0;
  let seen = 0;
  let stopped = 0;
  return {
    observe(value: number): Observation {
      seen++;
      if (value < best - rule.minDelta) {
        best = value;
        bestEpoch = seen;
        wait = 0;
        return 'improved';
      }
      wait++;
      if (rule.patience !== null && wait >= rule.patience) {
        stopped = seen;
        return 'stop';
      }
      return 'waiting';
    },
    point(epochs: number): StopPoint {
      const stoppedEpoch = stopped || Math.min(seen, epochs);
      const keepBest = rule.restoreBest && rule.patience !== null && bestEpoch > 0;
      return { stoppedEpoch, bestEpoch: keepBest ? bestEpoch : stoppedEpoch };
    },
  };
}
