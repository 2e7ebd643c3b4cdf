import type * as TF from '../tfjs.ts';
import type { MlpModel, Trial } from '../../records/config.ts';
import type { Dataset } from '../../data/types.ts';
import { requireSupport, type Engine, type TrainOptions, type TrainPack } from '../engine.ts';
import type { History, TrialResult } from '../../records/result.ts';
import { initBackend } from '../backend.ts';
import { buildResult, surfaceGrid, trainingSet, truncateHistory, type OutputRows } from '../result.ts';
import { toClassProba } from '../metrics.ts';
import { initialWeights } from '../init.ts';
import { earlyStop } from '../early-stopping.ts';
import { createSnapshotTracker, keptWeights, liveTrainings, planTrainings, type SnapshotTracker, type Training } from '../replay.ts';
import { hostParams, predictAll, TensorCache, uploadParams, validationInputs, type HostParams, type PackedShape, type Tf } from './model.ts';
import { foldLayer, foldsOutputKernel, predictFolded } from './fold.ts';
import { epochInputs, unitStreams } from './inputs.ts';
import { reluSurfaceProba } from './relu-surface.ts';
import { disposeParams, HostTraining, TensorTraining, type PackTensors, type PackTraining, type SharedBatch, type TrainingInputs } from './trainings.ts';

/**
 * The packed engine: the trainings of a pack as one tfjs computation, weights [K, in, out].
 * Trials that differ only in patience share one training (replay.ts); each training has its
 * own initial weights (the layers engine's), L2 coefficient, dropout rates and streams, and a
 * stop mask that freezes it once none of its trials needs more epochs.
 */
export const trainPackPacked: TrainPack = (trials, data, options) => trainPacked(trials, data, options);

export const packedEngine: Engine = {
  name: 'packed',
  supports: (trial) => (trial.config.model.kind === 'mlp' ? null : 'the packed engine trains MLPs only'),
  trainPack: trainPackPacked,
};

export interface PackedOptions {
  /** Share one training among trials that differ only in patience (default); false stops each trial live. */
  replay?: boolean;
  /** Initial weights per trial (Keras order: kernel, bias per layer); default: the layers engine's. */
  initialWeights?: Float32Array[][];
}

/** Trials whose steps run as one computation (trainHomogeneous): the same model, optimizer, epochs, batch size and shuffle. */
const homogeneousKey = (t: Trial) => JSON.stringify([t.config.model, t.config.train.optimizer, t.config.train.epochs, t.config.train.batchSize, t.config.train.shuffle]);

export async function trainPacked(trials: Trial[], data: Dataset, options: TrainOptions, packed: PackedOptions = {}): Promise<TrialResult[]> {
  requireSupport(packedEngine, trials, data);
  const keys = [...new Set(trials.map(homogeneousKey))];
  if (keys.length <= 1) return trainHomogeneous(trials, data, options, packed);
  // A pack mixing optimizers (e.g. from `include`) trains as several packs, results in input order.
  const results: TrialResult[] = new Array(trials.length);
  for (const key of keys) {
    const indices = trials.flatMap((t, i) => (homogeneousKey(t) === key ? [i] : []));
    const part = await trainHomogeneous(indices.map((i) => trials[i]), data, options, {
      ...packed,
      initialWeights: packed.initialWeights && indices.map((i) => packed.initialWeights![i]),
    });
    part.forEach((r, j) => (results[indices[j]] = r));
  }
  return results;
}

/** One training of the pack: its inputs, its stop-rule tracker and what it has recorded so far. */
interface Unit extends TrainingInputs {
  training: Training;
  tracker: SnapshotTracker;
  history: History;
  /** Epochs trained; frozen once it stops changing (all rules stopped, or a non-finite loss). */
  epochs: number;
  active: boolean;
  diverged: boolean;
}

async function trainHomogeneous(trials: Trial[], data: Dataset, options: TrainOptions, packed: PackedOptions): Promise<TrialResult[]> {
  const started = performance.now();
  const backend = await initBackend();
  const tf = backend.tf;
  const model = trials[0].config.model as MlpModel;
  const spec = trials[0].config.train;
  const classes = data.classNames.length;
  const shape: PackedShape = { activation: model.activation, outputs: classes === 2 ? 1 : classes };
  const features = data.train.x[0].length;
  const units = (packed.replay === false ? liveTrainings(trials) : planTrainings(trials)).map((training) => newUnit(training, trials, data, model));

  // Initial weights, stacked [K, in, out]: exactly what the layers engine would start from.
  const start = hostParams(
    await Promise.all(units.map(async (u) => packed.initialWeights?.[u.training.members[0]] ?? initialWeights(u.trial, data))),
    [features, ...model.hidden, shape.outputs],
  );
  const pack: PackTensors = {
    tf, cache: new TensorCache(tf), model, shape, features, batchSize: spec.batchSize, shuffle: spec.shuffle, optimizer: spec.optimizer,
    xVal: validationInputs(tf, data.val.x, features),
    yVal: tf.tensor3d(oneHot(data.val.y, shape.outputs), [data.val.y.length, 1, shape.outputs]),
  };
  const shared = sharesPoints(units, spec.batchSize) ? sharedBatch(tf, units, features, shape.outputs, model) : null;
  let training: PackTraining | undefined;
  try {
    // with shared points on wasm the pack trains from the host around its folded layer
    training = shared && foldsOutputKernel(tf, model.hidden.length + 1, shape)
      ? await HostTraining.create(pack, start, units, { ...shared.tensors.shared, labels: units[0].train.y }, { pointsT: pack.xVal, labels: data.val.y })
      : new TensorTraining(pack, start, units, shared);
    await trainEpochs(training, units, spec.epochs, options, trials.length);
    // (before finish, which may yield to another pack that wants the helper thread)
    training.endTraining();
    return await finish({ pack, backend, trials, data, options, units, training, seconds: (performance.now() - started) / 1000 / trials.length });
  } finally {
    training?.dispose();
    tf.dispose([pack.xVal, pack.yVal]);
    if (shared) tf.dispose([shared.tensors.x, shared.tensors.y, shared.tensors.shared.points, shared.tensors.shared.pointsT]);
    pack.cache.dispose();
  }
}

function newUnit(training: Training, trials: Trial[], data: Dataset, model: MlpModel): Unit {
  const trial = trials[training.members[0]];
  return {
    training,
    trial,
    train: trainingSet(trial, data),
    streams: unitStreams(trial, model),
    tracker: createSnapshotTracker(training.rules),
    history: { loss: [], val_loss: [], acc: [], val_acc: [] },
    epochs: 0,
    active: true,
    diverged: false,
  };
}

/**
 * The epochs: each trains every active training one epoch, records its figures, snapshots the
 * weights that some stop rule keeps, and freezes the trainings none of whose trials needs more.
 */
async function trainEpochs(training: PackTraining, units: Unit[], epochs: number, options: TrainOptions, trials: number): Promise<void> {
  for (let epoch = 1; epoch <= epochs; epoch++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    const figures = training.epoch(units.map((u) => u.active));
    const snapshotAt = recordEpoch(units, figures, epoch);
    snapshotAt.forEach((which, slot) => {
      if (which.some(Boolean)) training.snapshot(slot, which);
    });
    options.onProgress?.({ epoch, epochs, trialsDone: 0, trials });
    if (units.every((u) => !u.active)) break;
  }
}

/**
 * Bookkeeping after an epoch: each active unit's history, its stop (all rules done, or a loss
 * that is not finite) and, per snapshot slot, which units' weights this epoch are to be kept.
 * `figures` holds [K] each of loss, acc, val_loss, val_acc.
 */
function recordEpoch(units: Unit[], figures: ArrayLike<number>, epoch: number): boolean[][] {
  const k = units.length;
  const slotCount = Math.max(...units.map((u) => u.training.rules.length));
  const snapshotAt: boolean[][] = Array.from({ length: slotCount }, () => new Array(k).fill(false));
  units.forEach((u, i) => {
    if (!u.active) return;
    const [loss, acc, valLoss, valAcc] = [figures[i], figures[k + i], figures[2 * k + i], figures[3 * k + i]];
    u.history.loss.push(loss);
    u.history.acc.push(acc);
    u.history.val_loss.push(valLoss);
    u.history.val_acc.push(valAcc);
    u.epochs = epoch;
    if (!Number.isFinite(loss) || !Number.isFinite(valLoss)) {
      u.diverged = true;
      u.active = false;
      return;
    }
    for (const slot of u.tracker.observe(valLoss)) snapshotAt[slot][i] = true;
    if (u.tracker.done) u.active = false;
  });
  return snapshotAt;
}

interface Finish {
  pack: PackTensors;
  backend: { name: string; device: string };
  trials: Trial[];
  data: Dataset;
  options: TrainOptions;
  units: Unit[];
  training: PackTraining;
  /** The pack's training time per trial. */
  seconds: number;
}

/** Where a trial's result comes from: its unit, the snapshot slot of its kept weights (−1: the last), its history and stop. */
interface TrialPlan { unit: number; slot: number; history: History; stopped: number; best: number }

/** Replays each trial's stop, gathers its kept weights and evaluates them all in a few batched passes. */
async function finish(f: Finish): Promise<TrialResult[]> {
  const { trials, data, units } = f;
  const plans = trialPlans(trials.length, units);
  const weights = trialWeights(plans, f.training, units.length);
  const evaluate = evaluator(f, weights);
  const everyone = trials.map((_, i) => i);
  const probaVal = evaluate(everyone, data.val.x);
  // trials of one bootstrap replicate (or of none) share their training points
  const byReplicate = new Map<number | null, number[]>();
  for (const [member, trial] of trials.entries()) byReplicate.set(trial.replicate, [...(byReplicate.get(trial.replicate) ?? []), member]);
  const probaTrain: number[][][] = new Array(trials.length);
  for (const members of byReplicate.values()) {
    evaluate(members, units[plans[members[0]].unit].train.x).forEach((p, i) => (probaTrain[members[i]] = p));
  }
  const grid = surfaceGrid(data);
  const model = trials[0].config.model as MlpModel;
  const surfaces = grid ? Math.max(1, Math.floor(2 ** 24 / (widest(model) * grid.points.length))) : trials.length;
  // one hidden relu layer on two features: each surface exactly from its weights on the host
  const planar = grid && f.pack.features === 2 && model.hidden.length === 1 && model.activation === 'relu';
  const surfaceOf = (members: number[]): (number[][] | OutputRows)[] => {
    if (!grid) return [];
    if (!planar) return evaluate(members, grid.points);
    return members.map((m) => ({ out: reluSurfaceProba(weights[m][0], weights[m][1], weights[m][2], grid), classes: data.classNames.length }));
  };

  const results: TrialResult[] = [];
  // results go out chunk by chunk, each with its surface
  for (let first = 0; first < trials.length; first += surfaces) {
    const members = everyone.slice(first, first + surfaces);
    const surface = surfaceOf(members);
    for (const [i, member] of members.entries()) {
      const plan = plans[member];
      const ok = Number.isFinite(plan.history.loss.at(-1)) && Number.isFinite(plan.history.val_loss.at(-1));
      const result = buildResult({
        trial: trials[member], sweep: f.options.sweep, engine: 'packed', backend: f.backend, seconds: f.seconds, data, train: units[plan.unit].train,
        history: plan.history, stoppedEpoch: plan.stopped, bestEpoch: plan.best,
        probaTrain: ok ? probaTrain[member] : undefined,
        probaVal: ok ? probaVal[member] : undefined,
        probaSurface: ok && grid ? surface[i] : undefined,
      });
      results.push(result);
      await f.options.onResult?.(result);
      f.options.onProgress?.({ epoch: units[0].epochs, epochs: trials[0].config.train.epochs, trialsDone: results.length, trials: trials.length });
    }
  }
  return results;
}

/** Each trial's stop and kept weights, replayed from its unit's full curve (replay.ts). */
function trialPlans(count: number, units: Unit[]): TrialPlan[] {
  const plans: TrialPlan[] = new Array(count);
  units.forEach((u, i) => {
    u.training.members.forEach((member, j) => {
      const rule = u.training.rules[u.training.slotOf[j]];
      const point = earlyStop(u.history.val_loss, rule);
      // A rule that stopped before the loss went non-finite never saw it: a normal result.
      if (u.diverged && point.stoppedEpoch >= u.epochs) {
        plans[member] = { unit: i, slot: -1, history: u.history, stopped: u.epochs, best: u.epochs };
        return;
      }
      const source = keptWeights(point, u.epochs);
      plans[member] = { unit: i, slot: source === 'final' ? -1 : u.training.slotOf[j], history: truncateHistory(u.history, point.stoppedEpoch), stopped: point.stoppedEpoch, best: point.bestEpoch };
    });
  });
  return plans;
}

/** Every trial's kept weights (HostParams of one trial), gathered in JS from the few snapshots they live in. */
function trialWeights(plans: TrialPlan[], training: PackTraining, k: number): Float32Array[][] {
  const downloaded = new Map<number, Float32Array[]>();
  return plans.map((plan) => {
    let arrays = downloaded.get(plan.slot);
    if (!arrays) downloaded.set(plan.slot, (arrays = training.download(plan.slot)));
    return arrays.map((values) => {
      const size = values.length / k;
      return values.subarray(plan.unit * size, (plan.unit + 1) * size);
    });
  });
}

const widest = (model: MlpModel) => Math.max(...model.hidden, 1);

/**
 * Per-class probabilities of the given trials' kept weights on points x, many trials per call,
 * in chunks of about 2^24 hidden activations (the surface's 6,400 points make chunks of a few
 * trials; validation usually takes the whole pack at once).
 */
function evaluator(f: Finish, weights: Float32Array[][]): (members: number[], x: number[][]) => number[][][] {
  const { tf, cache, shape, features, model } = f.pack;
  const classes = f.data.classNames.length;
  const fold = foldsOutputKernel(tf, model.hidden.length + 1, shape);
  const sizes = [features, ...model.hidden, shape.outputs];
  const evaluateChunk = (members: number[], points: number, xT: TF.Tensor2D): number[][][] => {
    const host = stackHost(members.map((m) => weights[m]));
    const kept = fold ? undefined : uploadParams(tf, host, members.length, sizes);
    // (read outside tf.tidy, which would walk every number of a returned array)
    const proba = tf.tidy(() => (kept ? predictAll(tf, cache, kept, xT, shape) : predictFolded(tf, cache, foldLayer(tf, host, members.length, features), xT)));
    const values = proba.dataSync();
    tf.dispose(proba);
    if (kept) disposeParams(kept);
    // [members, outputs, points] → per member [points][classes]
    return members.map((_, i) => {
      const mine = new Float32Array(points * shape.outputs);
      for (let c = 0; c < shape.outputs; c++) for (let n = 0; n < points; n++) mine[n * shape.outputs + c] = values[(i * shape.outputs + c) * points + n];
      return toClassProba(mine, points, classes);
    });
  };
  return (members, x) => {
    const chunk = Math.max(1, Math.floor(2 ** 24 / (widest(model) * x.length)));
    const xT = validationInputs(tf, x, features);
    try {
      return members.flatMap((_, at) => (at % chunk === 0 ? evaluateChunk(members.slice(at, at + chunk), x.length, xT) : []));
    } finally {
      xT.dispose();
    }
  };
}

/**
 * Whether every training's batch holds the same points every epoch: one full batch, no
 * augmentation or dropout, one training set. The order within the batch only changes how the
 * sums over it round, so per-trial shuffles are skipped (they draw from a stream nothing else reads).
 */
function sharesPoints(units: Unit[], batchSize: number): boolean {
  const first = units[0];
  return batchSize >= first.train.x.length && units.every((u) =>
    !u.trial.config.augmentation && u.streams.rates.every((r) => r === 0) && u.trial.replicate === first.trial.replicate);
}

/**
 * The pack's one batch of shared points, uploaded once: the step's x and y and
 * StepInputs.shared. Built as epochInputs builds a frozen training's: in order, drawing nothing.
 */
function sharedBatch(tf: Tf, units: Unit[], features: number, outputs: number, model: MlpModel): SharedBatch {
  const train = units[0].train;
  const n = train.x.length;
  const batch = epochInputs(units.map((u) => ({ train: u.train, streams: u.streams, active: false, trial: u.trial })), {
    batchSize: n, shuffle: false, features, outputs, model,
  })[0];
  const pointsT = validationInputs(tf, train.x, features);
  return {
    batch,
    tensors: {
      x: tf.tensor3d(batch.x, [n, features + 1, units.length]),
      y: tf.tensor3d(batch.y, [n, units.length, outputs]),
      shared: { points: tf.transpose(pointsT) as TF.Tensor2D, pointsT },
    },
  };
}

/** Per-trial host arrays (HostParams of one trial each) stacked trial by trial into one array per tensor. */
function stackHost(weights: Float32Array[][]): HostParams {
  return weights[0].map((_, i) => {
    const size = weights[0][i].length;
    const stacked = new Float32Array(weights.length * size);
    weights.forEach((w, t) => stacked.set(w[i], t * size));
    return stacked;
  });
}

function oneHot(labels: number[], outputs: number): number[] {
  if (outputs === 1) return labels.map((y) => (y === 1 ? 1 : 0));
  return labels.flatMap((y) => Array.from({ length: outputs }, (_, c) => (c === y ? 1 : 0)));
}

