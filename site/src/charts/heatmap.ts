import type { Stat, SweepSummary } from '../lib/summary.ts';
import { Plot, render } from './plot.ts';
import type { ColorScheme } from '@observablehq/plot';

const dropoutText = (d: number | number[]) => (Array.isArray(d) ? `[${d.join(', ')}]` : String(d));
const patienceText = (p: number | null) => (p === null ? 'no early stopping' : `patience ${p}`);

/** Up to this many cells a square prints its mean and its 95% interval; beyond, the mean. */
export const SQUARE_INTERVALS_UP_TO = 1000;

/**
 * A metric across l2 (rows) × dropout (columns), faceted by augmentation × patience; each square
 * shows the mean and, with more than one seed, the 95% interval's half-width.
 */
export function heatmap(s: SweepSummary, pick: (st: SweepSummary['cells'][number]['stats']) => Stat, label: string, scheme: ColorScheme = 'cividis'): string {
  // thousands of squares: each shows its mean only (the interval stays in its tooltip), which
  // keeps the page light enough for a browser to open quickly
  const intervals = s.cells.length <= SQUARE_INTERVALS_UP_TO;
  const data = s.cells.map((c) => {
    const st = pick(c.stats);
    const ok = st && Number.isFinite(st.mean);
    const half = ok && st.n > 1 && Number.isFinite(st.ci?.[1]) ? st.ci[1] - st.mean : 0;
    return {
      l2: String(c.axes.l2), dropout: dropoutText(c.axes.dropout), augmentation: c.axes.augmentation,
      patience: patienceText(c.axes.patience), mean: ok ? st.mean : NaN,
      text: ok ? (half > 0 && intervals ? `${st.mean.toPrecision(3)}\n±${half.toPrecision(2)}` : st.mean.toPrecision(3)) : 'no data',
      title: `${c.label}\n${label}: ${ok ? st.mean.toPrecision(4) : 'no finished trials'}${half > 0 ? ` (95% CI ±${half.toPrecision(3)}, ${st.n} seeds)` : ''}`,
    };
  });
  // text colour by the square's lightness: cividis is dark at the low end
  const means = data.map((d) => d.mean).filter(Number.isFinite);
  const [lo, hi] = [Math.min(...means), Math.max(...means)];
  const ink = (d: { mean: number }) => (Number.isFinite(d.mean) && (hi === lo || (d.mean - lo) / (hi - lo) < 0.55) ? 'white' : 'black');
  // enough significant digits for the legend's thresholds to differ even when the range is narrow
  const digits = hi > lo ? Math.min(8, Math.max(3, Math.ceil(Math.log10(Math.max(Math.abs(hi), Math.abs(lo)) / (hi - lo))) + 2)) : 3;
  const aug = s.axes.augmentation.length ? s.axes.augmentation : [...new Set(data.map((d) => d.augmentation))];
  const pat = (s.axes.patience.length ? s.axes.patience : [...new Set(s.cells.map((c) => c.axes.patience))]).map(patienceText);
  const columns = Math.max(1, s.axes.dropout.length) * aug.length;
  return render({
    width: Math.max(320, 90 * columns + 140), height: Math.max(160, 52 * Math.max(1, s.axes.l2.length) * pat.length + 80),
    marginLeft: 70, marginRight: 110, marginTop: 40, marginBottom: 40,
    x: { label: 'Dropout rate', domain: s.axes.dropout.map(dropoutText) },
    y: { label: 'L2 coefficient', domain: s.axes.l2.map(String) },
    fx: { label: 'Augmentation', domain: aug },
    fy: { label: null, domain: pat },
    // quantized: a continuous ramp legend needs a canvas, which build-time rendering has not got
    color: { type: 'quantize', n: 5, scheme, label, legend: true, width: 380, tickFormat: `.${digits}~g` } as Plot.ScaleOptions,
    marks: [
      Plot.cell(data, { x: 'dropout', y: 'l2', fx: 'augmentation', fy: 'patience', fill: 'mean', inset: 1, title: 'title' }),
      Plot.text(data, { x: 'dropout', y: 'l2', fx: 'augmentation', fy: 'patience', text: 'text', fill: ink, fontSize: 10, lineHeight: 1.1 }),
    ],
  });
}
