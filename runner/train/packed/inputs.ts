import type { MlpModel, Trial } from '../../records/config.ts';
import type { Split } from '../../data/types.ts';
import { augmentBatch } from '../../data/augment.ts';
import { epochOrder, rateAt, trialStreams, type TrialStreams } from '../init.ts';

/**
 * A packed epoch's inputs, built in JS and uploaded once per batch: each training's own
 * augmentation, shuffle order and dropout masks, from the same streams the layers engine draws
 * them from (init.ts' `trialStreams`), laid out as model.ts reads them: points first, trials next.
 */
export type UnitStreams = TrialStreams & {
  /** Dropout rate after each hidden layer. */
  rates: number[];
};

export function unitStreams(trial: Trial, model: MlpModel): UnitStreams {
  return { ...trialStreams(trial), rates: model.hidden.map((_, l) => rateAt(trial.config.dropout, l)) };
}

export interface EpochUnit {
  trial: Trial;
  train: Split;
  streams: UnitStreams;
  /** Frozen trainings get placeholder inputs and draw nothing, so their streams stay put. */
  active: boolean;
}

export interface Batch {
  size: number;
  /** [size, features + 1, K], the last feature all ones (the input layer's bias) */
  x: Float32Array;
  /** [size, K, outputs] (one-hot for more than one output) */
  y: Float32Array;
  /** Per hidden layer [size, K, units], or null when no training drops out there. */
  masks: (Float32Array | null)[];
}

export function epochInputs(units: EpochUnit[], o: { batchSize: number; shuffle: boolean; features: number; outputs: number; model: MlpModel }): Batch[] {
  const k = units.length;
  const n = units[0].train.x.length;
  if (units.some((u) => u.train.x.length !== n)) throw new Error('a pack needs the same number of training points in every trial');
  const prepared = units.map((u) => {
    if (!u.active) return { x: u.train.x, y: u.train.y, order: epochOrder(n, null) };
    const aug = u.trial.config.augmentation;
    const x = aug ? augmentBatch(u.train.x, aug, u.streams.augment) : u.train.x;
    const order = epochOrder(n, o.shuffle ? u.streams.shuffle : null);
    return { x, y: u.train.y, order };
  });
  const dropping = o.model.hidden.map((_, l) => units.some((u) => u.active && u.streams.rates[l] > 0));
  const batches: Batch[] = [];
  for (let startAt = 0; startAt < n; startAt += o.batchSize) {
    const size = Math.min(o.batchSize, n - startAt);
    const width = o.features + 1;
    const x = new Float32Array(k * size * width);
    const y = new Float32Array(k * size * o.outputs);
    prepared.forEach((p, i) => {
      for (let b = 0; b < size; b++) {
        const row = p.order[startAt + b];
        const point = p.x[row];
        for (let f = 0; f < o.features; f++) x[(b * width + f) * k + i] = point[f];
        x[(b * width + o.features) * k + i] = 1;
        const label = p.y[row];
        if (o.outputs === 1) y[b * k + i] = label === 1 ? 1 : 0;
        else y[(b * k + i) * o.outputs + label] = 1;
      }
    });
    const masks = o.model.hidden.map((width, l) => {
      if (!dropping[l]) return null;
      const mask = new Float32Array(k * size * width);
      // each trial draws its mask row by row, in the order the layers engine draws it
      units.forEach((u, i) => {
        const rate = u.active ? u.streams.rates[l] : 0;
        for (let b = 0; b < size; b++) u.streams.dropout.fillMask(mask, (b * k + i) * width, width, rate);
      });
      return mask;
    });
    batches.push({ size, x, y, masks });
  }
  return batches;
}
