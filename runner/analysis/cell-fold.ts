import type { Grid, Trial } from '../records/config.ts';
import type { TrialResult } from '../records/result.ts';
import type { CellSummary, Stat, TrialSummary } from '../records/summary.ts';
import { ResultFormatError } from '../records/result-codec.ts';
import { encodeArray, quantizedArray } from '../records/typed-array.ts';
import { trialKey } from '../store/keys.ts';
import { augmentationLabel, cellLabel, isNoRemedy } from '../grid/labels.ts';
import { ClassVotes, decomposeMoments, decomposeVotes, GroupedMoments, Moments, type Decomposition } from './bias-variance.ts';
import { curves, MeanHistory, significant } from './curves.ts';
import { argmin } from './downsample.ts';
import type { PairedTrial } from './effects.ts';
import { MistakeSums } from './gallery.ts';
import { isImageData } from './image-samples.ts';
import { ciOf, coefficientOfVariation, mean } from './stats.ts';
import { restOf, type CellDecomposition, type CellFacts } from './analyze.ts';

/** How many curve points the summary gives each trial and each cell mean, and how many trials of a cell keep theirs. */
export interface CurvePlan { trial: number; mean: number; trials: number }

/** What one cell's results add to the sweep's totals (kept with the cell in the cache). */
export interface CellTotals {
  backends: string[];
  engines: string[];
  trainSeconds: number;
  firstStart: number | null;
  lastFinish: number | null;
  valCount?: number;
  trainCount?: number;
  problems: { key: string; reason: string }[];
}

const noTotals = (): CellTotals => ({ backends: [], engines: [], trainSeconds: 0, firstStart: null, lastFinish: null, problems: [] });


/**
 * One cell's results folded one at a time, in the manifest's (seed) order, into everything the
 * summary and the analysis need of them: per-trial rows, running means and moments of curves,
 * surfaces and predictions, vote counts. Nothing of a result is kept once it is added, so a cell
 * costs the same memory with 5 seeds or 50,000. Adding in a fixed order keeps every sum, and so
 * summary.json, the same from run to run.
 */
export class CellFold {
  readonly totals = noTotals();
  private readonly summaries: TrialSummary[] = [];
  private drawn = 0;
  private classes?: number;
  private readonly history = new MeanHistory();
  private points?: TrialResult['points'];
  private surface?: { extent: { x0: number; x1: number; y0: number; y1: number; n: number }; length: number; moments?: Moments; votes?: ClassVotes };
  private confusion?: number[][];
  private readonly mistakes?: MistakeSums;
  private predictions?: { labels: number[]; classes: number; votes: ClassVotes; moments: Moments; split?: GroupedMoments; seeds: Set<number>; samples: Set<number | null> };
  private readonly paired: PairedTrial[] = [];
  private readonly rises: number[] = [];
  private readonly bySeed = new Map<number, number[]>();

  /**
   * `classes`: the sweep's class count when the data say it; otherwise the first result with
   * validation probabilities says it, and `fallbackClasses` holds while none has.
   */
  constructor(readonly trials: Trial[], private readonly options: { grid: Grid; plan: CurvePlan; classes?: number; fallbackClasses: number; onUnreadable?: (key: string, reason: string) => void }) {
    this.classes = options.classes;
    if (isImageData(trials[0].config.data)) this.mistakes = new MistakeSums();
  }

  /** The class count this cell's results showed (undefined while none had probabilities). */
  get classesSeen(): number | undefined { return this.classes; }

  /**
   * One stored result, in the manifest's order. False when it turns out unreadable (its training
   * points do not decode): it is named, and the cell counts it as missing.
   */
  add(r: TrialResult): boolean {
    if (r.status === 'ok' && !this.points) {
      try {
        // the cell draws the points of its first ok result whose points decode; later ones are never decoded
        this.points = r.points;
      } catch (error) {
        if (!(error instanceof ResultFormatError)) throw error;
        const key = trialKey(r.trialId);
        this.totals.problems.push({ key, reason: error.message });
        this.options.onUnreadable?.(key, error.message);
        return false;
      }
      if (this.points) this.totals.trainCount ??= this.points.train.length;
    }
    this.note(r);
    const keepCurves = r.status === 'ok' && this.drawn < this.options.plan.trials;
    if (keepCurves) this.drawn++;
    this.summaries.push(trialSummary(r, keepCurves ? this.options.plan.trial : 0));
    if (r.status !== 'ok') return true;
    this.history.add(r.history);
    const bestValLoss = Math.min(...r.history.val_loss);
    this.paired.push({
      seed: r.seed, replicate: r.replicate,
      metrics: {
        val_loss: r.final.val_loss, val_acc: r.final.val_acc, best_val_loss: bestValLoss,
        gap_loss: r.final.val_loss - r.final.loss, gap_acc: r.final.acc - r.final.val_acc,
      },
    });
    this.addSurface(r);
    this.mistakes?.add(r);
    if (r.valProba?.length) this.addConfusion(r);
    if (r.valProba?.length === r.valLabels?.length && r.valLabels.length > 0) this.addPredictions(r, bestValLoss);
    return true;
  }

  private note(r: TrialResult): void {
    const t = this.totals;
    if (!t.backends.includes(r.backend)) t.backends.push(r.backend);
    if (!t.engines.includes(r.engine)) t.engines.push(r.engine);
    t.trainSeconds += r.seconds;
    const finished = Date.parse(r.finishedAt);
    if (Number.isFinite(finished)) {
      t.lastFinish = Math.max(t.lastFinish ?? -Infinity, finished);
      t.firstStart = Math.min(t.firstStart ?? Infinity, finished - r.seconds * 1000);
    }
    if (t.valCount === undefined && r.valLabels?.length) t.valCount = r.valLabels.length;
    if (this.classes === undefined && r.valProba?.length) this.classes = r.valProba[0].length;
  }

  private classCount(): number {
    return this.classes ?? this.options.fallbackClasses;
  }

  /** Binary surfaces hold p(class 1): their mean and variance; multi-class ones a class: its mode and 0-1 variance. */
  private addSurface(r: TrialResult): void {
    const s = r.surface;
    if (!s) return;
    if (!this.surface) {
      const binary = this.classCount() <= 2;
      this.surface = {
        extent: { x0: s.x0, x1: s.x1, y0: s.y0, y1: s.y1, n: s.n }, length: s.values.length,
        ...(binary ? { moments: new Moments(s.values.length) } : { votes: new ClassVotes(s.values.length, this.classCount()) }),
      };
    }
    const { length, moments, votes } = this.surface;
    if (s.values.length !== length) return;
    if (moments) moments.add(s.values);
    else if (votes && s.values.every((c) => Number.isInteger(c) && c >= 0 && c < votes.classes)) votes.add(s.values);
  }

  /** Validation confusion counts, multi-class only: rows = true class, columns = predicted. */
  private addConfusion(r: TrialResult): void {
    const classes = this.classCount();
    if (classes <= 2) return;
    const m = (this.confusion ??= Array.from({ length: classes }, () => new Array<number>(classes).fill(0)));
    r.valLabels.forEach((y, i) => {
      const p = r.valProba[i];
      const predicted = p.indexOf(Math.max(...p));
      if (m[y] && predicted < classes) m[y][predicted]++;
    });
  }

  /**
   * A finished trial's validation predictions into the decomposition (replicates = the cell's
   * finished trials with predictions for the first one's points), the verdict's inputs with them.
   */
  private addPredictions(r: TrialResult, bestValLoss: number): void {
    this.rises.push(r.final.val_loss - bestValLoss);
    const seedLosses = this.bySeed.get(r.seed);
    if (seedLosses) seedLosses.push(r.final.val_loss);
    else this.bySeed.set(r.seed, [r.final.val_loss]);
    if (!this.predictions) {
      const points = r.valLabels.length, classes = r.valProba[0].length;
      this.predictions = {
        labels: r.valLabels, classes, votes: new ClassVotes(points, classes), moments: new Moments(points),
        ...(this.options.grid.bootstrap > 0 ? { split: new GroupedMoments(points) } : {}), seeds: new Set(), samples: new Set(),
      };
    }
    const p = this.predictions;
    if (r.valLabels.length !== p.labels.length || r.valProba.some((row) => row.length !== p.classes)) return;
    // class predictions are argmax, ties to the lowest class
    p.votes.add(r.valProba.map((row) => row.indexOf(Math.max(...row))));
    const trueClass = r.valProba.map((row, j) => row[p.labels[j]]);
    p.moments.add(trueClass);
    p.split?.add(r.replicate ?? -1, trueClass);
    p.seeds.add(r.seed);
    p.samples.add(r.replicate);
  }

  /** The cell's summary (before the sweep-wide pass) and what the sweep-wide analysis needs of it. */
  finish(): { cell: CellSummary; facts: CellFacts } {
    const first = this.trials[0];
    const ok = this.summaries.filter((t) => t.status === 'ok');
    const stat = (f: (t: TrialSummary) => number): Stat => ciOf(ok.map(f));
    const cell: CellSummary = {
      cellId: first.cellId,
      label: cellLabel(first.config),
      axes: {
        l2: first.config.l2, dropout: first.config.dropout,
        augmentation: augmentationLabel(first.config.augmentation), patience: first.config.patience,
      },
      trials: this.summaries,
      counts: {
        ok: ok.length,
        diverged: this.summaries.filter((t) => t.status === 'diverged').length,
        failed: this.summaries.filter((t) => t.status === 'failed').length,
        missing: this.trials.length - this.summaries.length,
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
    if (ok.length) cell.meanCurves = curves(this.history.mean(), -1, this.options.plan.mean);
    if (this.points) {
      // stored as float32: six digits say all they hold, without float32's tail of decimals
      const round = (ps: [number, number, number][]) => ps.map(([x, y, label]) => [significant(x, 6), significant(y, 6), label] as [number, number, number]);
      cell.points = { train: round(this.points.train), val: round(this.points.val) };
    }
    if (this.confusion) cell.confusion = this.confusion;
    if (this.mistakes) cell.mistakes = this.mistakes.mistakes();
    const d = this.decomposition();
    if (d && d.replicates > 1) cell.biasVariance = { zeroOne: d.zeroOne, mse: d.mse, ...d.split };
    const surface = this.encodedSurface();
    if (surface) cell.surface = surface;
    const facts: CellFacts = {
      ...(d ? { decomposition: d } : {}),
      paired: this.paired,
      valLossRise: mean(this.rises),
      seedCv: coefficientOfVariation([...this.bySeed.values()].map(mean)),
      setup: restOf(first.config),
      noRemedy: isNoRemedy(first.config),
    };
    return { cell, facts };
  }

  private decomposition(): CellDecomposition | undefined {
    const p = this.predictions;
    if (!p?.votes.replicates) return undefined;
    const means = ({ perPoint: _p, ...rest }: Decomposition) => rest;
    const result: CellDecomposition = {
      replicates: p.votes.replicates,
      zeroOne: means(decomposeVotes(p.votes, p.labels)),
      mse: means(decomposeMoments(p.moments, p.labels.map(() => 1))),
    };
    if (p.split && p.seeds.size > 1 && p.samples.size > 1) {
      const { data, seed } = p.split.split();
      result.split = { dataVariance: data, seedVariance: seed };
    }
    return result;
  }

  /**
   * The mean surface (binary: p(class 1), 8 bits; multi-class: the mode class) and, with two or
   * more surfaces, where the seeds disagree, scaled to its own maximum.
   */
  private encodedSurface(): CellSummary['surface'] {
    const s = this.surface;
    if (!s) return undefined;
    const shape = [s.extent.n, s.extent.n];
    const { moments, votes } = s;
    const modes = votes && Uint8Array.from({ length: s.length }, (_, j) => votes.main(j));
    const values = moments ? quantizedArray(Array.from(moments.mean), 1, shape) : encodeArray(modes!, shape);
    // how much the seeds disagree at each point, with two or more surfaces of the same size
    const replicates = moments?.replicates ?? votes?.replicates ?? 0;
    const at = (j: number) => (moments ? moments.variance(j) : votes!.off(j, modes![j]));
    // display-only: six decimals halve its share of summary.json and change no contour
    const variance = replicates < 2 ? undefined : Array.from({ length: s.length }, (_, j) => Math.round(at(j) * 1e6) / 1e6);
    return { ...s.extent, values, ...(variance ? { variance: quantizedArray(variance, Math.max(0, ...variance.filter(Number.isFinite)), shape) } : {}) };
  }
}

/** `maxPoints` 0: without curves (the cell keeps those of its first few finished trials only). */
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
    ...(maxPoints > 0 ? { curves: curves(h, r.bestEpoch - 1, maxPoints) } : {}),
  };
}
