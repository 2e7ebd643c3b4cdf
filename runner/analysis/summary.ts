import pLimit from 'p-limit';
import type { DataSpec, Grid, Manifest, Trial } from '../grid/types.ts';
import type { History, TrialResult } from '../train/types.ts';
import type { Store } from '../store/store.ts';
import { manifestKey, summaryKey, trialKey } from '../store/keys.ts';
import { UserError } from '../errors.ts';
import { fitgridVersion } from '../version.ts';
import type { CellSummary, CurveSeries, ImagesSummary, Stat, SweepSummary, TrialSummary } from './types.ts';
import path from 'node:path';
import type { Dataset } from '../data/types.ts';
import { loadDataset } from '../data/load.ts';
import { imageSamples, isImageData } from './image-samples.ts';
import { confidentMistakes, galleryPixels } from './gallery.ts';
import { ciOf, mean } from './stats.ts';
import { analyze, type CellGroup } from './analyze.ts';
import { argmin, downsampleIndices } from './downsample.ts';
import {
  augmentationLabel, cellLabel, setupDifferences, dataDescription, isNoRemedy, modelDescription, optimizerLabel, remedyWords,
} from './labels.ts';

export const SUMMARY_FORMAT = 1;
/** Most points per curve in summary.json; the full histories stay in the store. */
export const MAX_CURVE_POINTS = 500;

const decoder = new TextDecoder();

/** Reads a sweep's manifest and every stored trial result, and computes what the site shows. */
export async function buildSummary(store: Store, sweep: string): Promise<SweepSummary> {
  const manifest = await readManifest(store, sweep);
  const limit = pLimit(16);
  const results = await Promise.all(manifest.trials.map((t) => limit(() => readResult(store, t))));
  // The data give the report its counts, class names and sample pictures; data that cannot be
  // read again (a moved CSV without a manifest copy) must not cost the whole report.
  const stored = manifest.dataKeys ?? {};
  const data = await loadDataset(manifest.grid.data, {
    baseDir: path.dirname(manifest.grid.file), dataFiles: manifest.dataFiles, storedData: async (sha) => (stored[sha] ? store.get(stored[sha]) : undefined),
  })
    .catch(() => undefined);
  const images = data && isImageData(manifest.grid.data) ? imageSamples(data, manifest.grid.axes.augmentation) : undefined;
  const summary = summarize(manifest, results, images, data);
  if (summary.images && data) summary.images.gallery = galleryPixels(summary.cells, data);
  return summary;
}

/** Builds the summary and stores it as sweeps/<sweep>/summary.json (atomically, as every store put is). */
export async function writeSummary(store: Store, sweep: string): Promise<SweepSummary> {
  const summary = await buildSummary(store, sweep);
  await store.put(summaryKey(sweep), JSON.stringify(summary), { contentType: 'application/json' });
  return summary;
}

async function readManifest(store: Store, sweep: string): Promise<Manifest> {
  const bytes = await store.get(manifestKey(sweep));
  if (!bytes) throw new UserError(`no sweep named "${sweep}" in ${store.url} (missing ${manifestKey(sweep)}); run it first`);
  return JSON.parse(decoder.decode(bytes)) as Manifest;
}

async function readResult(store: Store, trial: Trial): Promise<TrialResult | undefined> {
  const bytes = await store.get(trialKey(trial.trialId));
  return bytes ? (JSON.parse(decoder.decode(bytes)) as TrialResult) : undefined;
}

/**
 * The pure part: a manifest and its results (undefined = not stored yet) to a summary;
 * `images` (see image-samples.ts) is passed in because making it reads the data.
 */
export function summarize(manifest: Manifest, results: (TrialResult | undefined)[], images?: ImagesSummary, data?: Dataset): SweepSummary {
  const { grid } = manifest;
  const byCell = new Map<string, { trials: Trial[]; results: TrialResult[] }>();
  manifest.trials.forEach((trial, i) => {
    const group = byCell.get(trial.cellId) ?? { trials: [], results: [] };
    group.trials.push(trial);
    const r = results[i];
    if (r) group.results.push(r);
    byCell.set(trial.cellId, group);
  });

  const axisIndex = (axis: unknown[], v: unknown) => {
    const i = axis.findIndex((a) => JSON.stringify(a) === JSON.stringify(v));
    return i < 0 ? axis.length : i;
  };
  const order = (t: Trial) => [
    axisIndex(grid.axes.l2, t.config.l2), axisIndex(grid.axes.dropout, t.config.dropout),
    axisIndex(grid.axes.augmentation, t.config.augmentation), axisIndex(grid.axes.patience, t.config.patience),
  ];
  const groups = [...byCell.values()].sort((a, b) => {
    const x = order(a.trials[0]), y = order(b.trials[0]);
    return x.reduce((d, xi, i) => d || xi - y[i], 0);
  });

  const classes = data?.classNames ?? classNames(grid.data, results);
  const cells = groups.map((g) => cellSummary(g.trials, g.results, classes.length));
  // Cells added by `include` may change the model or the training too (the article's dropout
  // experiment is a deeper net for fewer epochs): say so in their labels, or two cells read alike.
  const differences = setupDifferences(groups.map((g) => g.trials[0]!.config));
  cells.forEach((cell, i) => { if (differences[i]) cell.label += ` · ${differences[i]}`; });
  const all = groups.flatMap((g) => g.results);
  const finished = all.map((r) => Date.parse(r.finishedAt)).filter(Number.isFinite);
  const started = all.map((r) => Date.parse(r.finishedAt) - r.seconds * 1000).filter(Number.isFinite);
  const firstVal = all.find((r) => r.valLabels?.length);
  const firstPoints = all.find((r) => r.points);
  const valCount = firstVal?.valLabels.length ?? 0;

  const summary: SweepSummary = {
    formatVersion: SUMMARY_FORMAT,
    fitgridVersion,
    generatedAt: new Date().toISOString(),
    sweep: manifest.sweep,
    description: grid.description,
    gridSource: manifest.gridSource,
    data: {
      kind: grid.data.kind,
      description: dataDescription(grid.data),
      features: (data?.inputShape ?? inputShape(grid.data)).reduce((a, b) => a * b, 1),
      classes,
      train: data?.train.y.length ?? firstPoints?.points?.train.length ?? trainCount(grid.data, valCount),
      val: data?.val.y.length ?? valCount,
      inputShape: data?.inputShape ?? inputShape(grid.data),
    },
    model: { kind: grid.model.kind, description: modelDescription(grid.model) },
    train: { epochs: grid.train.epochs, batchSize: grid.train.batchSize, optimizer: optimizerLabel(grid.train.optimizer) },
    axes: {
      l2: grid.axes.l2, dropout: grid.axes.dropout,
      augmentation: grid.axes.augmentation.map(augmentationLabel), patience: grid.axes.patience,
    },
    counts: {
      trials: manifest.trials.length, cells: cells.length,
      ok: sum(cells.map((c) => c.counts.ok)), diverged: sum(cells.map((c) => c.counts.diverged)),
      failed: sum(cells.map((c) => c.counts.failed)), missing: sum(cells.map((c) => c.counts.missing)),
    },
    backends: unique(all.map((r) => r.backend)),
    engines: unique(all.map((r) => r.engine)),
    trainSeconds: sum(all.map((r) => r.seconds)),
    wallSeconds: finished.length ? (Math.max(...finished) - Math.min(...started)) / 1000 : 0,
    cells,
    ...(images ? { images } : {}),
  };
  Object.assign(summary, compareToBaseline(groups.map((g) => g.trials[0]), cells));
  return enrich(summary, grid, groups);
}

/**
 * Where the analysis stage plugs in (runner/analysis/stats.ts, bias-variance.ts, verdict.ts):
 * each adds its fields to the cells (`effect`, `biasVariance`, `verdict`) and `thresholds`.
 */
export function enrich(summary: SweepSummary, grid: Grid, groups: CellGroup[]): SweepSummary {
  return analyze(summary, grid, groups);
}

function cellSummary(trials: Trial[], results: TrialResult[], classCount: number): CellSummary {
  const first = trials[0];
  const ok = results.filter((r) => r.status === 'ok');
  const trialSummaries = trials
    .map((t) => results.find((r) => r.trialId === t.trialId))
    .filter((r): r is TrialResult => r !== undefined)
    .map(trialSummary);
  const okSummaries = trialSummaries.filter((t) => t.status === 'ok');
  const stat = (f: (t: TrialSummary) => number): Stat => ciOf(okSummaries.map(f));
  const cell: CellSummary = {
    cellId: first.cellId,
    label: cellLabel(first.config),
    axes: {
      l2: first.config.l2, dropout: first.config.dropout,
      augmentation: augmentationLabel(first.config.augmentation), patience: first.config.patience,
    },
    trials: trialSummaries,
    counts: {
      ok: ok.length,
      diverged: results.filter((r) => r.status === 'diverged').length,
      failed: results.filter((r) => r.status === 'failed').length,
      missing: trials.length - results.length,
    },
    stats: {
      loss: stat((t) => t.final.loss), acc: stat((t) => t.final.acc),
      val_loss: stat((t) => t.final.val_loss), val_acc: stat((t) => t.final.val_acc),
      best_val_loss: stat((t) => t.best.val_loss), best_val_acc: stat((t) => t.best.val_acc),
      gap_loss: stat((t) => t.final.val_loss - t.final.loss),
      gap_acc: stat((t) => t.final.acc - t.final.val_acc),
      bestEpoch: stat((t) => t.bestEpoch), stoppedEpoch: stat((t) => t.stoppedEpoch),
      seconds: stat((t) => t.seconds),
    },
  };
  if (ok.length) cell.meanCurves = curves(meanHistory(ok.map((r) => r.history)));
  const surfaces = ok.filter((r) => r.surface);
  if (surfaces.length) {
    const s = surfaces[0].surface!;
    const binary = classCount <= 2;
    cell.surface = {
      x0: s.x0, x1: s.x1, y0: s.y0, y1: s.y1, n: s.n,
      // p(class 1) averages; a predicted class index does not, so multi-class takes the mode
      values: s.values.map((_, i) => (binary ? significant(mean(surfaces.map((r) => r.surface!.values[i])), 4) : mode(surfaces.map((r) => r.surface!.values[i])))),
    };
  }
  const withPoints = ok.find((r) => r.points);
  if (withPoints) cell.points = withPoints.points;
  if (classCount > 2 && ok.some((r) => r.valProba?.length)) cell.confusion = confusion(ok, classCount);
  if (isImageData(trials[0]!.config.data)) cell.mistakes = confidentMistakes(ok);
  return cell;
}

function trialSummary(r: TrialResult): TrialSummary {
  const h = r.history;
  const best = argmin(h.val_loss);
  return {
    trialId: r.trialId, seed: r.seed, replicate: r.replicate, status: r.status,
    ...(r.error ? { error: r.error } : {}),
    engine: r.engine, backend: r.backend, device: r.device, seconds: r.seconds,
    bestEpoch: r.bestEpoch, stoppedEpoch: r.stoppedEpoch,
    final: r.final,
    best: best < 0 ? { val_loss: NaN, val_acc: NaN } : { val_loss: h.val_loss[best], val_acc: h.val_acc[best] },
    curves: curves(h, r.bestEpoch - 1),
  };
}

/** Downsamples a history to at most MAX_CURVE_POINTS, keeping first, last, min val_loss and the best epoch. */
export function curves(h: History, bestIndex = -1): CurveSeries {
  const idx = downsampleIndices(h.val_loss.length, [argmin(h.val_loss), bestIndex], MAX_CURVE_POINTS);
  // Six significant digits: the site draws and prints them, the store keeps the full values.
  const pick = (xs: number[]) => idx.map((i) => significant(xs[i]!, 6));
  return { epoch: idx.map((i) => i + 1), loss: pick(h.loss), val_loss: pick(h.val_loss), acc: pick(h.acc), val_acc: pick(h.val_acc) };
}

/** Epoch-wise mean over the trials still running at that epoch (early-stopped trials drop out). */
export function meanHistory(hs: History[]): History {
  const length = Math.max(...hs.map((h) => h.val_loss.length));
  const at = (key: keyof History) =>
    Array.from({ length }, (_, e) => mean(hs.filter((h) => e < h[key].length).map((h) => h[key][e])));
  return { loss: at('loss'), val_loss: at('val_loss'), acc: at('acc'), val_acc: at('val_acc') };
}

function compareToBaseline(firstTrials: Trial[], cells: CellSummary[]): Pick<SweepSummary, 'baselineCellId' | 'bestRemedy'> {
  const valLoss = (c: CellSummary) => c.stats.val_loss.mean;
  const baseIndex = firstTrials.findIndex((t) => isNoRemedy(t.config));
  const candidates = cells
    .map((c, i) => ({ c, t: firstTrials[i] }))
    .filter(({ c }, i) => i !== baseIndex && Number.isFinite(valLoss(c)))
    .sort((a, b) => valLoss(a.c) - valLoss(b.c));
  if (!candidates.length) return baseIndex < 0 ? {} : { baselineCellId: cells[baseIndex].cellId };
  const { c, t } = candidates[0];
  const fmt = (x: number) => x.toPrecision(3);
  if (baseIndex < 0) {
    return { bestRemedy: { cellId: c.cellId, label: c.label, text: `${remedyWords(t.config)} reached the lowest validation loss, ${fmt(valLoss(c))} (this grid has no cell without remedies to compare against).` } };
  }
  const base = cells[baseIndex];
  const b = valLoss(base);
  if (!Number.isFinite(b)) {
    return { baselineCellId: base.cellId, bestRemedy: { cellId: c.cellId, label: c.label, text: `${remedyWords(t.config)} reached the lowest validation loss, ${fmt(valLoss(c))}; the cell without remedies has no finished trials.` } };
  }
  // a change under 1% is noise for any practical purpose, not a remedy that "helped"
  const text = valLoss(c) < b * 0.99
    ? `${remedyWords(t.config)} helped most: mean validation loss ${fmt(valLoss(c))} against ${fmt(b)} without any remedy (${fmt((100 * (valLoss(c) - b)) / b)}%).`
    : `No remedy lowered the mean validation loss by 1% or more against the cell without remedies (${fmt(b)}); the lowest was ${remedyWords(t.config)} at ${fmt(valLoss(c))}.`;
  return { baselineCellId: base.cellId, bestRemedy: { cellId: c.cellId, label: c.label, text } };
}

function confusion(results: TrialResult[], classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const r of results) {
    r.valLabels.forEach((y, i) => {
      const p = r.valProba[i];
      m[y][p.indexOf(Math.max(...p))]++;
    });
  }
  return m;
}

function inputShape(d: DataSpec): number[] {
  switch (d.kind) {
    case 'moons': case 'circles': return [2];
    case 'digits': return [8, 8, 1];
    case 'images': return [d.height, d.width, d.channels];
    case 'csv': case 'idx': return [0]; // the column count is known only to whoever reads the CSV
  }
}

function classNames(d: DataSpec, results: (TrialResult | undefined)[]): string[] {
  if (d.kind === 'digits') return (d.classes ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).map(String);
  if (d.kind === 'idx' && d.classNames) return d.classNames;
  const c = results.find((r) => r?.valProba?.length)?.valProba[0].length ?? 2;
  return Array.from({ length: c }, (_, i) => String(i));
}

function trainCount(d: DataSpec, val: number): number {
  if (d.kind === 'idx') return d.trainSize ?? 0;
  if (d.split.kind === 'first') return d.split.train;
  if (d.kind === 'moons' || d.kind === 'circles') return d.samples - val;
  if ((d.kind === 'digits' || d.kind === 'images') && d.trainSize) return d.trainSize;
  return 0;
}

const significant = (x: number, digits: number) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const unique = (xs: string[]) => [...new Set(xs)].sort();
function mode(xs: number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}
