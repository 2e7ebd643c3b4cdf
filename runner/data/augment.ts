/**
 * Augmentation of tabular and 2-D points, drawn afresh every time it is called (the engines
 * call it once per epoch on the training split, never on validation data). Per example:
 * a scale factor uniform in 1 ± scale and (2-D only) a rotation uniform in ±rotation degrees,
 * both about the training data's centre, then Gaussian jitter of standard deviation `jitter`
 * on every feature. Draw order per example: scale, angle, then one Gaussian per feature.
 */
import type { Augmentation } from '../records/config.ts';
import type { Dataset } from './types.ts';
import { augmentImages } from './image-augment.ts';
import type { Stream } from './random/streams.ts';

export interface PointAugmentOptions {
  /** The point rotations and scalings are about; by default the mean of `x`. Pass the training split's. */
  centre?: readonly number[];
}

/**
 * `x` augmented once (a new array; `x` is untouched). Points only: for a dataset that may hold
 * images, `augmenter` picks this or `augmentImages`.
 */
export function augmentBatch(x: readonly (readonly number[])[], aug: Augmentation, stream: Stream, options: PointAugmentOptions = {}): number[][] {
  const dim = x[0]?.length ?? 0;
  checkPointOptions(aug, dim);
  const rotation = aug.rotation ?? 0;
  if (rotation !== 0 && dim !== 2) throw new RangeError(`Rotation augmentation needs 2-D points, got ${dim} features`);
  const centre = options.centre ?? centreOf(x);
  const scale = aug.scale ?? 0;
  const jitter = aug.jitter ?? 0;
  return x.map((row) => {
    const factor = scale ? stream.between(1 - scale, 1 + scale) : 1;
    let out = row.map((v, j) => centre[j] + (v - centre[j]) * factor);
    if (rotation) {
      const a = (stream.between(-rotation, rotation) * Math.PI) / 180;
      const [dx, dy] = [out[0] - centre[0], out[1] - centre[1]];
      out = [centre[0] + dx * Math.cos(a) - dy * Math.sin(a), centre[1] + dx * Math.sin(a) + dy * Math.cos(a)];
    }
    return jitter ? out.map((v) => v + jitter * stream.gaussian()) : out;
  });
}

/** The mean of each feature. */
export function centreOf(x: readonly (readonly number[])[]): number[] {
  const dim = x[0]?.length ?? 0;
  const sums = new Array<number>(dim).fill(0);
  for (const row of x) row.forEach((v, j) => (sums[j] += v));
  return sums.map((s) => s / Math.max(1, x.length));
}

/**
 * The augmentation a trial applies to its data, ready to call once per epoch:
 * `const augment = augmenter(data, trial.config.augmentation); x = augment(x, stream)`.
 * Images go through `augmentImages` (Keras ImageDataGenerator semantics), points through
 * `augmentBatch` about the training split's centre. `null` when there is nothing to do.
 */
export function augmenter(data: Pick<Dataset, 'inputShape' | 'train'>, aug: Augmentation | null):
  ((x: readonly (readonly number[])[], stream: Stream) => number[][]) | null {
  if (!aug || Object.values(aug).every((v) => v === undefined || v === 0 || v === false)) return null;
  if (data.inputShape.length === 3) {
    const [h, w, c] = data.inputShape as [number, number, number];
    return (x, stream) => augmentImages(x, { height: h, width: w, channels: c }, aug, stream);
  }
  checkPointOptions(aug, data.inputShape[0] ?? 0);
  const centre = centreOf(data.train.x);
  return (x, stream) => augmentBatch(x, aug, stream, { centre });
}

function checkPointOptions(aug: Augmentation, dim: number): void {
  const imageOnly = (['shift', 'zoom', 'shear', 'flip'] as const).filter((k) => aug[k]);
  if (imageOnly.length) throw new RangeError(`Augmentation ${imageOnly.join(', ')} applies to images only; this data has ${dim} features`);
}
