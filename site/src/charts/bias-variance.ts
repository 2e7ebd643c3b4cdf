import type { CellSummary } from '../lib/summary.ts';
import { okabeIto, Plot, render } from './plot.ts';

/** The article's trade-off picture: loss, bias and variance per cell, weakest regularisation left. */
export function tradeOff(cells: CellSummary[], kind: 'mse' | 'zeroOne'): string {
  const parts = [['loss', 'Expected loss'], ['bias', kind === 'mse' ? 'Bias²' : 'Bias'], ['variance', 'Variance']] as const;
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
