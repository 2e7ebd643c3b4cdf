import type * as TF from '../tfjs.ts';
import type { Trial } from '../../records/config.ts';
import type { Dataset, Split } from '../../data/types.ts';
import { streamFor, streamSeed, type Stream } from '../../data/random/streams.ts';
import { augmenter } from '../../data/augment.ts';
import type { TrainPack } from '../engine.ts';
import type { History, TrialResult } from '../../records/result.ts';
import { initBackend, type BackendInfo } from '../backend.ts';
import { createStopWatcher, type StopRule } from '../early-stopping.ts';
import { createSnapshotTracker, keptWeights, planTrainings, stopRule, truncateHistory, type Training } from '../replay.ts';
import { MaskStream } from '../../data/random/masks.ts';
import { buildModel, glorotWeights, makeOptimizer, outputUnits, weightShapes, type ModelPlan } from './model.ts';
import { buildResult, failedResult, surfaceGrid, trainingSet, type SurfaceGrid } from '../result.ts';
import { accuracy, crossEntropy, toClassProba } from '../metrics.ts';

type Tf = BackendInfo['tf'];

/**
 * The layers engine: each training in turn, a tfjs-layers model with Keras semantics. The
 * reference the packed and fused engines are tested against. Trials that differ only in
 * patience share one training to the full budget, and each patience value is replayed from
 * it (replay.ts): the same histories and weights as live early stopping, at half the cost of
 * a grid with patience {none, p}.
 */
export const trainPackLayers: TrainPack = async (trials, data, options) => {
  const backend = await initBackend();
  const results: TrialResult[] = new Array(trials.length);
  let done = 0;
  for (const training of planTrainings(trials)) {
    const members = training.members.map((i) => trials[i]!);
    const trained = await trainLayers(members, training, data, {
      backend,
      sweep: options.sweep,
      signal: options.signal,
      onEpoch: (epoch, epochs) => options.onProgress?.({ epoch, epochs, trialsDone: done, trials: trials.length }),
    });
    for (const [j, result] of trained.entries()) {
      await options.onResult?.(result);
      results[training.members[j]!] = result;
      done++;
    }
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
function modelPlan(trial: Trial, data: Dataset): ModelPlan {
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

/** One trial, start to finish, stopping live. Errors in the trial become a failed result; an abort throws. */
export async function trainTrialLayers(trial: Trial, data: Dataset, options: TrialOptions = {}): Promise<TrialResult> {
  const [result] = await trainLayers([trial], { members: [0], rules: [stopRule(trial)], slotOf: [0] }, data, options);
  return result!;
}

/**
 * One training and the results of the trials it serves (`trials[j]` is member j; they differ
 * only in patience). The training's time is shared equally among them.
 */
async function trainLayers(trials: Trial[], training: Training, data: Dataset, options: TrialOptions): Promise<TrialResult[]> {
  const backend = options.backend ?? (await initBackend());
  const started = performance.now();
  const common = { data, sweep: options.sweep ?? '', engine: 'layers' as const, backend };
  const seconds = () => (performance.now() - started) / 1000 / trials.length;
  try {
    const runs = await fit(backend.tf, trials[0]!, training, data, options);
    const share = seconds();
    return runs.map((run, j) => buildResult({ ...common, trial: trials[j]!, ...run, seconds: share }));
  } catch (e) {
    if (options.signal?.aborted) throw e;
    const message = e instanceof Error ? e.message : String(e);
    const share = seconds();
    return trials.map((trial) => failedResult({ ...common, trial, seconds: share, error: message }));
  }
}

/** What the stop rule of a member makes of the training: where it stops, which epoch it keeps. */
export function replayMember(history: History, observed: number, rule: StopRule) {
  // Exactly as a live watcher: it sees each epoch until it stops, never a non-finite epoch's
  // loss (training breaks first), and a live run records up to its stop or to the break.
  const watcher = createStopWatcher(rule);
  let stopped = 0;
  for (let e = 0; e < observed && !stopped; e++) {
    if (watcher.observe(history.val_loss[e]!) === 'stop') stopped = e + 1;
  }
  const length = stopped || history.loss.length;
  return { length, point: watcher.point(length) };
}

async function fit(tf: Tf, trial: Trial, training: Training, data: Dataset, options: TrialOptions) {
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
    const tracker = createSnapshotTracker(training.rules);
    const snapshots: (Float32Array[] | undefined)[] = training.rules.map(() => undefined);
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
      const slots = tracker.observe(history.val_loss.at(-1)!);
      if (slots.length > 0) {
        const weights = readWeights(model);
        for (const slot of slots) snapshots[slot] = weights;
      }
      if (tracker.done) break;
    }
    const trained = history.loss.length;

    // Predictions at each kept set of weights, once per set: the last trained epoch's first,
    // then each snapshot that some member keeps.
    const members = training.slotOf.map((slot) => {
      const { length, point } = replayMember(history, tracker.epochs, training.rules[slot]!);
      const source = keptWeights(point, trained) === 'snapshot' ? snapshots[slot] : undefined;
      return { slot, length, point, source };
    });
    const predictions = new Map<Float32Array[] | undefined, Awaited<ReturnType<typeof predictAll>>>();
    const sources = [undefined, ...new Set(members.map((m) => m.source).filter((s) => s !== undefined))];
    for (const source of sources) {
      if (!members.some((m) => m.source === source)) continue;
      if (source) setWeights(tf, model, source);
      predictions.set(source, await predictAll(tf, model, { train, valX, grid, data, classes: plan.classes }));
    }
    return members.map((m) => ({
      train,
      history: truncateHistory(history, { ...m.point, stoppedEpoch: m.length }),
      stoppedEpoch: m.point.stoppedEpoch,
      bestEpoch: m.point.bestEpoch,
      ...predictions.get(m.source)!,
    }));
  } finally {
    valX.dispose();
    model.dispose();
    optimizer.dispose();
  }
}

async function predictAll(tf: Tf, model: TF.LayersModel, at: { train: Split; valX: TF.Tensor; grid: SurfaceGrid | undefined; data: Dataset; classes: number }) {
  const trainX = inputTensor(tf, at.train.x, at.data.inputShape);
  const probaTrain = await predictProba(tf, model, trainX, at.classes);
  trainX.dispose();
  let probaSurface: number[][] | undefined;
  if (at.grid) {
    const gridX = inputTensor(tf, at.grid.points, at.data.inputShape);
    probaSurface = await predictProba(tf, model, gridX, at.classes);
    gridX.dispose();
  }
  const probaVal = await predictProba(tf, model, at.valX, at.classes);
  return { probaTrain, probaVal, probaSurface };
}

function readWeights(model: TF.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
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

