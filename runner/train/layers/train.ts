import type * as TF from '../tfjs.ts';
import type { Trial } from '../../records/config.ts';
import type { Dataset, Split } from '../../data/types.ts';
import { augmenter } from '../../data/augment.ts';
import type { Engine, TrainPack } from '../engine.ts';
import type { History, TrialResult } from '../../records/result.ts';
import { initBackend, type BackendInfo } from '../backend.ts';
import { createSnapshotTracker, keptWeights, planTrainings, replayMember, stopRule, type Training } from '../replay.ts';
import { epochOrder, initialWeights, modelPlan, outputUnits, trialStreams, type ModelPlan, type TrialStreams } from '../init.ts';
import { buildModel, makeOptimizer } from './model.ts';
import { buildResult, failedResult, surfaceGrid, trainingSet, truncateHistory, type SurfaceGrid } from '../result.ts';
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
    const members = training.members.map((i) => trials[i]);
    const trained = await trainLayers(members, training, data, {
      backend,
      sweep: options.sweep,
      signal: options.signal,
      onEpoch: (epoch, epochs) => options.onProgress?.({ epoch, epochs, trialsDone: done, trials: trials.length, training: members.length }),
    });
    for (const [j, result] of trained.entries()) {
      await options.onResult?.(result);
      results[training.members[j]] = result;
      done++;
    }
  }
  return results;
};

/** The reference trains every trial. */
export const layersEngine: Engine = { name: 'layers', supports: () => null, trainPack: trainPackLayers };

export interface TrialOptions {
  /** Start from these weights (getWeights() order) instead of the trial's own glorot draw. */
  initialWeights?: Float32Array[];
  sweep?: string;
  backend?: BackendInfo;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, epochs: number) => void;
}

/** One trial, start to finish, stopping live. Errors in the trial become a failed result; an abort throws. */
export async function trainTrialLayers(trial: Trial, data: Dataset, options: TrialOptions = {}): Promise<TrialResult> {
  const [result] = await trainLayers([trial], { members: [0], rules: [stopRule(trial)], slotOf: [0] }, data, options);
  return result;
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
    const runs = await fit(backend.tf, trials[0], training, data, options);
    const share = seconds();
    return runs.map((run, j) => buildResult({ ...common, trial: trials[j], ...run, seconds: share }));
  } catch (e) {
    if (options.signal?.aborted) throw e;
    const message = e instanceof Error ? e.message : String(e);
    const share = seconds();
    return trials.map((trial) => failedResult({ ...common, trial, seconds: share, error: message }));
  }
}

/** A trial's model, ready to train: its plan, training split, streams and the tensors fit() disposes. */
interface Fitting {
  tf: Tf;
  model: TF.LayersModel;
  plan: ModelPlan;
  train: Split;
  streams: TrialStreams;
  augment: ReturnType<typeof augmenter>;
  valX: TF.Tensor;
}

async function fit(tf: Tf, trial: Trial, training: Training, data: Dataset, options: TrialOptions) {
  const { config } = trial;
  const spec = config.train;
  const plan = modelPlan(trial, data);
  const train = trainingSet(trial, data);
  const streams = trialStreams(trial);
  const augment = augmenter({ inputShape: data.inputShape, train }, config.augmentation);
  const model = buildModel(tf, plan, streams.dropout);
  const optimizer = makeOptimizer(tf, spec.optimizer);
  const valX = inputTensor(tf, data.val.x, data.inputShape);
  const fitting: Fitting = { tf, model, plan, train, streams, augment, valX };
  try {
    setWeights(tf, model, options.initialWeights ?? initialWeights(trial, data));
    // the loss Keras differentiates: cross-entropy plus each kernel's L2 term (buildModel's regularizers)
    model.compile({ optimizer, loss: plan.classes === 2 ? 'binaryCrossentropy' : 'categoricalCrossentropy', metrics: ['accuracy'] });

    const history: History = { loss: [], val_loss: [], acc: [], val_acc: [] };
    const tracker = createSnapshotTracker(training.rules);
    const snapshots: (Float32Array[] | undefined)[] = training.rules.map(() => undefined);
    for (let epoch = 1; epoch <= spec.epochs; epoch++) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const figures = await trainEpoch(fitting, spec);
      const proba = await predictProba(tf, model, valX, plan.classes);
      history.loss.push(figures.loss);
      history.acc.push(figures.acc);
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
    return await memberRuns(fitting, training, data, history, tracker.epochs, snapshots);
  } finally {
    valX.dispose();
    model.dispose();
    optimizer.dispose();
  }
}

/**
 * One epoch, batch by batch: augment the split (augmentation), shuffle it, then per batch
 * trainOnBatch's forward with dropout masks from the trial's stream, the loss with the L2
 * penalty, backward and update. Returns the epoch's training loss and accuracy as Keras
 * reports them: the batches' figures weighted by batch size.
 */
async function trainEpoch(f: Fitting, spec: Trial['config']['train']): Promise<{ loss: number; acc: number }> {
  const { tf, train } = f;
  const n = train.x.length;
  const x = f.augment ? f.augment(train.x, f.streams.augment) : train.x;
  const order = epochOrder(n, spec.shuffle ? f.streams.shuffle : null);
  let lossSum = 0;
  let accSum = 0;
  for (let from = 0; from < n; from += spec.batchSize) {
    const rows = order.slice(from, from + spec.batchSize);
    const xb = inputTensor(tf, rows.map((r) => x[r]), f.plan.inputShape);
    const yb = targetTensor(tf, rows.map((r) => train.y[r]), f.plan.classes);
    const [loss, acc] = (await f.model.trainOnBatch(xb, yb)) as number[];
    tf.dispose([xb, yb]);
    lossSum += loss * rows.length;
    accSum += acc * rows.length;
  }
  return { loss: lossSum / n, acc: accSum / n };
}

/**
 * Each member's history, stop and predictions at its kept weights, predicting once per set of
 * weights: the last trained epoch's first, then each snapshot that some member keeps.
 */
async function memberRuns(f: Fitting, training: Training, data: Dataset, history: History, observed: number, snapshots: (Float32Array[] | undefined)[]) {
  const { tf, model, train } = f;
  const trained = history.loss.length;
  const grid = surfaceGrid(data);
  const members = training.slotOf.map((slot) => {
    const { length, point } = replayMember(history, observed, training.rules[slot]);
    const source = keptWeights(point, trained) === 'snapshot' ? snapshots[slot] : undefined;
    return { slot, length, point, source };
  });
  const predictions = new Map<Float32Array[] | undefined, Awaited<ReturnType<typeof predictAll>>>();
  const sources = [undefined, ...new Set(members.map((m) => m.source).filter((s) => s !== undefined))];
  for (const source of sources) {
    if (!members.some((m) => m.source === source)) continue;
    if (source) setWeights(tf, model, source);
    predictions.set(source, await predictAll(tf, model, { train, valX: f.valX, grid, data, classes: f.plan.classes }));
  }
  return members.map((m) => ({
    train,
    history: truncateHistory(history, m.length),
    stoppedEpoch: m.point.stoppedEpoch,
    bestEpoch: m.point.bestEpoch,
    ...predictions.get(m.source)!,
  }));
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
  const out = tf.tidy(() => model.predict(x, { batchSize: Math.max(32, x.shape[0]) }) as TF.Tensor);
  const values = await out.data();
  out.dispose();
  return toClassProba(values, x.shape[0], classes);
}

