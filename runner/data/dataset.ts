/** Turning labelled rows into a `Dataset`: split, optional training subset, optional standardisation. */
import type { SplitSpec } from '../records/config.ts';
import { UserError, type Place } from '../errors.ts';
import { fitStandardizer, standardize } from './csv.ts';
import { splitIndices, stratifiedSample } from './split.ts';
import { streamFor } from './random/streams.ts';
import type { Dataset } from './types.ts';

export interface Rows {
  x: number[][];
  y: number[];
  featureNames: string[];
  classNames: string[];
  inputShape: number[];
}

export interface AssembleOptions {
  split: SplitSpec;
  /** Keep a stratified subset of this many training rows (drawn from the split seed's 'trainSize' stream). */
  trainSize?: number | null;
  /** Standardise every feature with the training rows' mean and standard deviation. */
  standardize?: boolean;
  /** Where errors point (the data file or the grid). */
  place?: Place;
}

/** The row indices the split keeps for training (then subset by `trainSize`) and for validation. */
export function selectRows(y: readonly number[], options: Omit<AssembleOptions, 'standardize'>): { train: number[]; val: number[] } {
  const { split, trainSize = null, place = {} } = options;
  let { train, val } = splitIndices(y, split, place);
  if (trainSize !== null && trainSize !== undefined) {
    if (trainSize > train.length) {
      throw new UserError(`Expected \`trainSize\` at most the ${train.length} training rows the split leaves, got ${trainSize}`, { ...place, field: 'data.trainSize' });
    }
    const stream = streamFor(split.kind === 'fraction' ? split.seed : 0, 'trainSize');
    const keep = stratifiedSample(train.map((i) => y[i]), trainSize, stream);
    train = keep.map((k) => train[k]);
  }
  return { train, val };
}

/** Splits rows into train and val (each in the rows' order), then subsets and standardises the training part. */
export function assemble(rows: Rows, options: AssembleOptions): Dataset {
  const { train, val } = selectRows(rows.y, options);
  let trainX = train.map((i) => rows.x[i]);
  let valX = val.map((i) => rows.x[i]);
  if (options.standardize) {
    const fitted = fitStandardizer(trainX);
    [trainX, valX] = [standardize(trainX, fitted), standardize(valX, fitted)];
  }
  return {
    featureNames: rows.featureNames,
    classNames: rows.classNames,
    inputShape: rows.inputShape,
    train: { x: trainX, y: train.map((i) => rows.y[i]) },
    val: { x: valX, y: val.map((i) => rows.y[i]) },
  };
}
