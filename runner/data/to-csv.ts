import type { Dataset } from './types.ts';

/**
 * A dataset as CSV: its feature columns, `label` (the class name) and `split` (train/val);
 * the training rows first, then the validation rows, each in the dataset's order. Numbers are
 * written in their shortest round-trip form (JS `String(n)`), so reading them back gives the
 * same float64s.
 */
export function datasetToCsv(data: Dataset): string {
  const lines = [[...data.featureNames, 'label', 'split'].map(csvCell).join(',')];
  for (const [name, split] of [['train', data.train], ['val', data.val]] as const) {
    split.x.forEach((row, i) => {
      lines.push([...row.map(String), csvCell(data.classNames[split.y[i]]), name].join(','));
    });
  }
  return lines.join('\n') + '\n';
}

/** RFC 4180 quoting, only where a cell needs it. */
const csvCell = (s: string): string => (/[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
