/**
 * Labelled tables from CSV text: a header row, one label column named by the grid, every other
 * column a number. Rows in errors are the file's line numbers (the header is row 1). Errors
 * name the row and column and never quote the file: a grid file from someone else could point
 * at a file whose content must not reach a terminal, a log or a pack log.
 */
import { parse } from 'csv-parse/sync';
import { UserError } from '../errors.ts';

export interface Table {
  /** The header's names of the feature columns, in file order. */
  featureNames: string[];
  x: number[][];
  /** The label cell of each row, as written. */
  labels: string[];
  /** The file's line number of each row (the header is row 1), for errors. */
  rows: number[];
}

/** Parses CSV `text` (from `file`, named in errors) with `label` as the label column. */
export function parseTable(text: string, label: string, file: string): Table {
  let records: { info: { lines: number }; record: string[] }[];
  try {
    records = parse(text, { bom: true, info: true, skip_empty_lines: true, trim: true, relax_column_count: true }) as never;
  } catch (error) {
    // csv-parse's messages quote the offending field; its code says what is wrong without it.
    const e = error as Error & { lines?: number; code?: string };
    throw new UserError(`Expected valid CSV (${e.code ?? 'CSV_INVALID'})`, { file, ...(e.lines ? { row: e.lines } : {}) });
  }
  if (records.length === 0) throw new UserError('Expected a header row and data rows, got an empty file', { file });
  const header = records[0].record;
  const labelAt = header.indexOf(label);
  if (labelAt < 0) {
    throw new UserError(`Expected a label column named ${JSON.stringify(label)} in the header (${header.length} column${header.length === 1 ? '' : 's'})`,
      { file, row: 1, column: label });
  }
  if (header.length < 2) throw new UserError(`Expected feature columns besides the label column ${JSON.stringify(label)}, got none`, { file });
  if (records.length === 1) throw new UserError('Expected data rows after the header, got none', { file });
  const featureNames = header.filter((_, j) => j !== labelAt);
  const x: number[][] = [];
  const labels: string[] = [];
  const rows: number[] = [];
  for (const { info, record } of records.slice(1)) {
    const row = info.lines;
    if (record.length !== header.length) {
      throw new UserError(`Expected ${header.length} cells as in the header, got ${record.length}`, { file, row });
    }
    const features: number[] = [];
    record.forEach((cell, j) => {
      if (j === labelAt) return;
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new UserError(`Expected a number, got ${cell === '' ? 'an empty cell' : 'text'}`, { file, row, column: header[j] });
      }
      features.push(v);
    });
    if (record[labelAt] === '') throw new UserError('Expected a label, got an empty cell', { file, row, column: label });
    x.push(features);
    labels.push(record[labelAt]);
    rows.push(row);
  }
  return { featureNames, x, labels, rows };
}

/**
 * Class indices 0..C-1 for label strings, in sorted order: numerically when every label is a
 * number (so "10" follows "9"), by code point otherwise. Needs at least two classes.
 */
export function encodeLabels(labels: readonly string[], place: { file?: string; column?: string } = {}): { y: number[]; classNames: string[] } {
  const distinct = [...new Set(labels)];
  const numeric = distinct.every((l) => l.trim() !== '' && Number.isFinite(Number(l)));
  const classNames = distinct.sort(numeric ? (a, b) => Number(a) - Number(b) || (a < b ? -1 : 1) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classNames.length < 2) {
    throw new UserError(`Expected at least two classes in the label column, got ${classNames.length}`, place);
  }
  const index = new Map(classNames.map((c, i) => [c, i]));
  return { y: labels.map((l) => index.get(l)!), classNames };
}

export interface Standardizer {
  mean: number[];
  /** Population standard deviations (ddof 0, as scikit-learn's StandardScaler); 1 where a feature is constant. */
  std: number[];
}

/** Mean and standard deviation of each feature of `x` (fit on the training rows only). */
export function fitStandardizer(x: readonly (readonly number[])[]): Standardizer {
  const dim = x[0]?.length ?? 0;
  const mean = new Array<number>(dim).fill(0);
  for (const row of x) row.forEach((v, j) => (mean[j] += v));
  mean.forEach((s, j) => (mean[j] = s / x.length));
  const squares = new Array<number>(dim).fill(0);
  for (const row of x) row.forEach((v, j) => (squares[j] += (v - mean[j]) ** 2));
  return { mean, std: squares.map((s) => (s > 0 ? Math.sqrt(s / x.length) : 1)) };
}

export const standardize = (x: readonly (readonly number[])[], { mean, std }: Standardizer): number[][] =>
  x.map((row) => row.map((v, j) => (v - mean[j]) / std[j]));
