import type { Grid, Trial, TrialConfig } from '../records/config.ts';
import { canonicalJson } from '../grid/canonical.ts';
import type { TrialResult } from '../records/result.ts';
import type { CellSummary, SweepSummary } from '../records/summary.ts';
import { biasVarianceDecomp, pointVariance, varianceSplit, type Decomposition } from './bias-variance.ts';
import { pairedEffect, type PairedTrial } from './effects.ts';
import { coefficientOfVariation, mean } from './stats.ts';
import { verdict } from './verdict.ts';
import { isNoRemedy } from '../grid/labels.ts';

/** A cell's trials and whatever results are stored for them, in the order of summary.cells. */
export interface CellGroup {
  trials: Trial[];
  results: TrialResult[];
}

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
  /** The surface's variance over the cell's replicates, per grid point, until the summary stores it. */
  surfaceVariance?: number[];
}

const okOf = (g: CellGroup) => g.results.filter((r) => r.status === 'ok' && r.valProba?.length === r.valLabels?.length && r.valLabels.length > 0);

/**
 * The part of the analysis that needs a cell's results: adds its bias-variance decomposition and
 * surface variance map to the cell and returns what finishAnalysis needs of it, so that a
 * streaming summary can drop the results as soon as a cell is complete.
 */
export function analyzeCell(cell: CellSummary, group: CellGroup, grid: Grid, classes: number): CellFacts {
  const ok = okOf(group);
  const d = decompose(ok, grid);
  if (d && d.replicates > 1) cell.biasVariance = { zeroOne: d.zeroOne, mse: d.mse, ...d.split };
  const variance = cell.surface || group.results.some((r) => r.surface) ? surfaceVariance(ok, classes) : undefined;
  const config = group.trials[0].config;
  return {
    ...(d ? { decomposition: d } : {}),
    paired: paired(group),
    valLossRise: mean(ok.map((r) => r.final.val_loss - Math.min(...r.history.val_loss))),
    seedCv: seedCv(ok),
    setup: restOf(config),
    noRemedy: isNoRemedy(config),
    ...(variance ? { surfaceVariance: variance } : {}),
  };
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
const means = ({ perPoint: _p, ...rest }: Decomposition): Means => rest;

interface CellDecomposition {
  replicates: number;
  zeroOne: Means;
  mse: Means;
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
  const result: CellDecomposition = { replicates: usable.length, zeroOne: means(zeroOne), mse: means(mse) };
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

function paired(g: CellGroup): PairedTrial[] {
  return g.results.filter((r) => r.status === 'ok').map((r) => ({
    seed: r.seed, replicate: r.replicate,
    metrics: {
      val_loss: r.final.val_loss, val_acc: r.final.val_acc, best_val_loss: Math.min(...r.history.val_loss),
      gap_loss: r.final.val_loss - r.final.loss, gap_acc: r.final.acc - r.final.val_acc,
    },
  }));
}

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
