import type * as TF from '../tfjs.ts';
import type { MlpModel, Trial } from '../../records/config.ts';
import type { Dataset, Split } from '../../data/types.ts';
import { requireSupport, type Engine, type TrainOptions, type TrainPack } from '../engine.ts';
import type { History, TrialResult } from '../../records/result.ts';
import { initBackend } from '../backend.ts';
import { buildResult, surfaceGrid, trainingSet, truncateHistory, type OutputRows } from '../result.ts';
import { toClassProba } from '../metrics.ts';
import { initialWeights } from '../init.ts';
import { earlyStop } from '../early-stopping.ts';
import { createSnapshotTracker, keptWeights, liveTrainings, planTrainings, type SnapshotTracker, type Training } from '../replay.ts';
import { adamInit, adamStep, accuracy, crossEntropy, flatParams, hostParams, pickTrials, predictAll, sgdStep, TensorCache, unflatParams, uploadParams, validationInputs, type AdamState, type HostParams, type PackedParams, type PackedShape, type Tf } from './model.ts';
import { foldLayer, foldsOutputKernel, predictFolded } from './fold.ts';
import { copyTrials, FoldedTraining } from './host/train.ts';
import { epochInputs, unitStreams, type UnitStreams } from './inputs.ts';
import { keepScale } from '../../data/random/masks.ts';
import { reluSurfaceProba } from './relu-surface.ts';

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
    const part = await trainHomogeneous(indices.map((i) => trials[i]!), data, options, {
      ...packed,
      initialWeights: packed.initialWeights && indices.map((i) => packed.initialWeights![i]!),
    });
    part.forEach((r, j) => (results[indices[j]!] = r));
  }
  return results;
}

interface Unit {
  training: Training;
  trial: Trial;
  train: Split;
  streams: UnitStreams;
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
  const first = trials[0]!;
  const model = first.config.model;
  if (model.kind !== 'mlp') throw new Error('the packed engine trains MLPs only');
  const spec = first.config.train;
  const epochs = spec.epochs;
  const classes = data.classNames.length;
  const shape: PackedShape = { activation: model.activation, outputs: classes === 2 ? 1 : classes };
  const features = data.train.x[0]!.length;

  const trainings = packed.replay === false ? liveTrainings(trials) : planTrainings(trials);
  const units: Unit[] = trainings.map((training) => {
    const trial = trials[training.members[0]!]!;
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
  });
  const k = units.length;

  // Initial weights, stacked [K, in, out]: exactly what the layers engine would start from.
  const start = await Promise.all(units.map(async (u) => packed.initialWeights?.[u.training.members[0]!] ?? (await initialWeights(u.trial, data))));
  const sizes = [features, ...model.hidden, shape.outputs];
  const opt = spec.optimizer;
  const cache = new TensorCache(tf);
  const xVal = validationInputs(tf, data.val.x, features);
  const yVal = tf.tensor3d(oneHot(data.val.y, shape.outputs), [data.val.y.length, 1, shape.outputs]);
  const shared = sharesPoints(units, spec.batchSize) ? sharedBatch(tf, units, features, shape.outputs, model) : null;
  // with shared points on wasm the pack trains from the host around its folded layer (FoldedTraining)
  const onHost = shared && foldsOutputKernel(tf, model.hidden.length + 1, shape)
    ? await FoldedTraining.create(tf, cache, hostParams(start, sizes), k, features, opt, units.map((u) => u.trial.config.l2),
      { ...shared.tensors.shared, labels: units[0]!.train.y }, { pointsT: xVal, labels: data.val.y })
    : null;
  let params = onHost ? onHost.params : uploadParams(tf, hostParams(start, sizes), k, sizes);
  let adam: AdamState | undefined;
  let velocity: TF.Tensor3D[] | undefined;
  if (!isHost(params)) {
    if (opt.kind === 'adam') adam = adamInit(tf, params, opt);
    else velocity = flatParams(params).map((p) => tf.zerosLike(p));
  }
  // a penalty of 0 everywhere costs nothing: no tensor, no ops
  const l2 = !onHost && units.some((u) => u.trial.config.l2 !== 0) ? tf.tensor1d(units.map((u) => u.trial.config.l2)) : null;
  const scales = model.hidden.map((_, l) => (units.some((u) => u.streams.rates[l]! > 0) ? tf.tensor1d(units.map((u) => keepScale(u.streams.rates[l]!))) : null));
  const slotCount = Math.max(...units.map((u) => u.training.rules.length));
  const slots: (Weights | undefined)[] = new Array(slotCount).fill(undefined);
  let activeMask: TF.Tensor3D | null = null;

  /** One epoch on the backend's tensors: the steps over the epoch's batches, then validation; the figures as FoldedTraining.epoch gives them. */
  const backendEpoch = (): Float32Array => {
    // inputs built in JS and uploaded once per batch (or once per pack when shared)
    const batches = shared ? [shared.batch] : epochInputs(units.map((u) => ({ train: u.train, streams: u.streams, active: u.active, trial: u.trial })), {
      batchSize: spec.batchSize, shuffle: spec.shuffle, features, outputs: shape.outputs, model,
    });
    let lossSum: TF.Tensor1D | undefined;
    let accSum: TF.Tensor1D | undefined;
    let seen = 0;
    for (const batch of batches) {
      const before = params as PackedParams;
      const out = tidy(tf, () => {
        const inputs = {
          ...(shared ? shared.tensors : {
            x: tf.tensor3d(batch.x, [batch.size, features + 1, k]),
            y: tf.tensor3d(batch.y, [batch.size, k, shape.outputs]),
            shared: null,
          }),
          masks: batch.masks.map((m, l) => (m ? tf.tensor3d(m, [batch.size, k, model.hidden[l]!]) : null)),
          scales,
          l2,
          active: activeMask,
          cache,
        };
        if (adam) {
          const step = adamStep(tf, before, adam, opt as Extract<typeof opt, { kind: 'adam' }>, shape, inputs);
          return { params: step.params, adam: step.adam, velocity: undefined, loss: step.loss, acc: step.acc };
        }
        const step = sgdStep(tf, before, velocity!, opt as Extract<typeof opt, { kind: 'sgd' }>, shape, inputs);
        return { params: step.params, adam: undefined, velocity: step.velocity, loss: step.loss, acc: step.acc };
      });
      disposeParams(before);
      params = out.params;
      if (adam) {
        tf.dispose([...adam.m, ...adam.v]);
        adam = out.adam!;
      } else {
        tf.dispose(velocity!);
        velocity = out.velocity!;
      }
      // Keras averages the epoch's batch losses weighted by batch size.
      const weightedLoss = tf.mul(out.loss, batch.size) as TF.Tensor1D;
      const weightedAcc = tf.mul(out.acc, batch.size) as TF.Tensor1D;
      tf.dispose([out.loss, out.acc]);
      lossSum = accumulate(tf, lossSum, weightedLoss);
      accSum = accumulate(tf, accSum, weightedAcc);
      seen += batch.size;
    }
    // validate: inference mode, no penalty; the figures come down in one download
    const figures = tf.tidy(() => {
      const proba = tf.transpose(predictAll(tf, cache, params as PackedParams, xVal, shape), [2, 0, 1]) as TF.Tensor3D;
      return tf.stack([tf.div(lossSum!, seen), tf.div(accSum!, seen), crossEntropy(tf, proba, yVal), accuracy(tf, proba, yVal)]);
    });
    tf.dispose([lossSum!, accSum!]);
    const values = figures.dataSync() as Float32Array;
    figures.dispose();
    return values;
  };

  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const values = onHost ? onHost.epoch(units.map((u) => u.active)) : backendEpoch();

      // bookkeeping: histories, snapshots for each rule's kept weights, stop mask
      const snapshotAt: boolean[][] = slots.map(() => new Array(k).fill(false));
      let maskChanged = false;
      units.forEach((u, i) => {
        if (!u.active) return;
        const [loss, acc, valLoss, valAcc] = [values[i]!, values[k + i]!, values[2 * k + i]!, values[3 * k + i]!];
        u.history.loss.push(loss);
        u.history.acc.push(acc);
        u.history.val_loss.push(valLoss);
        u.history.val_acc.push(valAcc);
        u.epochs = epoch;
        if (!Number.isFinite(loss) || !Number.isFinite(valLoss)) {
          u.diverged = true;
          u.active = false;
          maskChanged = true;
          return;
        }
        for (const slot of u.tracker.observe(valLoss)) snapshotAt[slot]![i] = true;
        if (u.tracker.done) {
          u.active = false;
          maskChanged = true;
        }
      });
      snapshotAt.forEach((which, s) => {
        if (!which.some(Boolean)) return;
        const previous = slots[s];
        if (isHost(params)) {
          slots[s] = copyTrials(params, which, previous as HostParams | undefined);
          return;
        }
        slots[s] = previous ? selectParams(tf, which, params, previous as PackedParams) : cloneParams(tf, params);
        if (previous) disposeWeights(previous);
      });
      // (the host path reads the units' flags itself)
      if (maskChanged && !onHost) {
        activeMask?.dispose();
        activeMask = tf.tensor3d(units.map((u) => (u.active ? 1 : 0)), [k, 1, 1]);
      }
      options.onProgress?.({ epoch, epochs, trialsDone: 0, trials: trials.length });
      if (units.every((u) => !u.active)) break;
    }
    // (before finish, which may yield to another pack that wants the helper thread)
    onHost?.dispose();

    return await finish(tf, cache, backend, trials, data, options, units, params, slots, shape, features, started);
  } finally {
    disposeWeights(params);
    for (const s of slots) if (s) disposeWeights(s);
    if (adam) tf.dispose([...adam.m, ...adam.v]);
    if (velocity) tf.dispose(velocity);
    tf.dispose([xVal, yVal, ...[l2, ...scales].filter((t) => t !== null)]);
    onHost?.dispose();
    if (shared) tf.dispose([shared.tensors.x, shared.tensors.y, shared.tensors.shared.points, shared.tensors.shared.pointsT]);
    cache.dispose();
    activeMask?.dispose();
  }
}

/** Replays each trial's stop, gathers its kept weights and evaluates them all in a few batched passes. */
async function finish(
  tf: Tf, cache: TensorCache, backend: { name: string; device: string }, trials: Trial[], data: Dataset, options: TrainOptions,
  units: Unit[], params: Weights, slots: (Weights | undefined)[], shape: PackedShape, features: number,
  started: number,
): Promise<TrialResult[]> {
  const plans = trials.map(() => ({ unit: -1, slot: -1, history: undefined as History | undefined, stopped: 0, best: 0 }));
  units.forEach((u, i) => {
    u.training.members.forEach((member, j) => {
      const rule = u.training.rules[u.training.slotOf[j]!]!;
      const point = earlyStop(u.history.val_loss, rule);
      // A rule that stopped before the loss went non-finite never saw it: a normal result.
      if (u.diverged && point.stoppedEpoch >= u.epochs) {
        plans[member] = { unit: i, slot: -1, history: u.history, stopped: u.epochs, best: u.epochs };
        return;
      }
      const source = keptWeights(point, u.epochs);
      plans[member] = { unit: i, slot: source === 'final' ? -1 : u.training.slotOf[j]!, history: truncateHistory(u.history, point.stoppedEpoch), stopped: point.stoppedEpoch, best: point.bestEpoch };
    });
  });

  // Every trial's kept weights, gathered in JS from the few tensors they live in.
  const grid = surfaceGrid(data);
  const seconds = (performance.now() - started) / 1000 / trials.length;
  const downloaded = new Map<Weights, Float32Array[]>();
  const weights = plans.map((plan) => {
    const source = plan.slot < 0 ? params : slots[plan.slot]!;
    let arrays = downloaded.get(source);
    if (!arrays) downloaded.set(source, (arrays = isHost(source) ? source : flatParams(source).map((t) => t.dataSync() as Float32Array)));
    return arrays.map((values) => {
      const size = values.length / units.length;
      return values.subarray(plan.unit * size, (plan.unit + 1) * size);
    });
  });
  const classes = data.classNames.length;
  const model = trials[0]!.config.model as MlpModel;
  // Many trials per call, in chunks of about 2^24 hidden activations (the surface's 6,400 points
  // make chunks of a few trials; validation usually takes the whole pack at once).
  const widest = Math.max(...model.hidden, 1);
  const evaluate = (members: number[], x: number[][]): number[][][] => {
    const chunk = Math.max(1, Math.floor(2 ** 24 / (widest * x.length)));
    const xT = validationInputs(tf, x, features);
    try {
      return members.flatMap((_, at) => (at % chunk === 0 ? evaluateChunk(members.slice(at, at + chunk), x.length, xT) : []));
    } finally {
      xT.dispose();
    }
  };
  const fold = foldsOutputKernel(tf, model.hidden.length + 1, shape);
  const sizes = [features, ...model.hidden, shape.outputs];
  const evaluateChunk = (members: number[], points: number, xT: TF.Tensor2D): number[][][] => {
    const host = stackHost(members.map((m) => weights[m]!));
    const kept = fold ? undefined : uploadParams(tf, host, members.length, sizes);
    // (read outside tf.tidy, which would walk every number of a returned array)
    const proba = tf.tidy(() => (kept ? predictAll(tf, cache, kept, xT, shape) : predictFolded(tf, cache, foldLayer(tf, host, members.length, features), xT)));
    const values = proba.dataSync();
    tf.dispose(proba);
    if (kept) disposeParams(kept);
    // [members, outputs, points] → per member [points][classes]
    return members.map((_, i) => {
      const mine = new Float32Array(points * shape.outputs);
      for (let c = 0; c < shape.outputs; c++) for (let n = 0; n < points; n++) mine[n * shape.outputs + c] = values[(i * shape.outputs + c) * points + n]!;
      return toClassProba(mine, points, classes);
    });
  };
  const everyone = trials.map((_, i) => i);
  const probaVal = evaluate(everyone, data.val.x);
  // trials of one bootstrap replicate (or of none) share their training points
  const byReplicate = new Map<number | null, number[]>();
  for (const [member, trial] of trials.entries()) byReplicate.set(trial.replicate, [...(byReplicate.get(trial.replicate) ?? []), member]);
  const probaTrain: number[][][] = new Array(trials.length);
  for (const members of byReplicate.values()) {
    evaluate(members, units[plans[members[0]!]!.unit]!.train.x).forEach((p, i) => (probaTrain[members[i]!] = p));
  }
  const surfaces = grid ? Math.max(1, Math.floor(2 ** 24 / (widest * grid.points.length))) : trials.length;
  // one hidden relu layer on two features: each surface exactly from its weights on the host
  const planar = grid && features === 2 && model.hidden.length === 1 && model.activation === 'relu';
  const surfaceOf = (members: number[]): (number[][] | OutputRows)[] => {
    if (!grid) return [];
    if (!planar) return evaluate(members, grid.points);
    return members.map((m) => ({ out: reluSurfaceProba(weights[m]![0]!, weights[m]![1]!, weights[m]![2]!, grid), classes }));
  };

  const results: TrialResult[] = [];
  // results go out chunk by chunk, each with its surface
  for (let first = 0; first < trials.length; first += surfaces) {
    const members = everyone.slice(first, first + surfaces);
    const surface = surfaceOf(members);
    for (const [i, member] of members.entries()) {
      const trial = trials[member]!;
      const plan = plans[member]!;
      const ok = Number.isFinite(plan.history!.loss.at(-1)) && Number.isFinite(plan.history!.val_loss.at(-1));
      const result = buildResult({
        trial, sweep: options.sweep, engine: 'packed', backend, seconds, data, train: units[plan.unit]!.train,
        history: plan.history!, stoppedEpoch: plan.stopped, bestEpoch: plan.best,
        probaTrain: ok ? probaTrain[member] : undefined,
        probaVal: ok ? probaVal[member] : undefined,
        probaSurface: ok && grid ? surface[i] : undefined,
      });
      results.push(result);
      await options.onResult?.(result);
      options.onProgress?.({ epoch: units[0]!.epochs, epochs: trials[0]!.config.train.epochs, trialsDone: results.length, trials: trials.length });
    }
  }
  return results;
}

/**
 * Whether every training's batch holds the same points every epoch: one full batch, no
 * augmentation or dropout, one training set. The order within the batch only changes how the
 * sums over it round, so per-trial shuffles are skipped (they draw from a stream nothing else reads).
 */
function sharesPoints(units: Unit[], batchSize: number): boolean {
  const first = units[0]!;
  return batchSize >= first.train.x.length && units.every((u) =>
    !u.trial.config.augmentation && u.streams.rates.every((r) => r === 0) && u.trial.replicate === first.trial.replicate);
}

/**
 * The pack's one batch of shared points, uploaded once: the step's x and y and
 * StepInputs.shared. Built as epochInputs builds a frozen training's: in order, drawing nothing.
 */
function sharedBatch(tf: Tf, units: Unit[], features: number, outputs: number, model: MlpModel) {
  const train = units[0]!.train;
  const n = train.x.length;
  const batch = epochInputs(units.map((u) => ({ train: u.train, streams: u.streams, active: false, trial: u.trial })), {
    batchSize: n, shuffle: false, features, outputs, model,
  })[0]!;
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
  return weights[0]!.map((_, i) => {
    const size = weights[0]![i]!.length;
    const stacked = new Float32Array(weights.length * size);
    weights.forEach((w, t) => stacked.set(w[i]!, t * size));
    return stacked;
  });
}

function oneHot(labels: number[], outputs: number): number[] {
  if (outputs === 1) return labels.map((y) => (y === 1 ? 1 : 0));
  return labels.flatMap((y) => Array.from({ length: outputs }, (_, c) => (c === y ? 1 : 0)));
}

const accumulate = (tf: Tf, sum: TF.Tensor1D | undefined, value: TF.Tensor1D): TF.Tensor1D => {
  if (!sum) return value;
  const next = tf.add(sum, value) as TF.Tensor1D;
  tf.dispose([sum, value]);
  return next;
};

/** A pack's weights: tensors, or host arrays when they live on the host (FoldedTraining). */
type Weights = PackedParams | HostParams;
const isHost = (w: Weights): w is HostParams => Array.isArray(w);
const disposeParams = (p: PackedParams) => flatParams(p).forEach((t) => t.dispose());
const disposeWeights = (w: Weights) => {
  if (!isHost(w)) disposeParams(w);
};
const cloneParams = (tf: Tf, p: PackedParams) => unflatParams(flatParams(p).map((t) => tf.clone(t)));

/** Per trial i: this epoch's weights where `which[i]`, else the previous snapshot. */
function selectParams(tf: Tf, which: boolean[], current: PackedParams, previous: PackedParams): PackedParams {
  return tidy(tf, () => {
    const mask = tf.tensor3d(which.map(Number), [which.length, 1, 1]);
    const before = flatParams(previous);
    return unflatParams(flatParams(current).map((t, i) => pickTrials(tf, mask, t, before[i]!)));
  });
}


/** tf.tidy for our own containers of tensors (it keeps every tensor nested in what it returns). */
const tidy = <T>(tf: Tf, fn: () => T): T => tf.tidy(fn as () => TF.TensorContainer) as T;
