import type { DropoutValue, ModelSpec, Trial } from '../records/config.ts';
import type { Dataset } from '../data/types.ts';
import { streamFor, streamSeed, type Stream } from '../data/random/streams.ts';
import { MaskStream } from '../data/random/masks.ts';

/**
 * What every engine starts a trial from: its model's weight shapes, its initial weights and its
 * random streams. Free of tfjs, so the kernels' engines (fused, conv) draw exactly the layers
 * engine's numbers without loading it.
 */

/** What a model is built for: the trial's architecture and remedies, and the data's shape. */
export interface ModelPlan {
  model: ModelSpec;
  inputShape: number[];
  classes: number;
  l2: number;
  dropout: DropoutValue;
}

/** The plan of the trial's model on this data. */
export function modelPlan(trial: Trial, data: Pick<Dataset, 'inputShape' | 'classNames'>): ModelPlan {
  return { model: trial.config.model, inputShape: data.inputShape, classes: data.classNames.length, l2: trial.config.l2, dropout: trial.config.dropout };
}

/** Sigmoid and one output for two classes (binary cross-entropy), softmax over C otherwise. */
export const outputUnits = (classes: number) => (classes === 2 ? 1 : classes);

/** The dropout rate after hidden layer `i` (CNN: blocks first, then dense layers). */
export function rateAt(dropout: DropoutValue, i: number): number {
  return typeof dropout === 'number' ? dropout : dropout[i] ?? 0;
}

/**
 * The shapes of the model's weights in tfjs' getWeights() order: [kernel, bias] per Dense or
 * Conv2D layer, input to output. Dense kernels are [in, out]; conv kernels [k, k, in, filters]
 * with 'same' padding, and pooling 'valid' with stride = pool size (Keras' MaxPooling2D).
 */
export function weightShapes(plan: ModelPlan): number[][] {
  const shapes: number[][] = [];
  const out = outputUnits(plan.classes);
  let width: number;
  let dense: number[];
  if (plan.model.kind === 'mlp') {
    width = plan.inputShape.reduce((a, b) => a * b, 1);
    dense = plan.model.hidden;
  } else {
    let [h, w, c] = plan.inputShape as [number, number, number];
    for (const b of plan.model.blocks) {
      shapes.push([b.kernel, b.kernel, c, b.filters], [b.filters]);
      h = Math.floor(h / b.pool);
      w = Math.floor(w / b.pool);
      c = b.filters;
    }
    width = h * w * c;
    dense = plan.model.dense;
  }
  for (const units of [...dense, out]) {
    shapes.push([width, units], [units]);
    width = units;
  }
  return shapes;
}

/**
 * Glorot-uniform kernels and zero biases, as Keras initialises Dense and Conv2D layers:
 * U(−l, l) with l = √(6 / (fanIn + fanOut)), fans scaled by a conv kernel's receptive field.
 * Drawn from `uniform` (the trial's init stream) in weight order, so any engine that calls
 * this starts from the same numbers.
 */
function glorotWeights(shapes: number[][], uniform: () => number): Float32Array[] {
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (shape.length === 1) return values;
    const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    const fanIn = shape.at(-2)! * receptive;
    const fanOut = shape.at(-1)! * receptive;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < size; i++) values[i] = limit * (2 * uniform() - 1);
    return values;
  });
}

/**
 * The weights every engine starts this trial from, in getWeights() order ([kernel, bias] per
 * layer; Dense kernels [in, out] row-major): glorot-uniform from the trial's `init` stream,
 * which depends on the seed alone, so cells of one seed start alike and compare paired.
 */
export function initialWeights(trial: Trial, data: Pick<Dataset, 'inputShape' | 'classNames'>): Float32Array[] {
  const init = streamFor(trial.seed, 'init');
  return glorotWeights(weightShapes(modelPlan(trial, data)), () => init.uniform());
}

/**
 * The trial's random streams, independent of each other and of the pack and engine it trains
 * in, so every engine sees the same augmentation, order and dropout masks: per epoch,
 * augmentation of the whole split in its stored order, then the shuffle; per batch, each
 * dropout layer's mask in forward order, drawn row-major.
 */
export function trialStreams(trial: Trial) {
  const extra = trial.replicate ?? undefined;
  return {
    shuffle: streamFor(trial.seed, 'shuffle', extra),
    augment: streamFor(trial.seed, 'augment', extra),
    dropout: new MaskStream(streamSeed(trial.seed, 'dropout-masks', extra)),
  };
}

export type TrialStreams = ReturnType<typeof trialStreams>;

/** An epoch's order of the n training points: Keras' Fisher–Yates shuffle from the shuffle stream, or as stored. */
export function epochOrder(n: number, shuffle: Stream | null): number[] {
  return shuffle ? shuffle.permutation(n) : Array.from({ length: n }, (_, i) => i);
}
