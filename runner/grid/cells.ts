import type { Grid, Trial, TrialConfig } from '../records/config.ts';
import { canonicalJson, isPlainObject } from './canonical.ts';
import { runsOf, trialEpochs } from './plan.ts';

/** One row of `fitgrid plan`: a cell, how much of it is stored and what is left to train. */
export interface CellPlan {
  cellId: string;
  config: TrialConfig;
  /** Base sections this cell changes (from an include), as `model.hidden=[128]`. */
  changes: string[];
  trials: number;
  stored: number;
  epochsLeft: number;
}

export interface PlanTotals {
  trials: number;
  cells: number;
  packs: number;
  stored: number;
  /** Sum of trialEpochs over the trials not stored yet. */
  trialEpochsLeft: number;
  /** Epochs actually trained for them: patience values of one run share its training. */
  epochsToTrain: number;
}

/** Leaf paths where `value` differs from `base`, e.g. `train.epochs=2000`. */
function differences(base: unknown, value: unknown, at: string): string[] {
  if (isPlainObject(base) && isPlainObject(value) && base.kind === value.kind) {
    const keys = [...new Set([...Object.keys(base), ...Object.keys(value)])];
    return keys.flatMap((k) => differences(base[k], value[k], `${at}.${k}`));
  }
  return canonicalJson(base ?? null) === canonicalJson(value ?? null) ? [] : [`${at}=${canonicalJson(value ?? null)}`];
}

/** Cells in the trials' order, with their stored and remaining work. */
export function planCells(grid: Grid, trials: Trial[], stored: ReadonlySet<string>): CellPlan[] {
  const cells = new Map<string, CellPlan>();
  for (const t of trials) {
    let cell = cells.get(t.cellId);
    if (!cell) {
      const changes = (['data', 'model', 'train'] as const).flatMap((s) => differences(grid[s], t.config[s], s));
      cell = { cellId: t.cellId, config: t.config, changes, trials: 0, stored: 0, epochsLeft: 0 };
      cells.set(t.cellId, cell);
    }
    cell.trials++;
    if (stored.has(t.trialId)) cell.stored++;
    else cell.epochsLeft += trialEpochs(t);
  }
  return [...cells.values()];
}

export function planTotals(trials: Trial[], packs: number, stored: ReadonlySet<string>): PlanTotals {
  const missing = trials.filter((t) => !stored.has(t.trialId));
  return {
    trials: trials.length,
    cells: new Set(trials.map((t) => t.cellId)).size,
    packs,
    stored: trials.length - missing.length,
    trialEpochsLeft: missing.reduce((sum, t) => sum + trialEpochs(t), 0),
    epochsToTrain: runsOf(missing).reduce((sum, run) => sum + trialEpochs(run[0]), 0),
  };
}
