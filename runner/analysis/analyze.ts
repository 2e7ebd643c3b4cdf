import type { Grid, TrialConfig } from '../records/config.ts';
import { canonicalJson } from '../grid/canonical.ts';
import type { CellSummary, SweepSummary } from '../records/summary.ts';
import type { Decomposition } from './bias-variance.ts';
import { pairedEffect, type PairedTrial } from './effects.ts';
import { verdict } from './verdict.ts';

/** The metrics whose difference to the no-remedy cell each cell reports. */
const EFFECT_METRICS = ['val_loss', 'val_acc', 'best_val_loss', 'gap_loss', 'gap_acc'] as const;

/**
 * What the sweep-wide part of the analysis needs of one cell once its trial results are gone:
 * the decomposition's numbers, each finished trial's pairing key and metrics, and the inputs of
 * the verdict that only the results know.
 */
export interface CellFacts {
  decomposition?: CellDecomposition;
  paired: PairedTrial[];
  valLossRise: number;
  seedCv: number;
  /** The cell's config less its four remedies: cells equal in it share a no-remedy baseline. */
  setup: string;
  noRemedy: boolean;
}

/** The sweep-wide part: effects against each setup's no-remedy cell, verdicts (which compare cells), thresholds. */
export function finishAnalysis(summary: SweepSummary, grid: Grid, facts: readonly CellFacts[]): SweepSummary {
  addEffects(summary.cells, facts);
  const classes = summary.data.classes.length || 2;
  const biases = facts.map((f) => f.decomposition?.mse.bias).filter((b): b is number => Number.isFinite(b));
  const bestBias = biases.length ? Math.min(...biases) : NaN;
  summary.cells.forEach((cell, i) => {
    const { decomposition: d, valLossRise, seedCv } = facts[i];
    cell.verdict = verdict({
      ok: cell.counts.ok, failed: cell.counts.failed, diverged: cell.counts.diverged,
      replicates: d?.replicates ?? 0, bootstrap: grid.bootstrap > 0,
      bias: d?.mse.bias ?? NaN, variance: d?.mse.variance ?? NaN, loss: d?.mse.loss ?? NaN,
      trainAcc: cell.stats.acc.mean, trainLoss: cell.stats.loss.mean, valLoss: cell.stats.val_loss.mean,
      valLossRise, seedCv,
    }, { thresholds: grid.verdict, bestBias, chanceBias: (1 - 1 / classes) ** 2 });
  });
  summary.thresholds = { ...grid.verdict };
  return summary;
}

/** A decomposition's means: its per-point values are not kept (they grow with the validation set). */
type Means = Omit<Decomposition, 'perPoint'>;

export interface CellDecomposition {
  replicates: number;
  zeroOne: Means;
  mse: Means;
  split?: { dataVariance: number; seedVariance: number };
}

/** Everything of a config but the four remedies: a cell's effect needs a baseline equal in all of it. */
export const restOf = ({ l2: _l, dropout: _d, augmentation: _a, patience: _p, ...rest }: TrialConfig) => canonicalJson(rest);

function addEffects(cells: CellSummary[], facts: readonly CellFacts[]) {
  const baselines = new Map<string, number>();
  facts.forEach((f, i) => { if (f.noRemedy) baselines.set(f.setup, i); });
  facts.forEach((f, i) => {
    const b = baselines.get(f.setup);
    if (b === undefined || b === i) return;
    const effect = pairedEffect(f.paired, facts[b].paired, EFFECT_METRICS);
    if (Object.keys(effect).length) cells[i].effect = effect;
  });
}
