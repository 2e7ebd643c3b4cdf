import type { Grid, Trial, TrialConfig } from '../grid/types.ts';
import { canonicalJson } from '../grid/canonical.ts';
import type { TrialResult } from '../train/types.ts';
import type { CellSummary, SweepSummary } from './types.ts';
import { biasVarianceDecomp, pointVariance, varianceSplit, type Decomposition } from './bias-variance.ts';
import { pairedEffect, type PairedTrial } from './effects.ts';
import { coefficientOfVariation, mean } from './stats.ts';
import { verdict } from './verdict.ts';
import { isNoRemedy } from './labels.ts';

/** A cell's trials and whatever results are stored for them, in the order of summary.cells. */
export interface CellGroup {
  trials: Trial[];
  results: TrialResult[];
}

/** The metrics whose difference to the no-remedy cell each cell reports. */
export const EFFECT_METRICS = ['val_loss', 'val_acc', 'best_val_loss', 'gap_loss', 'gap_acc'] as const;

/**
 * Adds the analysis to a summary's cells: bias-variance decomposition of the validation
 * predictions, the variance map of the decision surface, seed-paired effects against the
 * no-remedy cell, and a verdict with its reason; and the thresholds to the summary.
 */
export function analyze(summary: SweepSummary, grid: Grid, groups: readonly CellGroup[]): SweepSummary {
  const okOf = (g: CellGroup) => g.results.filter((r) => r.status === 'ok' && r.valProba?.length === r.valLabels?.length && r.valLabels.length > 0);
  const decomps = groups.map((g) => decompose(okOf(g), grid));
  const classes = groups.flatMap(okOf).find((r) => r.valProba[0]?.length)?.valProba[0].length ?? 2;

  summary.cells.forEach((cell, i) => {
    const d = decomps[i];
    if (d && d.replicates > 1) {
      cell.biasVariance = { zeroOne: d.zeroOne, mse: d.mse, ...d.split };
    }
    const variance = surfaceVariance(okOf(groups[i]), classes);
    if (cell.surface && variance) cell.surface.variance = variance;
  });

  addEffects(summary.cells, groups);

  const biases = decomps.map((d) => d?.mse.bias).filter((b): b is number => Number.isFinite(b));
  const bestBias = biases.length ? Math.min(...biases) : NaN;
  summary.cells.forEach((cell, i) => {
    const d = decomps[i];
    const ok = okOf(groups[i]);
    cell.verdict = verdict({
      ok: cell.counts.ok, failed: cell.counts.failed, diverged: cell.counts.diverged,
      replicates: d?.replicates ?? 0, bootstrap: grid.bootstrap > 0,
      bias: d?.mse.bias ?? NaN, variance: d?.mse.variance ?? NaN, loss: d?.mse.loss ?? NaN,
      trainAcc: cell.stats.acc.mean, trainLoss: cell.stats.loss.mean, valLoss: cell.stats.val_loss.mean,
      valLossRise: mean(ok.map((r) => r.final.val_loss - Math.min(...r.history.val_loss))),
      seedCv: seedCv(ok),
    }, { thresholds: grid.verdict, bestBias, chanceBias: (1 - 1 / classes) ** 2 });
  });
  summary.thresholds = { ...grid.verdict };
  return summary;
}

interface CellDecomposition {
  replicates: number;
  zeroOne: Decomposition;
  mse: Decomposition;
  split?: { dataVariance: number; seedVariance: number };
}

/** Replicates = the cell's ok trials; class predictions are argmax (ties to the lowest class). */
function decompose(ok: TrialResult[], grid: Grid): CellDecomposition | undefined {
  if (!ok.length) return undefined;
  const labels = ok[0].valLabels;
  const usable = ok.filter((r) => r.valLabels.length === labels.length);
  const classOf = (p: number[]) => p.indexOf(Math.max(...p));
  const zeroOne = biasVarianceDecomp(usable.map((r) => r.valProba.map(classOf)), labels, '0-1');
  const trueClass = usable.map((r) => r.valProba.map((p, j) => p[labels[j]]));
  const mse = biasVarianceDecomp(trueClass, labels.map(() => 1), 'mse');
  const result: CellDecomposition = { replicates: usable.length, zeroOne, mse };
  const seeds = new Set(usable.map((r) => r.seed)).size;
  const samples = new Set(usable.map((r) => r.replicate)).size;
  if (grid.bootstrap > 0 && seeds > 1 && samples > 1) {
    const { data, seed } = varianceSplit(trueClass, usable.map((r) => r.replicate ?? -1));
    result.split = { dataVariance: data, seedVariance: seed };
  }
  return result;
}

/** Binary surfaces hold p(class 1): their variance; multi-class ones hold a class: its 0-1 variance. */
function surfaceVariance(ok: TrialResult[], classes: number): number[] | undefined {
  const surfaces = ok.filter((r) => r.surface).map((r) => r.surface!.values);
  if (surfaces.length < 2 || surfaces.some((s) => s.length !== surfaces[0].length)) return undefined;
  // display-only: six decimals halve its share of summary.json and change no contour
  return pointVariance(surfaces, classes <= 2 ? 'mse' : '0-1').map((v) => Math.round(v * 1e6) / 1e6);
}

/** CV over seeds of each seed's mean val loss (its bootstrap replicates averaged first). */
function seedCv(ok: TrialResult[]): number {
  const bySeed = new Map<number, number[]>();
  for (const r of ok) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r.final.val_loss]);
  return coefficientOfVariation([...bySeed.values()].map(mean));
}

/** Everything of a config but the four remedies: a cell's effect needs a baseline equal in all of it. */
const restOf = ({ l2: _l, dropout: _d, augmentation: _a, patience: _p, ...rest }: TrialConfig) => canonicalJson(rest);

function addEffects(cells: CellSummary[], groups: readonly CellGroup[]) {
  const paired = (g: CellGroup): PairedTrial[] => g.results.filter((r) => r.status === 'ok').map((r) => ({
    seed: r.seed, replicate: r.replicate,
    metrics: {
      val_loss: r.final.val_loss, val_acc: r.final.val_acc, best_val_loss: Math.min(...r.history.val_loss),
      gap_loss: r.final.val_loss - r.final.loss, gap_acc: r.final.acc - r.final.val_acc,
    },
  }));
  const baselines = new Map<string, number>();
  groups.forEach((g, i) => { if (isNoRemedy(g.trials[0].config)) baselines.set(restOf(g.trials[0].config), i); });
  groups.forEach((g, i) => {
    const b = baselines.get(restOf(g.trials[0].config));
    if (b === undefined || b === i) return;
    const effect = pairedEffect(paired(g), paired(groups[b]), EFFECT_METRICS);
    if (Object.keys(effect).length) cells[i].effect = effect;
  });
}
