import type { CellSummary, Stat, SweepSummary } from './summary.ts';

/** The leaderboard's metric columns: key in a cell's stats, heading, format for the page script. */
export const METRICS = [
  ['val_loss', 'Validation loss', 'num'],
  ['val_acc', 'Validation accuracy', 'pct'],
  ['gap_loss', 'Gap: val − train loss', 'num'],
  ['gap_acc', 'Gap: train − val accuracy', 'pct'],
  ['bestEpoch', 'Kept epoch', 'int'],
  ['stoppedEpoch', 'Stopped epoch', 'int'],
] as const;

/** A number to `digits` significant digits for the page scripts, null when there is none. */
const round = (x: number | undefined, digits = 5) => (x !== undefined && Number.isFinite(x) ? Number(x.toPrecision(digits)) : null);
/** [mean, half-width of the 95% interval] (null when not finite), the n behind it. */
const pair = (st: Stat | undefined) => (st ? [round(st.mean), st.n > 1 ? round(st.ci[1] - st.mean) : 0, st.n] : [null, 0, 0]);

/**
 * One row per cell, as compact as the page script needs: what it sorts, filters, pages and
 * prints. Written once into data/cells.js, which the overview loads with a plain script tag
 * (a fetch() of JSON is refused from file://).
 */
export function leaderboardRows(s: SweepSummary) {
  return s.cells.map((c: CellSummary) => ({
    id: c.cellId,
    label: c.label,
    base: c.cellId === s.baselineCellId ? 1 : 0,
    axes: { l2: c.axes.l2, dropout: c.axes.dropout, augmentation: c.axes.augmentation, patience: c.axes.patience },
    m: Object.fromEntries(METRICS.map(([k]) => [k, pair(c.stats[k])])),
    effect: c.effect?.val_loss ? pair(c.effect.val_loss) : null,
    ok: c.counts.ok,
    n: c.trials.length + c.counts.missing,
    verdict: c.verdict?.label ?? null,
    reason: c.verdict?.reason ?? null,
  }));
}

/** Curve points per cell on the compare page: all of a small sweep's, fewer as cells multiply. */
const comparePoints = (cells: number) => Math.max(40, Math.min(200, Math.floor(100_000 / Math.max(1, cells))));
/**
 * Cells per curves file of the compare page (data/curves/<k>.js): the page loads only the files
 * of the cells picked, so opening it costs the same at 20 cells as at 20,000.
 */
const COMPARE_CHUNK = 100;

/** The cells the compare page can overlay (those with mean curves), in the summary's order. */
const comparable = (s: SweepSummary) => s.cells.filter((c) => c.meanCurves);

/**
 * What the compare page lists and searches without loading any curve: per cell its id, label,
 * mean validation loss (4 significant digits, null when none) and the curves file that holds it.
 */
export function compareIndex(s: SweepSummary): [string, string, number | null, number][] {
  return comparable(s).map((c, i) => [c.cellId, c.label, round(c.stats.val_loss.mean, 4), Math.floor(i / COMPARE_CHUNK)]);
}

/** The mean curves of the k-th COMPARE_CHUNK comparable cells, evenly thinned to comparePoints. */
export function compareChunk(s: SweepSummary, k: number) {
  const cells = comparable(s);
  const max = comparePoints(cells.length);
  return cells.slice(k * COMPARE_CHUNK, (k + 1) * COMPARE_CHUNK).map((c) => {
    const m = c.meanCurves!;
    const n = m.epoch.length;
    const idx = n <= max ? m.epoch.map((_, i) => i) : [...new Set(Array.from({ length: max }, (_, j) => Math.round((j * (n - 1)) / (max - 1))))];
    // four significant digits: a chart a few hundred pixels high shows no finer difference
    const pick = (xs: number[]) => idx.map((i) => round(xs[i], 4));
    return { id: c.cellId, label: c.label, epoch: idx.map((i) => m.epoch[i]), loss: pick(m.loss), val_loss: pick(m.val_loss), acc: pick(m.acc), val_acc: pick(m.val_acc) };
  });
}

export const compareChunkCount = (s: SweepSummary) => Math.ceil(comparable(s).length / COMPARE_CHUNK);
