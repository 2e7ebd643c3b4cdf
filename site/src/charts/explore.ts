import type { AxisAnalysis } from '../../../runner/records/summary.ts';
import type { CellSummary, SweepSummary } from '../lib/summary.ts';
import { axes as frame, esc, linear, open, ticks } from './svg.ts';
import { okabeIto } from './plot.ts';

const AXIS_TITLES = { l2: 'L2', dropout: 'Dropout', augmentation: 'Augmentation', patience: 'Early stopping' } as const;
const valueText = (json: string) => {
  const v = JSON.parse(json) as unknown;
  return v === null ? 'none' : Array.isArray(v) ? v.join(', ') : String(v);
};

/** Cividis-like ramp from dark blue (low) to yellow (high), for a value in [0, 1]. */
function cividis(t: number): string {
  const stops = [[0, 34, 78], [65, 77, 107], [124, 123, 120], [188, 175, 111], [254, 232, 56]];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return `rgb(${stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c))).join(',')})`;
}

/**
 * Parallel coordinates: one vertical axis per remedy with more than one value (its values evenly
 * spaced, in grid order), then validation loss and the gap; one line per cell, coloured by its
 * validation loss (dark is low), the baseline in vermillion and the best cell in green. Each axis
 * carries a focusable strip (`rect.brush-area`) that the explore page's script turns into a brush:
 * `data-values` (remedy axes: [y, value] pairs) or `data-lo`/`data-hi` (metrics: the values at
 * the bottom and top) say what a stretch of it means.
 */
export function parallelCoordinates(s: SweepSummary, width = 960, height = 420): string {
  const remedy = (['l2', 'dropout', 'augmentation', 'patience'] as const).filter((a) => s.axes[a].length > 1);
  const cells = s.cells.filter((c) => Number.isFinite(c.stats.val_loss.mean));
  const metrics = [['val_loss', 'Validation loss'], ['gap_loss', 'Gap: val − train loss']] as const;
  const columns = [...remedy.map((a) => AXIS_TITLES[a]), ...metrics.map(([, t]) => t)];
  const left = 70, right = width - 70, top = 40, bottom = height - 30;
  const xAt = (k: number) => left + (columns.length > 1 ? (k * (right - left)) / (columns.length - 1) : 0);
  type Axis = { ticks: (readonly [number, string])[]; at: (c: CellSummary) => number; meaning: string };
  const ys: Axis[] = [
    ...remedy.map((a) => {
      const values = (s.axes[a] as unknown[]).map((v) => JSON.stringify(v));
      const yOf = (i: number) => bottom - (values.length > 1 ? (i * (bottom - top)) / (values.length - 1) : 0);
      const ticks = values.map((v, i) => [yOf(i), valueText(v)] as const);
      return { ticks, at: (c: CellSummary) => yOf(values.indexOf(JSON.stringify(c.axes[a]))), meaning: `data-values="${esc(JSON.stringify(ticks.map(([y, v]) => [Number(y.toFixed(1)), v])))}"` };
    }),
    ...metrics.map(([m]) => {
      const v = cells.map((c) => c.stats[m].mean);
      const lo = Math.min(...v), hi = Math.max(...v);
      const y = linear([lo, hi], [bottom, top]);
      return { ticks: ticks(lo, hi, 5).map((t) => [y(t), String(t)] as const), at: (c: CellSummary) => y(c.stats[m].mean), meaning: `data-lo="${y.domain[0]}" data-hi="${y.domain[1]}"` };
    }),
  ];
  const losses = cells.map((c) => c.stats.val_loss.mean);
  const [lo, hi] = [Math.min(...losses), Math.max(...losses)];
  const best = cells.reduce<CellSummary | undefined>((b, c) => (!b || c.stats.val_loss.mean < b.stats.val_loss.mean ? c : b), undefined);
  // the highlighted lines last, so they are drawn on top
  const ordered = [...cells].sort((a, b) => Number(a === best || a.cellId === s.baselineCellId) - Number(b === best || b.cellId === s.baselineCellId) || b.stats.val_loss.mean - a.stats.val_loss.mean);
  const lines = ordered.map((c) => {
    const d = ys.map((axis, k) => `${k ? 'L' : 'M'}${xAt(k).toFixed(1)},${axis.at(c).toFixed(1)}`).join('');
    const special = c === best ? okabeIto[2] : c.cellId === s.baselineCellId ? okabeIto[1] : undefined;
    const stroke = special ?? cividis(hi > lo ? (c.stats.val_loss.mean - lo) / (hi - lo) : 0);
    return `<path d="${d}" stroke="${stroke}" stroke-width="${special ? 2.5 : 1}" stroke-opacity="${special ? 1 : 0.55}" data-cell="${c.cellId}"><title>${esc(c.label)}: validation loss ${c.stats.val_loss.mean.toPrecision(3)}</title></path>`;
  }).join('');
  const axisMarks = ys.map((axis, k) => {
    const x = xAt(k);
    const labels = axis.ticks.map(([y, t]) => `<text x="${x - 6}" y="${y.toFixed(1)}" dy="0.32em" text-anchor="end" stroke="white" stroke-width="3" paint-order="stroke">${esc(t)}</text>`).join('');
    return `<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="currentColor"/><text x="${x}" y="${top - 14}" text-anchor="middle" font-weight="600">${esc(columns[k])}</text>${labels}`;
  }).join('');
  // a strip a little longer than its axis, so that a drag can start on the end values
  const brushes = ys.map((axis, k) => `<rect class="brush-area" data-axis="${k}" data-name="${esc(columns[k])}" ${axis.meaning} x="${xAt(k) - 12}" y="${top - 8}" width="24" height="${bottom - top + 16}" fill="transparent" tabindex="0" aria-label="${esc(columns[k])}: drag along the axis to keep the cells in a range; arrow keys move a range, Shift+arrows resize it, Escape clears"/>`).join('');
  return `${open(width, height, 'Parallel coordinates of the cells')}<g fill="none" aria-label="cells">${lines}</g><g aria-label="axes">${axisMarks}</g><g aria-label="brushes" data-top="${top}" data-bottom="${bottom}">${brushes}</g></svg>`;
}

/** Horizontal bars: each axis' share of the variation across cells, and the interactions' rest. */
export function importanceBars(a: AxisAnalysis, width = 420): string {
  const rows = [...a.axes.map((x) => [AXIS_TITLES[x.axis], x.share] as const), ['interactions', a.interactions] as const];
  const height = 30 + rows.length * 26;
  const x = linear([0, 1], [110, width - 50]);
  const bars = rows.map(([name, share], i) => {
    const y = 14 + i * 26;
    return `<text x="104" y="${y + 10}" dy="0.32em" text-anchor="end">${esc(name)}</text><rect x="${x(0)}" y="${y}" width="${Math.max(0, x(share) - x(0)).toFixed(1)}" height="20" fill="${name === 'interactions' ? '#9ca3af' : okabeIto[0]}"><title>${esc(name)}: ${(100 * share).toFixed(1)}% of the variance across cells</title></rect><text x="${(x(share) + 4).toFixed(1)}" y="${y + 10}" dy="0.32em">${(100 * share).toFixed(0)}%</text>`;
  }).join('');
  return `${open(width, height, 'Share of variation explained per axis')}<g aria-label="bar">${bars}</g></svg>`;
}

/**
 * One axis: each value's paired effect on the metric against the axis' first value (a dot and
 * its 95% interval), with a zero line; values top to bottom in grid order.
 */
export function effectPlot(a: AxisAnalysis['axes'][number], metric: string, width = 420): string {
  const rows = a.values.filter((v) => v.effect.n > 0);
  const height = 50 + rows.length * 24;
  const ends = rows.flatMap((v) => [v.effect.ci[0], v.effect.ci[1], v.effect.mean]).filter(Number.isFinite);
  const lo = Math.min(0, ...ends), hi = Math.max(0, ...ends);
  const pad = (hi - lo) * 0.05 || 0.01;
  const x = linear([lo - pad, hi + pad], [110, width - 20]);
  const y = linear([0, Math.max(1, rows.length)], [20, height - 30]);
  const marks = rows.map((v, i) => {
    const cy = (y(i) + y(i + 1)) / 2;
    const [l, h] = v.effect.ci;
    const title = `${AXIS_TITLES[a.axis]} ${valueText(v.value)}: ${v.effect.mean >= 0 ? '+' : ''}${v.effect.mean.toPrecision(3)} (95% CI ${l.toPrecision(3)} to ${h.toPrecision(3)}) over ${v.effect.n} paired cells`;
    return `<text x="104" y="${cy.toFixed(1)}" dy="0.32em" text-anchor="end">${esc(valueText(v.value))}</text><line x1="${x(l).toFixed(1)}" x2="${x(h).toFixed(1)}" y1="${cy.toFixed(1)}" y2="${cy.toFixed(1)}" stroke="${okabeIto[0]}" stroke-width="2"/><circle cx="${x(v.effect.mean).toFixed(1)}" cy="${cy.toFixed(1)}" r="4" fill="${okabeIto[0]}"><title>${esc(title)}</title></circle>`;
  }).join('');
  const zero = `<line x1="${x(0).toFixed(1)}" x2="${x(0).toFixed(1)}" y1="16" y2="${height - 30}" stroke="currentColor" stroke-dasharray="3,2"/>`;
  const axis = frame({ width, height, x, y: linear([0, 1], [height - 30, 16]), xLabel: `Δ ${metric} vs ${valueText(a.values[0].value)}`, yLabel: '', yTicks: false });
  return `${open(width, height, `Effect of ${AXIS_TITLES[a.axis]} on ${metric}`)}${axis}${zero}<g aria-label="effect">${marks}</g></svg>`;
}

export const axisTitle = (axis: keyof typeof AXIS_TITLES) => AXIS_TITLES[axis];
