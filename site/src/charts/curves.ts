import type { CellSummary, CurveSeries, TrialSummary } from '../lib/summary.ts';
import { Plot, render, trainColor, valColor } from './plot.ts';
import { lineChart, type Dot, type Series } from './svg.ts';

export type Metric = 'loss' | 'acc';
interface Row { epoch: number; value: number; trial: string }

const rows = (c: CurveSeries, key: keyof CurveSeries, trial: string): Row[] =>
  c.epoch.map((epoch, i) => ({ epoch, value: c[key][i], trial })).filter((r) => Number.isFinite(r.value));

type Drawn = TrialSummary & { curves: CurveSeries };
/** The finished trials whose curves the summary kept (a large sweep keeps a cell's first few). */
const drawn = (cell: CellSummary): Drawn[] => cell.trials.filter((t): t is Drawn => t.status === 'ok' && t.curves !== undefined);

/** Says which seeds the thin lines are when the summary kept the curves of only some of them. */
export function drawnSeedsNote(cell: CellSummary): string {
  const n = drawn(cell).length;
  return n < cell.counts.ok ? `Thin lines: the first ${n > 1 ? `${n} ` : ''}of the cell's ${cell.counts.ok} finished seeds (the summary keeps the curves of a few seeds per cell); the mean is over all of them.` : '';
}

const metricLabel = (m: Metric) => (m === 'loss' ? 'Loss (cross-entropy)' : 'Accuracy');

/**
 * One cell's learning curves: every seed thin, the mean bold, training dashed blue and validation
 * solid vermillion, each seed's kept (best) epoch as a dot on its validation curve.
 */
export function cellCurves(cell: CellSummary, metric: Metric, o: { yDomain?: [number, number]; xDomain?: [number, number]; width?: number; height?: number } = {}): string {
  const ok = drawn(cell);
  const train = ok.flatMap((t) => rows(t.curves, metric, t.trialId));
  const val = ok.flatMap((t) => rows(t.curves, `val_${metric}`, t.trialId));
  const mean = cell.meanCurves;
  const best = ok.map((t) => {
    const i = t.curves.epoch.indexOf(t.bestEpoch);
    return { epoch: t.bestEpoch, value: i < 0 ? NaN : t.curves[`val_${metric}`][i], seed: t.seed };
  }).filter((d) => Number.isFinite(d.value));
  return render({
    width: o.width ?? 300, height: o.height ?? 190, marginLeft: 44,
    x: { label: 'Epoch', domain: o.xDomain },
    y: { label: metricLabel(metric), domain: o.yDomain, grid: true },
    marks: [
      Plot.line(train, { x: 'epoch', y: 'value', z: 'trial', stroke: trainColor, strokeWidth: 0.8, strokeOpacity: 0.45, strokeDasharray: '3,2' }),
      Plot.line(val, { x: 'epoch', y: 'value', z: 'trial', stroke: valColor, strokeWidth: 0.8, strokeOpacity: 0.45 }),
      ...(mean ? [
        Plot.line(rows(mean, metric, 'mean'), { x: 'epoch', y: 'value', stroke: trainColor, strokeWidth: 2.2, strokeDasharray: '5,3', title: () => 'training, mean over seeds' }),
        Plot.line(rows(mean, `val_${metric}`, 'mean'), { x: 'epoch', y: 'value', stroke: valColor, strokeWidth: 2.2, title: () => 'validation, mean over seeds' }),
      ] : []),
      Plot.dot(best, { x: 'epoch', y: 'value', r: 3.5, fill: 'white', stroke: 'black', strokeWidth: 1.2, title: (d: { epoch: number; value: number; seed: number }) => `seed ${d.seed}: kept epoch ${d.epoch}, validation ${d.value.toPrecision(3)}` }),
    ],
  });
}

/** Where a mean validation-loss curve ends well above its minimum: the article's overfitting picture. */
export function risesAfterMinimum(cell: CellSummary, tolerance = 0.1): { epoch: number; min: number; last: number } | undefined {
  const c = cell.meanCurves;
  if (!c || c.val_loss.length < 3) return undefined;
  let i = 0;
  c.val_loss.forEach((v, k) => { if (v < c.val_loss[i]) i = k; });
  const last = c.val_loss.at(-1)!;
  return last > c.val_loss[i] * (1 + tolerance) ? { epoch: c.epoch[i], min: c.val_loss[i], last } : undefined;
}

/** The y extent of a metric over every cell, so small multiples share one scale. */
export function extent(cells: CellSummary[], metric: Metric): [number, number] {
  let lo = Infinity, hi = -Infinity;
  const series = (c: CurveSeries) => [c[metric], c[`val_${metric}`]];
  for (const c of cells) {
    for (const xs of [...drawn(c).flatMap((t) => series(t.curves)), ...(c.meanCurves ? series(c.meanCurves) : [])]) {
      for (const v of xs) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
  }
  return lo <= hi ? [Math.min(0, lo), metric === 'acc' ? Math.max(1, hi) : hi] : [0, 1];
}

export function epochExtent(cells: CellSummary[]): [number, number] {
  const last = Math.max(1, ...cells.flatMap((c) => [...drawn(c).map((t) => t.curves), ...(c.meanCurves ? [c.meanCurves] : [])].map((k) => k.epoch.at(-1) ?? 1)));
  return [1, last];
}

/**
 * cellCurves drawn as plain SVG text, for the page of every cell: the same lines, colours and
 * kept-epoch dots, at a small fraction of the cost (a sweep has thousands of these pages).
 */
export function cellCurvesLight(cell: CellSummary, metric: Metric, o: { yDomain?: [number, number]; xDomain?: [number, number]; width?: number; height?: number } = {}): string {
  const ok = drawn(cell);
  const pts = (c: CurveSeries, key: keyof CurveSeries) => c.epoch.map((e, i) => [e, c[key][i]] as [number, number]);
  const series: Series[] = ok.flatMap((t) => [
    { points: pts(t.curves, metric), stroke: trainColor, width: 0.8, opacity: 0.45, dash: '3,2', title: `seed ${t.seed}, training` },
    { points: pts(t.curves, `val_${metric}`), stroke: valColor, width: 0.8, opacity: 0.45, title: `seed ${t.seed}, validation` },
  ]);
  const mean = cell.meanCurves;
  if (mean) {
    series.push({ points: pts(mean, metric), stroke: trainColor, width: 2.2, dash: '5,3', title: 'training, mean over seeds' });
    series.push({ points: pts(mean, `val_${metric}`), stroke: valColor, width: 2.2, title: 'validation, mean over seeds' });
  }
  const dots: Dot[] = ok.map((t) => {
    const i = t.curves.epoch.indexOf(t.bestEpoch);
    const value = i < 0 ? NaN : t.curves[`val_${metric}`][i];
    return { x: t.bestEpoch, y: value, title: `seed ${t.seed}: kept epoch ${t.bestEpoch}, validation ${Number.isFinite(value) ? value.toPrecision(3) : '—'}` };
  });
  return lineChart({
    series, dots, width: o.width, height: o.height, label: `${metricLabel(metric)} by epoch`,
    xDomain: o.xDomain ?? epochExtent([cell]), yDomain: o.yDomain ?? extent([cell], metric),
    xLabel: 'Epoch', yLabel: metricLabel(metric),
  });
}

/** The line styles of every learning-curve chart, explained once per page. */
export const curveKey = () => `<div class="key" aria-label="How to read the curves">`
  + `<span><svg width="34" height="8"><line x1="0" y1="4" x2="34" y2="4" stroke="${trainColor}" stroke-width="2.2" stroke-dasharray="5,3" /></svg> training (dashed)</span>`
  + `<span><svg width="34" height="8"><line x1="0" y1="4" x2="34" y2="4" stroke="${valColor}" stroke-width="2.2" /></svg> validation (solid)</span>`
  + `<span>thin lines: each seed · bold lines: mean over seeds</span>`
  + `<span><svg width="10" height="10"><circle cx="5" cy="5" r="3.5" fill="white" stroke="black" stroke-width="1.2" /></svg> epoch whose weights were kept</span>`
  + `</div>`;
