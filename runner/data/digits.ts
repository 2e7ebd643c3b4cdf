/**
 * Image data: the bundled 8×8 digits, and a user's images as CSV rows of pixels. Pixels are
 * flattened row-major (height, width, channels) and scaled into [0, 1].
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { DigitsData, ImageCsvData } from '../records/config.ts';
import { UserError } from '../errors.ts';
import { encodeLabels, parseTable } from './csv.ts';
import { assemble, type Rows } from './dataset.ts';
import type { Dataset } from './types.ts';

const DIGITS = new URL('./assets/digits.csv.gz', import.meta.url);

/** `p<row>_<col>` for one channel, `p<row>_<col>_<channel>` for several. */
export const pixelNames = (height: number, width: number, channels: number): string[] =>
  Array.from({ length: height * width * channels }, (_, k) => {
    const [pixel, ch] = [Math.floor(k / channels), k % channels];
    const name = `p${Math.floor(pixel / width)}_${pixel % width}`;
    return channels === 1 ? name : `${name}_${ch}`;
  });

/**
 * The 1,797 digits (UCI "Optical Recognition of Handwritten Digits", as scikit-learn ships
 * them): 64 pixels 0–16 then the digit, one image a line, no header. Pixels become value / 16.
 */
export async function readDigits(): Promise<Rows> {
  const text = gunzipSync(await readFile(DIGITS)).toString('utf8');
  const x: number[][] = [];
  const y: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const cells = line.split(',').map(Number);
    y.push(cells.pop()!);
    x.push(cells.map((v) => v / 16));
  }
  return { x, y, featureNames: pixelNames(8, 8, 1), classNames: DIGIT_NAMES, inputShape: [8, 8, 1] };
}
const DIGIT_NAMES = Array.from({ length: 10 }, (_, d) => String(d));

/**
 * The digits dataset of a grid: `classes` keeps only those digits (relabelled 0..K-1 in
 * ascending digit order, names kept), then the split, then a stratified `trainSize` subset.
 */
export async function loadDigits(spec: Omit<DigitsData, 'kind'>): Promise<Dataset> {
  let rows = await readDigits();
  if (spec.classes) rows = keepClasses(rows, spec.classes);
  return assemble(rows, { split: spec.split, trainSize: spec.trainSize });
}

/** Only the rows of `classes` (indices into rows.classNames), relabelled 0..K-1 in ascending order. */
export function keepClasses(rows: Rows, classes: readonly number[]): Rows {
  const kept = [...new Set(classes)].sort((a, b) => a - b);
  const relabel = new Map(kept.map((c, k) => [c, k]));
  const at = rows.y.flatMap((c, i) => (relabel.has(c) ? [i] : []));
  return {
    ...rows,
    x: at.map((i) => rows.x[i]),
    y: at.map((i) => relabel.get(rows.y[i])!),
    classNames: kept.map((c) => rows.classNames[c]),
  };
}

/**
 * A user's images: CSV with a header, a label column and width × height × channels pixel
 * columns in row-major order (the columns' names are free; their order is what counts).
 */
export function loadImageCsv(text: string, spec: Omit<ImageCsvData, 'kind' | 'path' | 'sha256'>, file: string): Dataset {
  const table = parseTable(text, spec.label, file);
  const expected = spec.width * spec.height * spec.channels;
  if (table.featureNames.length !== expected) {
    throw new UserError(
      `Expected ${expected} pixel columns besides ${JSON.stringify(spec.label)} (width ${spec.width} × height ${spec.height} × channels ${spec.channels}), got ${table.featureNames.length}`,
      { file },
    );
  }
  table.x.forEach((row, i) => row.forEach((v, j) => {
    if (v < 0 || v > spec.scale) {
      throw new UserError(`Expected a pixel value from 0 to \`scale\` (${spec.scale}), got ${v}`, { file, row: table.rows[i], column: table.featureNames[j] });
    }
  }));
  const { y, classNames } = encodeLabels(table.labels, { file, column: spec.label });
  const rows: Rows = {
    x: table.x.map((row) => row.map((v) => v / spec.scale)),
    y,
    featureNames: pixelNames(spec.height, spec.width, spec.channels),
    classNames,
    inputShape: [spec.height, spec.width, spec.channels],
  };
  return assemble(rows, { split: spec.split, trainSize: spec.trainSize, place: { file } });
}
