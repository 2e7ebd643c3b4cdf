import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type { DataSpec, Trial } from '../records/config.ts';
import type { Manifest } from '../records/manifest.ts';
import type { TrialResult } from '../records/result.ts';
import type { Store } from '../store/store.ts';
import { readManifest } from '../store/manifest.ts';
import { cellCacheKey, summaryKey, trialIdFromKey, trialKey, trialsPrefix } from '../store/keys.ts';
import { readTrialResult, ResultFormatError } from '../records/result-codec.ts';
import { fitgridVersion } from '../version.ts';
import type { CellSummary, ImagesSummary, SweepSummary } from '../records/summary.ts';
import path from 'node:path';
import type { Dataset } from '../data/types.ts';
import { loadDataset } from '../data/load.ts';
import { imageSamples, isImageData } from './image-samples.ts';
import { galleryPixels } from './gallery.ts';
import { finishAnalysis, type CellFacts } from './analyze.ts';
import { CellFold, type CellTotals, type CurvePlan } from './cell-fold.ts';
import { MAX_CURVE_POINTS } from './curves.ts';
import { axisEffects } from './axis-effects.ts';
import {
  augmentationLabel, setupDifferences, dataDescription, isNoRemedy, modelDescription, optimizerLabel, remedyWords,
} from '../grid/labels.ts';

// 3: a trial row may come without curves (large sweeps keep those of a few seeds per cell)
const SUMMARY_FORMAT = 3;
/**
 * Curve points summary.json spends on all trials together, and on all cells' mean curves: a
 * large sweep draws each of its curves with fewer points (never fewer than MIN_CURVE_POINTS),
 * and beyond that keeps the curves of only the first few finished trials of each cell, so the
 * summary grows with cells × curve points, not with trials × epochs.
 */
const TRIAL_CURVE_BUDGET = 250_000;
const CELL_CURVE_BUDGET = 500_000;
export const MIN_CURVE_POINTS = 50;
/** Finished trials of a cell that keep their own curves at most: a chart of more thin lines shows none of them. */
const MAX_CURVE_TRIALS = 20;
/** Trial results read from the store at once. */
const READ_CONCURRENCY = 32;
/** Bumped when what a cached cell holds changes, so that older cache entries are not reused. */
const CACHE_LAYOUT = 3;
/** Unreadable results named in summary.json (all are counted). */
const MAX_PROBLEMS = 50;

const decoder = new TextDecoder();

export interface BuildOptions {
  /** Called once per stored result that cannot be read, which is then counted as missing. */
  onUnreadable?: (key: string, reason: string) => void;
  /** Reuse and write the per-cell cache under sweeps/<sweep>/cache/ (default true). */
  cache?: boolean;
}

/**
 * Reads a sweep's manifest, then its stored results with bounded concurrency, folding each into
 * its cell as it arrives: memory holds the cells in flight, never every result at once. A cell
 * whose stored trials are exactly those an earlier report summarised, unchanged since, is taken
 * from the cache that report left, so a report after a few new trials re-reads only their cells.
 */
export async function buildSummary(store: Store, sweep: string, options: BuildOptions = {}): Promise<SweepSummary> {
  const manifest = await readManifest(store, sweep);
  // The data give the report its counts, class names and sample pictures; data that cannot be
  // read again (a moved CSV without a manifest copy) must not cost the whole report.
  const stored = manifest.dataKeys ?? {};
  const data = await loadDataset(manifest.grid.data, {
    baseDir: path.dirname(manifest.grid.file), dataFiles: manifest.dataFiles, storedData: async (sha) => (stored[sha] ? store.get(stored[sha]) : undefined),
  })
    .catch(() => undefined);
  const fold = new SummaryFold(manifest, data);
  fold.onUnreadable = options.onUnreadable;
  const limit = pLimit(READ_CONCURRENCY);
  const useCache = options.cache ?? true;
  // each stored result's stamp: a result written again (a damaged file, a rerun into the store)
  // changes its cell's cache key, so the cache never stands in for what is stored now
  const stamps = new Map([...await store.listStamped(trialsPrefix)].map(([key, stamp]) => [trialIdFromKey(key), stamp]));
  const byCell = trialsByCell(manifest.trials);
  const keys = new Map<string, string>();
  const writes: Promise<void>[] = [];
  if (useCache) {
    fold.onComplete = (cellId, entry) => {
      const key = keys.get(cellId);
      if (!key) return;
      const body = JSON.stringify({ key, ...entry }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
      // the cache only saves reading: a store that refuses it (a role without write access to
      // cache/) must not cost the report
      writes.push(limit(() => store.put(cellCacheKey(sweep, cellId), body, { contentType: 'application/json' })).catch(() => undefined));
    };
  }
  const read = async (t: Trial) => {
    if (!stamps.has(t.trialId)) return fold.add(t, undefined);
    const key = trialKey(t.trialId);
    const bytes = await store.get(key);
    if (!bytes) return fold.add(t, undefined);
    let result: TrialResult;
    try {
      result = readTrialResult(bytes);
    } catch (error) {
      if (!(error instanceof ResultFormatError)) throw error;
      return fold.unreadable(t, key, error.message);
    }
    fold.add(t, result);
  };
  // cells in manifest order, each cell's trials together, so cells complete one after another
  await Promise.all([...byCell].map(([cellId, trials]) => limit(async () => {
    const stored = trials.filter((t) => stamps.has(t.trialId)).map((t) => `${t.trialId} ${stamps.get(t.trialId)}`);
    if (useCache && stored.length) {
      const key = cacheKey(stored, fold.curvePoints);
      keys.set(cellId, key);
      const cached = await store.get(cellCacheKey(sweep, cellId));
      const entry = cached && parseCached(cached);
      if (entry?.key === key) {
        fold.restore(cellId, entry);
        for (const p of entry.totals.problems) options.onUnreadable?.(p.key, p.reason);
        return;
      }
    }
    return trials;
  }).then((trials) => trials && Promise.all(trials.map((t) => limit(() => read(t)))))));
  await Promise.all(writes);
  const images = data && isImageData(manifest.grid.data) ? imageSamples(data, manifest.grid.axes.augmentation) : undefined;
  const summary = fold.finish(images);
  if (summary.images && data) summary.images.gallery = galleryPixels(summary.cells, data);
  return summary;
}

/** What decides a cached cell: the trials stored for it (with their stamps), and everything else that shapes it. */
function cacheKey(storedTrials: string[], shape: object): string {
  return createHash('sha256').update(JSON.stringify([SUMMARY_FORMAT, CACHE_LAYOUT, fitgridVersion, shape, storedTrials])).digest('hex');
}

function parseCached(bytes: Uint8Array): CachedCell | undefined {
  try {
    // NaN and the infinities were written as strings (JSON has no such numbers)
    return JSON.parse(decoder.decode(bytes), (_, v) => (v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? Number(v) : v)) as CachedCell;
  } catch {
    return undefined; // a damaged cache entry only means reading the cell's trials again
  }
}

/** Builds the summary and stores it as sweeps/<sweep>/summary.json (atomically, as every store put is). */
export async function writeSummary(store: Store, sweep: string, options: BuildOptions = {}): Promise<SweepSummary> {
  const summary = await buildSummary(store, sweep, options);
  await store.put(summaryKey(sweep), JSON.stringify(summary), { contentType: 'application/json' });
  return summary;
}

/**
 * The pure part: a manifest and its results (undefined = not stored yet) to a summary;
 * `images` (see image-samples.ts) is passed in because making it reads the data.
 */
export function summarize(manifest: Manifest, results: (TrialResult | undefined)[], images?: ImagesSummary, data?: Dataset): SweepSummary {
  const fold = new SummaryFold(manifest, data);
  manifest.trials.forEach((t, i) => fold.add(t, results[i]));
  return fold.finish(images);
}

/**
 * A cell whose trials are still arriving. Its fold takes results in the manifest's order: one
 * that arrives early waits in `early` (at most the reads in flight) until those before it are in.
 */
interface PendingCell { index: number; trials: Trial[]; fold?: CellFold; next: number; early: Map<number, TrialResult | null>; position?: Map<string, number> }

/** A completed cell as the cache keeps it: the summary's cell before the sweep-wide pass, and what that pass needs. */
interface CachedCell { key: string; cell: CellSummary; facts: CellFacts; totals: CellTotals }

/**
 * Trial results, added one at a time in any order, folded into per-cell summaries (CellFold)
 * as they arrive. A cell is finished as soon as its last trial is in (stored, unreadable or
 * missing); what the sweep-wide analysis needs of it is kept as CellFacts.
 */
class SummaryFold {
  private readonly pending = new Map<string, PendingCell>();
  private readonly firstTrials: Trial[] = [];
  private readonly cells: (CellSummary | undefined)[] = [];
  private readonly facts: (CellFacts | undefined)[] = [];
  /** Curve points per trial and per cell mean, and the finished trials per cell that keep theirs (the first in seed order). */
  private readonly plan: CurvePlan;
  private classCount: number | undefined;
  /** The class count when neither the data nor any result says it. */
  private readonly fallbackClasses: number;
  private valCount: number | undefined;
  private trainCount: number | undefined;
  private readonly backends = new Set<string>();
  private readonly engines = new Set<string>();
  private trainSeconds = 0;
  private firstStart = Infinity;
  private lastFinish = -Infinity;
  private readonly problems: { key: string; reason: string }[] = [];
  private problemCount = 0;

  constructor(private readonly manifest: Manifest, private readonly data?: Dataset) {
    const { grid } = manifest;
    const byCell = trialsByCell(manifest.trials);
    const axisIndex = (axis: unknown[], v: unknown) => {
      const i = axis.findIndex((a) => JSON.stringify(a) === JSON.stringify(v));
      return i < 0 ? axis.length : i;
    };
    const order = (t: Trial) => [
      axisIndex(grid.axes.l2, t.config.l2), axisIndex(grid.axes.dropout, t.config.dropout),
      axisIndex(grid.axes.augmentation, t.config.augmentation), axisIndex(grid.axes.patience, t.config.patience),
    ];
    const groups = [...byCell.values()].sort((a, b) => {
      const x = order(a[0]), y = order(b[0]);
      return x.reduce((d, xi, i) => d || xi - y[i], 0);
    });
    groups.forEach((trials, index) => {
      this.pending.set(trials[0].cellId, { index, trials, next: 0, early: new Map() });
      this.firstTrials.push(trials[0]);
    });
    this.classCount = data?.classNames.length;
    this.fallbackClasses = classNamesOf(grid.data, undefined).length;
    const points = (budget: number, count: number) => Math.max(MIN_CURVE_POINTS, Math.min(MAX_CURVE_POINTS, Math.floor(budget / Math.max(1, count))));
    const trials = Math.min(MAX_CURVE_TRIALS, Math.max(1, Math.floor(TRIAL_CURVE_BUDGET / MIN_CURVE_POINTS / Math.max(1, groups.length))));
    const drawn = groups.reduce((n, cell) => n + Math.min(cell.length, trials), 0);
    this.plan = { trial: points(TRIAL_CURVE_BUDGET, drawn), mean: points(CELL_CURVE_BUDGET, groups.length), trials };
  }

  /** One trial of the manifest and its result, or undefined when it is not stored (yet). */
  add(trial: Trial, result: TrialResult | undefined): void {
    const cell = this.pending.get(trial.cellId);
    const at = cell && (cell.position ??= new Map(cell.trials.map((t, i) => [t.trialId, i]))).get(trial.trialId);
    if (!cell || at === undefined) return;
    cell.early.set(at, result ?? null);
    while (cell.early.has(cell.next)) {
      const r = cell.early.get(cell.next);
      cell.early.delete(cell.next++);
      if (r) this.foldOf(cell).add(r);
    }
    if (cell.next === cell.trials.length) this.complete(cell);
  }

  /** A stored result that could not be read: named in the summary and counted as missing. */
  unreadable(trial: Trial, key: string, reason: string): void {
    const cell = this.pending.get(trial.cellId);
    if (cell) this.foldOf(cell).totals.problems.push({ key, reason });
    this.onUnreadable?.(key, reason);
    this.add(trial, undefined);
  }

  private foldOf(cell: PendingCell): CellFold {
    return (cell.fold ??= new CellFold(cell.trials, {
      grid: this.manifest.grid, plan: this.plan, classes: this.classCount, fallbackClasses: this.fallbackClasses,
      onUnreadable: (key, reason) => this.onUnreadable?.(key, reason),
    }));
  }

  /** Called once per stored result found unreadable, as it is found. */
  onUnreadable?: (key: string, reason: string) => void;

  /**
   * A cell completed by an earlier report from the same stored trials (see buildSummary's
   * cache): taken as it was, its trials not read again.
   */
  restore(cellId: string, cached: CachedCell): void {
    const pending = this.pending.get(cellId);
    if (!pending) return;
    this.pending.delete(cellId);
    this.cells[pending.index] = cached.cell;
    this.facts[pending.index] = cached.facts;
    this.merge(cached.totals);
  }

  /** Called with each cell completed from its results, for the cache; it must copy what it keeps, at once. */
  onComplete?: (cellId: string, cached: Omit<CachedCell, 'key'>) => void;

  /** The number of curve points per trial and per cell mean: they shape a cached cell too. */
  get curvePoints() { return { ...this.plan, classes: this.classCount ?? null }; }

  private merge(t: CellTotals): void {
    for (const b of t.backends) this.backends.add(b);
    for (const e of t.engines) this.engines.add(e);
    this.trainSeconds += t.trainSeconds;
    if (t.firstStart !== null) this.firstStart = Math.min(this.firstStart, t.firstStart);
    if (t.lastFinish !== null) this.lastFinish = Math.max(this.lastFinish, t.lastFinish);
    this.valCount ??= t.valCount;
    this.trainCount ??= t.trainCount;
    for (const p of t.problems) if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
    this.problemCount += t.problems.length;
  }

  private complete(pending: PendingCell): void {
    const cellId = pending.trials[0].cellId;
    this.pending.delete(cellId);
    const fold = this.foldOf(pending);
    // a cell completed before all its trials arrived (finish): what did arrive, in order
    for (let i = pending.next; i < pending.trials.length; i++) {
      const r = pending.early.get(i);
      if (r) fold.add(r);
    }
    const { cell, facts } = fold.finish();
    this.classCount ??= fold.classesSeen;
    // before the sweep-wide pass adds to the cell: the cache keeps what its trials alone decide
    this.onComplete?.(cellId, { cell, facts, totals: fold.totals });
    this.cells[pending.index] = cell;
    this.facts[pending.index] = facts;
    this.merge(fold.totals);
  }

  /** The summary of everything added; cells still waiting for trials are completed as they are. */
  finish(images?: ImagesSummary): SweepSummary {
    for (const cell of [...this.pending.values()]) this.complete(cell);
    const { manifest, data } = this;
    const { grid } = manifest;
    const cells = this.cells as CellSummary[];
    // Cells added by `include` may change the model or the training too (the article's dropout
    // experiment is a deeper net for fewer epochs): say so in their labels, or two cells read alike.
    const differences = setupDifferences(this.firstTrials.map((t) => t.config));
    cells.forEach((cell, i) => { if (differences[i]) cell.label += ` · ${differences[i]}`; });
    // Every cell trains on the same points unless it bootstraps: the summary carries them once,
    // and a cell only the points that differ from those.
    const points = cells.find((c) => c.points)?.points;
    const shared = points && JSON.stringify(points);
    if (shared) for (const cell of cells) if (cell.points && JSON.stringify(cell.points) === shared) delete cell.points;
    const classes = data?.classNames ?? classNamesOf(grid.data, this.classCount);
    const valCount = this.valCount ?? 0;
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
        train: data?.train.y.length ?? this.trainCount ?? trainCount(grid.data, valCount),
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
      backends: [...this.backends].sort(),
      engines: [...this.engines].sort(),
      trainSeconds: this.trainSeconds,
      wallSeconds: this.lastFinish > -Infinity ? (this.lastFinish - this.firstStart) / 1000 : 0,
      cells,
      ...(points ? { points } : {}),
      ...(images ? { images } : {}),
      ...(this.problemCount ? { unreadable: { count: this.problemCount, examples: this.problems } } : {}),
    };
    Object.assign(summary, compareToBaseline(this.firstTrials, cells));
    const byAxis = (metric: 'val_loss' | 'gap_loss') => axisEffects(cells.map((c) => ({ axes: c.axes, value: c.stats[metric].mean })), summary.axes);
    summary.axisEffects = { val_loss: byAxis('val_loss'), gap_loss: byAxis('gap_loss') };
    return finishAnalysis(summary, grid, this.facts as CellFacts[]);
  }
}

/** A manifest's trials cell by cell, cells in the order of their first trial. */
function trialsByCell(trials: readonly Trial[]): Map<string, Trial[]> {
  const byCell = new Map<string, Trial[]>();
  for (const t of trials) {
    const list = byCell.get(t.cellId);
    if (list) list.push(t);
    else byCell.set(t.cellId, [t]);
  }
  return byCell;
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

function inputShape(d: DataSpec): number[] {
  switch (d.kind) {
    case 'moons': case 'circles': return [2];
    case 'digits': return [8, 8, 1];
    case 'images': return [d.height, d.width, d.channels];
    case 'csv': case 'idx': return [0]; // the column count is known only to whoever reads the CSV
  }
}

function classNamesOf(d: DataSpec, count: number | undefined): string[] {
  if (d.kind === 'digits') return (d.classes ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).map(String);
  if (d.kind === 'idx' && d.classNames) return d.classNames;
  return Array.from({ length: count ?? 2 }, (_, i) => String(i));
}

function trainCount(d: DataSpec, val: number): number {
  if (d.kind === 'idx') return d.trainSize ?? 0;
  if (d.split.kind === 'first') return d.split.train;
  if (d.kind === 'moons' || d.kind === 'circles') return d.samples - val;
  if ((d.kind === 'digits' || d.kind === 'images') && d.trainSize) return d.trainSize;
  return 0;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
