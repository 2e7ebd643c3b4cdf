import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type { DataSpec, Trial } from '../records/config.ts';
import type { Manifest } from '../records/manifest.ts';
import type { History, TrialResult } from '../records/result.ts';
import type { Store } from '../store/store.ts';
import { readManifest } from '../store/manifest.ts';
import { cellCacheKey, summaryKey, trialIdFromKey, trialKey, trialsPrefix } from '../store/keys.ts';
import { readTrialResult, ResultFormatError } from '../records/result-codec.ts';
import { encodeArray, quantizedArray } from '../records/typed-array.ts';
import { fitgridVersion } from '../version.ts';
import type { CellSummary, CurveSeries, ImagesSummary, Stat, SweepSummary, TrialSummary } from '../records/summary.ts';
import path from 'node:path';
import type { Dataset } from '../data/types.ts';
import { loadDataset } from '../data/load.ts';
import { imageSamples, isImageData } from './image-samples.ts';
import { confidentMistakes, galleryPixels } from './gallery.ts';
import { ciOf } from './stats.ts';
import { analyzeCell, finishAnalysis, type CellFacts } from './analyze.ts';
import { argmin, downsampleIndices } from './downsample.ts';
import { axisEffects } from './axis-effects.ts';
import {
  augmentationLabel, cellLabel, setupDifferences, dataDescription, isNoRemedy, modelDescription, optimizerLabel, remedyWords,
} from '../grid/labels.ts';

const SUMMARY_FORMAT = 2;
/** Most points per curve in summary.json; the full histories stay in the store. */
export const MAX_CURVE_POINTS = 500;
/**
 * Curve points summary.json spends on all trials together, and on all cells' mean curves: a
 * large sweep draws each of its curves with fewer points (never fewer than MIN_CURVE_POINTS),
 * so the summary grows with trials by a few kilobytes each, not by whole histories.
 */
const TRIAL_CURVE_BUDGET = 250_000;
const CELL_CURVE_BUDGET = 500_000;
export const MIN_CURVE_POINTS = 50;
/** Trial results read from the store at once. */
const READ_CONCURRENCY = 32;
/** Bumped when what a cached cell holds changes, so that older cache entries are not reused. */
const CACHE_LAYOUT = 2;
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
 * whose stored trials are exactly those an earlier report summarised is taken from the cache
 * that report left (results are never rewritten), so a report after a few new trials re-reads
 * only their cells.
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
  const present = new Set((await store.list(trialsPrefix)).map(trialIdFromKey));
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
    if (!present.has(t.trialId)) return fold.add(t, undefined);
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
    const stored = trials.filter((t) => present.has(t.trialId)).map((t) => t.trialId);
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

/** What decides a cached cell: the trials stored for it, and everything else that shapes it. */
function cacheKey(trialIds: string[], shape: object): string {
  return createHash('sha256').update(JSON.stringify([SUMMARY_FORMAT, CACHE_LAYOUT, fitgridVersion, shape, trialIds])).digest('hex');
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

interface PendingCell { index: number; trials: Trial[]; results: TrialResult[]; arrived: number; totals: CellTotals }

/** What one cell's results add to the sweep's totals (kept with the cell in the cache). */
interface CellTotals {
  backends: string[];
  engines: string[];
  trainSeconds: number;
  firstStart: number | null;
  lastFinish: number | null;
  valCount?: number;
  trainCount?: number;
  problems: { key: string; reason: string }[];
}

/** A completed cell as the cache keeps it: the summary's cell before the sweep-wide pass, and what that pass needs. */
interface CachedCell { key: string; cell: CellSummary; facts: CellFacts; totals: CellTotals }

const noTotals = (): CellTotals => ({ backends: [], engines: [], trainSeconds: 0, firstStart: null, lastFinish: null, problems: [] });

/**
 * Trial results, added one at a time in any order, folded into per-cell summaries. A cell is
 * summarised and analysed as soon as its last trial arrives (stored, unreadable or missing)
 * and its results are dropped; what the sweep-wide analysis needs of it is kept as CellFacts.
 */
class SummaryFold {
  private readonly pending = new Map<string, PendingCell>();
  private readonly firstTrials: Trial[] = [];
  private readonly cells: (CellSummary | undefined)[] = [];
  private readonly facts: (CellFacts | undefined)[] = [];
  private readonly trialPoints: number;
  private readonly meanPoints: number;
  private classCount: number | undefined;
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
      this.pending.set(trials[0].cellId, { index, trials, results: [], arrived: 0, totals: noTotals() });
      this.firstTrials.push(trials[0]);
    });
    this.classCount = data?.classNames.length;
    const points = (budget: number, count: number) => Math.max(MIN_CURVE_POINTS, Math.min(MAX_CURVE_POINTS, Math.floor(budget / Math.max(1, count))));
    this.trialPoints = points(TRIAL_CURVE_BUDGET, manifest.trials.length);
    this.meanPoints = points(CELL_CURVE_BUDGET, groups.length);
  }

  /** One trial of the manifest and its result, or undefined when it is not stored (yet). */
  add(trial: Trial, result: TrialResult | undefined): void {
    const cell = this.pending.get(trial.cellId);
    if (!cell) return;
    if (result) cell.results.push(result);
    if (++cell.arrived === cell.trials.length) this.complete(cell);
  }

  /** A stored result that could not be read: named in the summary and counted as missing. */
  unreadable(trial: Trial, key: string, reason: string): void {
    this.pending.get(trial.cellId)?.totals.problems.push({ key, reason });
    this.onUnreadable?.(key, reason);
    this.add(trial, undefined);
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
  get curvePoints() { return { trial: this.trialPoints, mean: this.meanPoints, classes: this.classCount ?? null }; }

  private note(totals: CellTotals, r: TrialResult): void {
    if (!totals.backends.includes(r.backend)) totals.backends.push(r.backend);
    if (!totals.engines.includes(r.engine)) totals.engines.push(r.engine);
    totals.trainSeconds += r.seconds;
    const finished = Date.parse(r.finishedAt);
    if (Number.isFinite(finished)) {
      totals.lastFinish = Math.max(totals.lastFinish ?? -Infinity, finished);
      totals.firstStart = Math.min(totals.firstStart ?? Infinity, finished - r.seconds * 1000);
    }
    if (totals.valCount === undefined && r.valLabels?.length) totals.valCount = r.valLabels.length;
    if (this.classCount === undefined && r.valProba?.length) this.classCount = r.valProba[0].length;
  }

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
    this.pending.delete(pending.trials[0].cellId);
    // results arrive in any order: keep the manifest's (seed) order
    const byId = new Map(pending.results.map((r) => [r.trialId, r]));
    let results = pending.trials.map((t) => byId.get(t.trialId)).filter((r): r is TrialResult => r !== undefined);
    const points = this.cellPoints(results, pending.totals);
    results = results.filter((r) => !points.unreadable.has(r));
    for (const r of results) this.note(pending.totals, r);
    if (points.points) pending.totals.trainCount ??= points.points.train.length;
    const classCount = this.classCount ?? classNames(this.manifest.grid.data, results).length;
    const { cell, surface } = cellSummary(pending.trials, results, classCount, { trial: this.trialPoints, mean: this.meanPoints }, points.points);
    const facts = analyzeCell(cell, { trials: pending.trials, results }, this.manifest.grid, classCount);
    if (surface) {
      const shape = [surface.n, surface.n];
      const variance = facts.surfaceVariance;
      cell.surface = {
        ...surface,
        values: classCount <= 2 ? quantizedArray(surface.values, 1, shape) : encodeArray(Uint8Array.from(surface.values), shape),
        ...(variance ? { variance: quantizedArray(variance, Math.max(0, ...variance.filter(Number.isFinite)), shape) } : {}),
      };
    }
    delete facts.surfaceVariance;
    // before the sweep-wide pass adds to the cell: the cache keeps what its trials alone decide
    this.onComplete?.(pending.trials[0].cellId, { cell, facts, totals: pending.totals });
    this.cells[pending.index] = cell;
    this.facts[pending.index] = facts;
    this.merge(pending.totals);
  }

  /**
   * The training points a cell draws: those of its first ok result whose points decode. Stored
   * points are decoded on first read (see the codec), so a damaged array shows only here: such a
   * result is named and counted as missing, like one that cannot be read at all. Results after the
   * chosen one are never decoded.
   */
  private cellPoints(results: TrialResult[], totals: CellTotals): { points?: TrialResult['points']; unreadable: Set<TrialResult> } {
    const unreadable = new Set<TrialResult>();
    for (const r of results) {
      if (r.status !== 'ok') continue;
      try {
        const points = r.points;
        if (points) return { points, unreadable };
      } catch (error) {
        if (!(error instanceof ResultFormatError)) throw error;
        const key = trialKey(r.trialId);
        totals.problems.push({ key, reason: error.message });
        this.onUnreadable?.(key, error.message);
        unreadable.add(r);
      }
    }
    return { unreadable };
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

type RawSurface = Omit<NonNullable<CellSummary['surface']>, 'values' | 'variance'> & { values: number[] };

function cellSummary(trials: Trial[], results: TrialResult[], classCount: number, points: { trial: number; mean: number },
  trainingPoints: TrialResult['points']): { cell: CellSummary; surface?: RawSurface } {
  const first = trials[0];
  const ok = results.filter((r) => r.status === 'ok');
  // results come in the manifest's order (SummaryFold.complete)
  const trialSummaries = results.map((r) => trialSummary(r, points.trial));
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
  if (ok.length) cell.meanCurves = curves(meanHistory(ok.map((r) => r.history)), -1, points.mean);
  const surfaces = ok.filter((r) => r.surface);
  let surface: RawSurface | undefined;
  if (surfaces.length) {
    const s = surfaces[0].surface!;
    const binary = classCount <= 2;
    surface = {
      x0: s.x0, x1: s.x1, y0: s.y0, y1: s.y1, n: s.n,
      // p(class 1) averages; a predicted class index does not, so multi-class takes the mode
      values: binary ? meanOf(surfaces.map((r) => r.surface!.values)) : s.values.map((_, i) => mode(surfaces.map((r) => r.surface!.values[i]))),
    };
  }
  if (trainingPoints) {
    // stored as float32: six digits say all they hold, without float32's tail of decimals
    const round = (ps: [number, number, number][]) => ps.map(([x, y, label]) => [significant(x, 6), significant(y, 6), label] as [number, number, number]);
    cell.points = { train: round(trainingPoints.train), val: round(trainingPoints.val) };
  }
  if (classCount > 2 && ok.some((r) => r.valProba?.length)) cell.confusion = confusion(ok, classCount);
  if (isImageData(trials[0].config.data)) cell.mistakes = confidentMistakes(ok);
  return { cell, ...(surface ? { surface } : {}) };
}

function trialSummary(r: TrialResult, maxPoints: number): TrialSummary {
  const h = r.history;
  const best = argmin(h.val_loss);
  return {
    trialId: r.trialId, seed: r.seed, replicate: r.replicate, status: r.status,
    ...(r.error ? { error: r.error } : {}),
    engine: r.engine, backend: r.backend, device: r.device, seconds: r.seconds,
    bestEpoch: r.bestEpoch, stoppedEpoch: r.stoppedEpoch,
    final: r.final,
    best: best < 0 ? { val_loss: NaN, val_acc: NaN } : { val_loss: h.val_loss[best], val_acc: h.val_acc[best] },
    curves: curves(h, r.bestEpoch - 1, maxPoints),
  };
}

/** Downsamples a history to at most `max` points, keeping first, last, min val_loss and the best epoch. */
export function curves(h: History, bestIndex = -1, max = MAX_CURVE_POINTS): CurveSeries {
  const idx = downsampleIndices(h.val_loss.length, [argmin(h.val_loss), bestIndex], max);
  // Six significant digits: the site draws and prints them, the store keeps the full values.
  const pick = (xs: number[]) => idx.map((i) => significant(xs[i], 6));
  return { epoch: idx.map((i) => i + 1), loss: pick(h.loss), val_loss: pick(h.val_loss), acc: pick(h.acc), val_acc: pick(h.val_acc) };
}

/** Epoch-wise mean over the trials still running at that epoch (early-stopped trials drop out). */
export function meanHistory(hs: History[]): History {
  const at = (key: keyof History) => meanOf(hs.map((h) => h[key]));
  return { loss: at('loss'), val_loss: at('val_loss'), acc: at('acc'), val_acc: at('val_acc') };
}

/** Index-wise mean of arrays of any lengths, each index over the arrays long enough to have it. */
function meanOf(xs: readonly number[][]): number[] {
  const length = Math.max(0, ...xs.map((x) => x.length));
  const sums = new Float64Array(length);
  const counts = new Uint32Array(length);
  for (const x of xs) for (let i = 0; i < x.length; i++) { sums[i] += x[i]; counts[i] += 1; }
  return Array.from(sums, (v, i) => v / counts[i]);
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
  return classNamesOf(d, results.find((r) => r?.valProba?.length)?.valProba[0].length);
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

const significant = (x: number, digits: number) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
function mode(xs: number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}
