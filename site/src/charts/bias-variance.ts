import type { CellSummary } from '../lib/summary.ts';
import { okabeIto, Plot, render } from './plot.ts';
import { esc, lineChart } from './svg.ts';

/** Up to this many cells the chart marks each cell (a dot with its numbers); beyond, lines only. */
const TRADE_OFF_DOTS_UP_TO = 60;

/** The article's trade-off picture: loss, bias and variance per cell, weakest regularisation left. */
export function tradeOff(cells: CellSummary[], kind: 'mse' | 'zeroOne'): string {
  const parts = [['loss', 'Expected loss'], ['bias', kind === 'mse' ? 'Bias²' : 'Bias'], ['variance', 'Variance']] as const;
  if (cells.length > TRADE_OFF_DOTS_UP_TO) return tradeOffLines(cells, kind, parts);
  const data = cells.flatMap((c, order) => {
    const bv = c.biasVariance?.[kind];
    return bv ? parts.map(([key, name]) => ({ order, cell: c.label, part: name, value: bv[key] })) : [];
  });
  return render({
    width: Math.max(420, 46 * cells.length + 120), height: 300, marginBottom: 40, marginRight: 120,
    x: { label: 'Cells, from the weakest to the strongest regularisation →', tickFormat: (i: number) => String(i + 1), ticks: cells.map((_, i) => i) },
    y: { label: kind === 'mse' ? 'Squared loss on probabilities' : '0-1 loss', grid: true },
    color: { domain: parts.map((p) => p[1]), range: [okabeIto[7], okabeIto[0], okabeIto[1]], legend: true },
    marks: [
      Plot.line(data, { x: 'order', y: 'value', stroke: 'part', strokeWidth: 2 }),
      Plot.dot(data, { x: 'order', y: 'value', fill: 'part', r: 3, title: (d: { cell: string; part: string; value: number }) => `${d.cell}\n${d.part}: ${d.value.toPrecision(3)}` }),
    ],
  });
}

/**
 * tradeOff for thousands of cells: a chart of fixed width with one line per part over the cells'
 * rank (a dot per cell would make it a hundred thousand pixels wide), and its key.
 */
function tradeOffLines(cells: CellSummary[], kind: 'mse' | 'zeroOne', parts: readonly (readonly [string, string])[]): string {
  const colours = [okabeIto[7], okabeIto[0], okabeIto[1]];
  const series = parts.map(([key, name], k) => ({
    points: cells.map((c, i) => [i + 1, (c.biasVariance?.[kind] as Record<string, number> | undefined)?.[key] ?? NaN] as [number, number]),
    stroke: colours[k], width: 1.2, title: name,
  }));
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const key = parts.map(([, name], k) => `<span><svg width="34" height="8"><line x1="0" y1="4" x2="34" y2="4" stroke="${colours[k]}" stroke-width="2" /></svg> ${esc(name)}</span>`).join('');
  return `<div class="key">${key}</div>${lineChart({
    series, width: 960, height: 300, label: `${parts.map((p) => p[1]).join(', ')} per cell`,
    xDomain: [1, Math.max(2, cells.length)], yDomain: [Math.min(0, ...values), Math.max(0, ...values)],
    xLabel: 'Cells, from the weakest to the strongest regularisation', yLabel: kind === 'mse' ? 'Squared loss on probabilities' : '0-1 loss',
  })}`;
}
