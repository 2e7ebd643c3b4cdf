import type { Trial } from '../records/config.ts';
import { replayKey } from '../grid/plan.ts';
import type { History } from '../records/result.ts';
import { createStopWatcher, earlyStop, type StopPoint, type StopRule } from './early-stopping.ts';

/**
 * The free patience axis. Early stopping only truncates a run: a run that stops at epoch s has
 * the same history as the full run up to s (Keras stops updating once it stops), so trials that
 * differ only in patience train once, to the budget, without stopping, and each patience value's
 * result is replayed from that one run: its stop and best epochs from the full val_loss curve,
 * its history truncated at the stop, its weights those snapshotted at its best epoch.
 *
 * Pure functions over histories plus a snapshot plan, so any engine can use them: the engine
 * trains one "training" per group and calls `tracker.observe(valLoss)` each epoch; the slots it
 * returns are the rules whose best weights are this epoch's, to be snapshotted.
 */

export const stopRule = (trial: Trial): StopRule => ({
  patience: trial.config.patience,
  minDelta: trial.config.train.minDelta,
  restoreBest: trial.config.train.restoreBest,
});

/** Identity of a trial apart from its patience: trials with equal keys share one training (the planner's own key, so packs and trainings agree). */
const trainingKey = (trial: Trial): string => replayKey(trial);

export interface Training {
  /** Indices into the pack's trials that this one training serves, in pack order. */
  members: number[];
  /** The distinct stop rules among its members; `slotOf[j]` is member j's index in it. */
  rules: StopRule[];
  slotOf: number[];
}

/** Groups a pack's trials into trainings (first appearance order). */
export function planTrainings(trials: readonly Trial[]): Training[] {
  const byKey = new Map<string, Training>();
  trials.forEach((trial, index) => {
    const key = trainingKey(trial);
    let training = byKey.get(key);
    if (!training) byKey.set(key, (training = { members: [], rules: [], slotOf: [] }));
    const rule = stopRule(trial);
    let slot = training.rules.findIndex((r) => sameRule(r, rule));
    if (slot < 0) slot = training.rules.push(rule) - 1;
    training.members.push(index);
    training.slotOf.push(slot);
  });
  return [...byKey.values()];
}

/** One training per trial, for engines that stop live (and to check replay against). */
export function liveTrainings(trials: readonly Trial[]): Training[] {
  return trials.map((trial, index) => ({ members: [index], rules: [stopRule(trial)], slotOf: [0] }));
}

const sameRule = (a: StopRule, b: StopRule) => a.patience === b.patience && a.minDelta === b.minDelta && a.restoreBest === b.restoreBest;

export interface SnapshotTracker {
  /** Feed one epoch's val_loss; returns the slots whose kept weights become this epoch's (a null patience keeps the last weights: no slot). */
  observe(valLoss: number): number[];
  /** True once no rule can use more epochs: every rule has stopped (never true with a null patience). */
  readonly done: boolean;
  /** Epochs observed so far. */
  readonly epochs: number;
}

/**
 * Watches one training's val_loss for all of its rules at once, exactly as each would live.
 * Only epochs that are some rule's new best need a snapshot (or its stop, for a rule that does
 * not restore the best weights); a rule that has stopped no longer moves, because in a live run
 * it would no longer be training.
 */
export function createSnapshotTracker(rules: readonly StopRule[]): SnapshotTracker {
  const watchers = rules.map((rule) => createStopWatcher(rule));
  const stopped = rules.map(() => false);
  let epochs = 0;
  return {
    observe(valLoss: number) {
      epochs++;
      const slots: number[] = [];
      watchers.forEach((watcher, slot) => {
        if (stopped[slot]) return;
        const rule = rules[slot];
        const seen = watcher.observe(valLoss);
        if (seen === 'stop') stopped[slot] = true;
        if (rule.patience === null) return;
        if (rule.restoreBest ? seen === 'improved' : seen === 'stop') slots.push(slot);
      });
      return slots;
    },
    get done() {
      return stopped.every(Boolean);
    },
    get epochs() {
      return epochs;
    },
  };
}

/** Where each rule stops and which epoch it keeps, from the full curve (identical to a live run). */
export const replayPoints = (valLoss: readonly number[], rules: readonly StopRule[]): StopPoint[] =>
  rules.map((rule) => earlyStop(valLoss, rule));

/**
 * What a member's stop rule makes of a training that broke off after `observed` epochs (its rules
 * all stopped, or a loss went non-finite): where it stops, which epoch it keeps.
 */
export function replayMember(history: History, observed: number, rule: StopRule) {
  // Exactly as a live watcher: it sees each epoch until it stops, never a non-finite epoch's
  // loss (training breaks first), and a live run records up to its stop or to the break.
  const watcher = createStopWatcher(rule);
  let stopped = 0;
  for (let e = 0; e < observed && !stopped; e++) {
    if (watcher.observe(history.val_loss[e]) === 'stop') stopped = e + 1;
  }
  const length = stopped || history.loss.length;
  return { length, point: watcher.point(length) };
}

/**
 * Where a stop point's weights come from: the training's last weights when it keeps the last
 * trained epoch, else the snapshot its rule's slot took (at its best epoch, or at its stop
 * without restoreBest).
 */
export const keptWeights = (point: StopPoint, trainedEpochs: number): 'final' | 'snapshot' =>
  point.bestEpoch === trainedEpochs ? 'final' : 'snapshot';
