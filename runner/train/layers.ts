import type * as TF from '@tensorflow/tfjs';
import type { Trial } from '../grid/types.ts';
import type { Dataset } from '../data/types.ts';
import { streamFor, streamSeed, type Stream } from '../data/streams.ts';
import { augmenter } from '../data/augment.ts';
import type { TrainPack } from './engine.ts';
import type { History, TrialResult } from './types.ts';
import { initBackend, type BackendInfo } from './backend.ts';
import { createStopWatcher } from './early-stopping.ts';
import { MaskStream } from './packed-random.ts';
import { buildModel, glorotWeights, makeOptimizer, outputUnits, weightShapes, type ModelPlan } from './layers-model.ts';
import { accuracy, buildResult, crossEntropy, failedResult, surfaceGrid, toClassProba, trainingSet } from './result.ts';

type Tf = BackendInfo['tf'];

/**
 * The layers engine: each trial in turn, a tfjs-layers model with Keras semantics. The
 * reference the packed and fused engines are tested against.
 */
export const trainPackLayers: TrainPack = async (trials, data, options) => {
  const backend = await initBackend();
  const results: TrialResult[] = [];
  for (const [done, trial] of trials.entries()) {
    const result = await trainTrialLayers(trial, data, {
      backend,
      sweep: options.sweep,
      signal: options.signal,
      onEpoch: (epoch, epochs) => options.onProgress?.({ epoch, epochs, trialsDone: done, trials: trials.length }),
    });
    await options.onResult?.(result);
    results.push(result);
  }
  return results;
};

export interface TrialOptions {
  /** Start from these weights (getWeights() order) instead of the trial's own glorot draw. */
  initialWeights?: Float32Array[];
  sweep?: string;
  backend?: BackendInfo;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, epochs: number) => void;
}

/** The plan of the trial's model on this data. */
export function modelPlan(trial: Trial, data: Dataset): ModelPlan {
  return { model: trial.config.model, inputShape: data.inputShape, classes: data.classNames.length, l2: trial.config.l2, dropout: trial.config.dropout };
}

/**
 * The weights the layers engine starts this trial from, in getWeights() order ([kernel, bias]
 * per layer; Dense kernels [in, out] row-major): glorot-uniform from the trial's `init` stream,
 * which depends on the seed alone, so cells of one seed start alike and compare paired.
 */
export function initialWeights(trial: Trial, data: Dataset): Float32Array[] {
  const init = streamFor(trial.seed, 'init');
  return glorotWeights(weightShapes(modelPlan(trial, data)), () => init.uniform());
}

/** Keras' per-epoch shuffle: a Fisher–Yates permutation of 0..n−1 from the trial's shuffle stream. */
export function epochOrder(n: number, stream: Stream): number[] {
  return stream.permutation(n);
}

/**
 * The trial's random streams, independent of each other and of the pack it trains in. The
 * packed engine uses these too, so both see the same augmentation, order and dropout masks:
 * per epoch, augmentation of the whole split in its stored order, then the shuffle; per
 * batch, each dropout layer's mask in forward order, drawn row-major.
 */
export function trialStreams(trial: Trial) {
  const extra = trial.replicate ?? undefined;
  return {
    shuffle: streamFor(trial.seed, 'shuffle', extra),
    augment: streamFor(trial.seed, 'augment', extra),
    dropout: new MaskStream(streamSeed(trial.seed, 'dropout-masks', extra)),
  };
}

/** One trial, start to finish. Errors in the trial become a failed result; an abort throws. */
export async function trainTrialLayers(trial: Trial, data: Dataset, options: TrialOptions = {}): Promise<TrialResult> {
  const backend = options.backend ?? (await initBackend());
  const started = performance.now();
  const common = { trial, data, sweep: options.sweep ?? '', engine: 'layers' as const, backend };
  try {
    const run = await fit(backend.tf, trial, data, options);
    return buildResult({ ...common, ...run, seconds: (performance.now() - started) / 1000 });
  } catch (e) {
    if (options.signal?.aborted) throw e;
    const message = e instanceof Error ? e.message : String(e);
    return failedResult({ ...common, seconds: (performance.now() - started) / 1000, error: message });
  }
}

async function fit(tf: Tf, trial: Trial, data: Dataset, options: TrialOptions) {
  const { config } = trial;
  const spec = config.train;
  const plan = modelPlan(trial, data);
  const train = trainingSet(trial, data);
  const streams = trialStreams(trial);
  const grid = surfaceGrid(data);
  const augment = augmenter({ inputShape: data.inputShape, train }, config.augmentation);
  const model = buildModel(tf, plan, streams.dropout);
  const optimizer = makeOptimizer(tf, spec.optimizer);
  const valX = inputTensor(tf, data.val.x, data.inputShape);
  try {
    const start = options.initialWeights ?? initialWeights(trial, data);
    setWeights(tf, model, start);
    model.compile({ optimizer, loss: plan.classes === 2 ? 'binaryCrossentropy' : 'categoricalCrossentropy', metrics: ['accuracy'] });

    const history: History = { loss: [], val_loss: [], acc: [], val_acc: [] };
    const watcher = createStopWatcher({ patience: config.patience, minDelta: spec.minDelta, restoreBest: spec.restoreBest });
    const keepBest = spec.restoreBest && config.patience !== null;
    let best: Float32Array[] | undefined;
    const n = train.x.length;
    for (let epoch = 1; epoch <= spec.epochs; epoch++) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      // forward, backward and update, batch by batch in the epoch's order
      const x = augment ? augment(train.x, streams.augment) : train.x;
      const order = spec.shuffle ? epochOrder(n, streams.shuffle) : Array.from({ length: n }, (_, i) => i);
      let lossSum = 0;
      let accSum = 0;
      for (let from = 0; from < n; from += spec.batchSize) {
        const rows = order.slice(from, from + spec.batchSize);
        const xb = inputTensor(tf, rows.map((r) => x[r]!), data.inputShape);
        const yb = targetTensor(tf, rows.map((r) => train.y[r]!), plan.classes);
        const [loss, acc] = (await model.trainOnBatch(xb, yb)) as number[];
        tf.dispose([xb, yb]);
        lossSum += loss! * rows.length;
        accSum += acc! * rows.length;
      }
      // validation: inference mode, no penalty
      const proba = await predictProba(tf, model, valX, plan.classes);
      history.loss.push(lossSum / n);
      history.acc.push(accSum / n);
      history.val_loss.push(crossEntropy(proba, data.val.y));
      history.val_acc.push(accuracy(proba, data.val.y));
      options.onEpoch?.(epoch, spec.epochs);
      if (!Number.isFinite(history.loss.at(-1)!) || !Number.isFinite(history.val_loss.at(-1)!)) break;
      const seen = watcher.observe(history.val_loss.at(-1)!);
      if (seen === 'improved' && keepBest) best = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
      if (seen === 'stop') break;
    }
    const { stoppedEpoch, bestEpoch } = watcher.point(history.loss.length);
    if (best && bestEpoch !== stoppedEpoch) setWeights(tf, model, best);

    const trainX = inputTensor(tf, train.x, data.inputShape);
    const probaTrain = await predictProba(tf, model, trainX, plan.classes);
    trainX.dispose();
    let probaSurface: number[][] | undefined;
    if (grid) {
      const gridX = inputTensor(tf, grid.points, data.inputShape);
      probaSurface = await predictProba(tf, model, gridX, plan.classes);
      gridX.dispose();
    }
    const probaVal = await predictProba(tf, model, valX, plan.classes);
    return { train, history, stoppedEpoch, bestEpoch, probaTrain, probaVal, probaSurface };
  } finally {
    valX.dispose();
    model.dispose();
    optimizer.dispose();
  }
}

function setWeights(tf: Tf, model: TF.LayersModel, weights: Float32Array[]): void {
  const shapes = model.getWeights().map((w) => w.shape);
  if (weights.length !== shapes.length) throw new Error(`expected ${shapes.length} weight arrays, got ${weights.length}`);
  const tensors = weights.map((w, i) => tf.tensor(w, shapes[i]));
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/** Rows of flattened features as the model's input: [n, features] or [n, h, w, c]. */
function inputTensor(tf: Tf, rows: number[][], inputShape: number[]): TF.Tensor {
  const width = inputShape.reduce((a, b) => a * b, 1);
  const flat = new Float32Array(rows.length * width);
  rows.forEach((r, i) => flat.set(r, i * width));
  return tf.tensor(flat, [rows.length, ...(inputShape.length === 1 ? [width] : inputShape)]);
}

function targetTensor(tf: Tf, labels: number[], classes: number): TF.Tensor {
  const units = outputUnits(classes);
  const flat = new Float32Array(labels.length * units);
  labels.forEach((y, i) => {
    if (units === 1) flat[i] = y;
    else flat[i * units + y] = 1;
  });
  return tf.tensor(flat, [labels.length, units]);
}

async function predictProba(tf: Tf, model: TF.LayersModel, x: TF.Tensor, classes: number): Promise<number[][]> {
  // One batch: predict's default of 32 rows costs 200 calls for a decision surface.
  const out = tf.tidy(() => model.predict(x, { batchSize: Math.max(32, x.shape[0]!) }) as TF.Tensor);
  const values = await out.data();
  out.dispose();
  return toClassProba(values, x.shape[0]!, classes);
}

