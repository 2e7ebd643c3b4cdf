/**
 * Which rows train and which validate, and bootstrap replicates of the training rows. Every
 * function returns row indices in ascending order, so a split keeps the data's own order.
 */
import type { SplitSpec } from '../records/config.ts';
import { UserError, type Place } from '../errors.ts';
import { streamFor } from './random/streams.ts';

export interface SplitIndices {
  train: number[];
  val: number[];
}

/**
 * Splits rows with labels `y` as `spec` says: `first` keeps the first N rows for training (as
 * the article does); `fraction` draws round(trainFraction·n) rows from the stream
 * (spec.seed, 'split'), per class in proportion to its size when `stratify` is set.
 */
export function splitIndices(y: readonly number[], spec: SplitSpec, place: Place = {}): SplitIndices {
  const n = y.length;
  const nTrain = spec.kind === 'first' ? spec.train : Math.round(spec.trainFraction * n);
  if (!(nTrain >= 1 && nTrain < n)) {
    const asked = spec.kind === 'first' ? `the first ${spec.train} rows` : `a fraction ${spec.trainFraction}, ${nTrain} rows,`;
    throw new UserError(`Expected the split to leave at least one row to train and one to validate: ${asked} of ${n} leaves ${n - nTrain} to validate`, {
      ...place, field: spec.kind === 'first' ? 'data.split.train' : 'data.split.trainFraction',
    });
  }
  if (spec.kind === 'first') return { train: range(0, nTrain), val: range(nTrain, n) };
  const stream = streamFor(spec.seed, 'split');
  const train = spec.stratify ? stratifiedSample(y, nTrain, stream) : stream.permutation(n).slice(0, nTrain).sort(ascending);
  return { train, val: complement(train, n) };
}

/**
 * `size` of the rows (ascending), each class represented in proportion to its size (largest
 * remainders get the rounding), drawn from `stream`. For training subsets (`trainSize`).
 */
export function stratifiedSample(y: readonly number[], size: number, stream: { shuffle<T>(x: T[]): T[] }): number[] {
  const byClass = new Map<number, number[]>();
  y.forEach((c, i) => {
    const rows = byClass.get(c);
    if (rows) rows.push(i);
    else byClass.set(c, [i]);
  });
  const classes = [...byClass.keys()].sort(ascending);
  const counts = allocate(classes.map((c) => byClass.get(c)!.length), size);
  return classes.flatMap((c, k) => stream.shuffle(byClass.get(c)!).slice(0, counts[k])).sort(ascending);
}

/** Splits `total` over groups in proportion to `sizes`: floors, then largest remainders first (ties: lower group). */
export function allocate(sizes: readonly number[], total: number): number[] {
  const sum = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, k) => k).sort((a, b) => exact[b] - counts[b] - (exact[a] - counts[a]) || a - b);
  for (const k of order) {
    if (left === 0) break;
    if (counts[k] < sizes[k]) {
      counts[k] += 1;
      left -= 1;
    }
  }
  return counts;
}

/**
 * The rows of bootstrap replicate `replicate` of an n-row training set: n draws with
 * replacement, in draw order. Depends on (n, replicate) only, never on the trial's seed, so
 * the variance the data's sampling causes is measured apart from the seed's.
 */
export function bootstrapIndices(n: number, replicate: number): number[] {
  const stream = streamFor(0, 'bootstrap', replicate);
  return Array.from({ length: n }, () => stream.int(n));
}

const ascending = (a: number, b: number) => a - b;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function complement(sorted: readonly number[], n: number): number[] {
  const taken = new Uint8Array(n);
  for (const i of sorted) taken[i] = 1;
  return range(0, n).filter((i) => !taken[i]);
}
