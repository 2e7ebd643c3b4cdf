import type * as TF from '../tfjs.ts';
import type { MlpModel, OptimizerSpec, Trial } from '../../records/config.ts';
import type { Split } from '../../data/types.ts';
import { keepScale } from '../../data/random/masks.ts';
import {
  adamInit, adamStep, accuracy, crossEntropy, flatParams, pickTrials, predictAll, sgdStep, unflatParams, uploadParams,
  type AdamState, type HostParams, type PackedParams, type PackedShape, type StepInputs, type TensorCache, type Tf,
} from './model.ts';
import { copyTrials, FoldedTraining, type SharedPoints, type ValidationPoints } from './host/train.ts';
import { epochInputs, type Batch, type UnitStreams } from './inputs.ts';

/**
 * The K trainings of a packed pack as one computation, wherever their weights live: tensors
 * stepped by tfjs (TensorTraining), or host arrays stepped around a folded layer
 * (FoldedTraining, through HostTraining). The epoch loop in train.ts sees only this.
 */
export interface PackTraining {
  /**
   * One epoch of every training still `active`: forward, loss, backward and update per batch,
   * then validation. Returns [K] each of the training loss (penalty included) and accuracy, then
   * the validation loss and accuracy, in one array.
   */
  epoch(active: readonly boolean[]): ArrayLike<number>;
  /** Keeps this epoch's weights of the trainings in `which` in snapshot `slot` (the others keep theirs). */
  snapshot(slot: number, which: readonly boolean[]): void;
  /** Snapshot `slot`'s weights, or the last weights for slot −1, as host arrays in flatParams order, trainings stacked. */
  download(slot: number): Float32Array[];
  /** Training is over: frees what only training needs (a helper thread); the weights stay readable. */
  endTraining(): void;
  /** Frees everything (again: nothing). */
  dispose(): void;
}

/** A training's own inputs: its split, streams (augmentation, shuffle, dropout masks) and remedies. */
export interface TrainingInputs {
  trial: Trial;
  train: Split;
  streams: UnitStreams;
}

/** What both kinds share: the pack's tensors and shapes, owned and disposed by the caller. */
export interface PackTensors {
  tf: Tf;
  cache: TensorCache;
  model: MlpModel;
  shape: PackedShape;
  features: number;
  batchSize: number;
  shuffle: boolean;
  optimizer: OptimizerSpec;
  /** The validation points transposed [features + 1, N] and their targets [N, 1, outputs]. */
  xVal: TF.Tensor2D;
  yVal: TF.Tensor3D;
}

/**
 * The host kind: FoldedTraining keeps the weights and optimizer moments in JS arrays and runs
 * forward, loss, backward, update and validation itself; snapshots are host copies.
 */
export class HostTraining implements PackTraining {
  private readonly slots: (HostParams | undefined)[] = [];
  private constructor(private readonly folded: FoldedTraining) {}

  /** Every training's L2 coefficient goes to FoldedTraining, which adds 2c·w to each kernel's gradient. */
  static async create(pack: PackTensors, start: HostParams, units: TrainingInputs[], train: SharedPoints, val: ValidationPoints): Promise<HostTraining> {
    const l2 = units.map((u) => u.trial.config.l2);
    return new HostTraining(await FoldedTraining.create(pack.tf, pack.cache, start, units.length, pack.features, pack.optimizer, l2, train, val));
  }

  epoch(active: readonly boolean[]): ArrayLike<number> {
    return this.folded.epoch(active);
  }

  snapshot(slot: number, which: readonly boolean[]): void {
    this.slots[slot] = copyTrials(this.folded.params, which, this.slots[slot]);
  }

  download(slot: number): Float32Array[] {
    return slot < 0 ? this.folded.params : this.slots[slot]!;
  }

  endTraining(): void {
    this.folded.dispose();
  }

  dispose(): void {
    this.folded.dispose();
  }
}

/**
 * The tensor kind: weights [K, in, out] on the backend, one Adam or SGD step per batch for all K
 * trainings (model.ts' adamStep / sgdStep), per-training L2 coefficients and dropout scales as
 * [K] tensors, and a stop mask [K, 1, 1] that freezes a training once none of its trials needs
 * more epochs.
 */
export class TensorTraining implements PackTraining {
  private params: PackedParams;
  private readonly optimizer: TensorOptimizer;
  /** Each training's L2 coefficient [K], or null where no training is penalised (no tensor, no ops). */
  private readonly l2: TF.Tensor1D | null;
  /** Per hidden layer each training's 1/keep [K], or null where no training drops out. */
  private readonly scales: (TF.Tensor1D | null)[];
  /** [K, 1, 1], null while every training is active. */
  private activeMask: TF.Tensor3D | null = null;
  private activeCount: number;
  private readonly slots: (PackedParams | undefined)[] = [];
  private disposed = false;

  /** `shared`: the pack's one batch when every training sees the same points in the same order every epoch (uploaded once). */
  constructor(private readonly pack: PackTensors, start: HostParams, private readonly units: TrainingInputs[], private readonly shared: SharedBatch | null) {
    const { tf, model, features, shape } = pack;
    const k = units.length;
    this.activeCount = k;
    this.params = uploadParams(tf, start, k, [features, ...model.hidden, shape.outputs]);
    this.optimizer = tensorOptimizer(pack, this.params);
    this.l2 = units.some((u) => u.trial.config.l2 !== 0) ? tf.tensor1d(units.map((u) => u.trial.config.l2)) : null;
    this.scales = model.hidden.map((_, l) => (units.some((u) => u.streams.rates[l] > 0) ? tf.tensor1d(units.map((u) => keepScale(u.streams.rates[l]))) : null));
  }

  epoch(active: readonly boolean[]): Float32Array {
    this.freeze(active);
    // augmentation, shuffle and dropout masks drawn in JS per training, uploaded once per batch
    const batches = this.shared ? [this.shared.batch] : epochInputs(this.units.map((u, i) => ({ ...u, active: active[i] })), {
      batchSize: this.pack.batchSize, shuffle: this.pack.shuffle, features: this.pack.features, outputs: this.pack.shape.outputs, model: this.pack.model,
    });
    const sums = new EpochSums(this.pack.tf);
    for (const batch of batches) {
      const before = this.params;
      const out = this.optimizer.step(before, () => this.stepInputs(batch));
      disposeParams(before);
      this.params = out.params;
      sums.add(out.loss, out.acc, batch.size);
    }
    return this.validate(sums);
  }

  snapshot(slot: number, which: readonly boolean[]): void {
    const { tf } = this.pack;
    const previous = this.slots[slot];
    this.slots[slot] = previous ? selectParams(tf, which, this.params, previous) : cloneParams(tf, this.params);
    if (previous) disposeParams(previous);
  }

  download(slot: number): Float32Array[] {
    const source = slot < 0 ? this.params : this.slots[slot]!;
    return flatParams(source).map((t) => t.dataSync() as Float32Array);
  }

  endTraining(): void {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeParams(this.params);
    for (const s of this.slots) if (s) disposeParams(s);
    this.optimizer.dispose();
    this.pack.tf.dispose([...[this.l2, ...this.scales, this.activeMask].filter((t) => t !== null)]);
  }

  /** The stop mask, rebuilt when a training has stopped since the last epoch. */
  private freeze(active: readonly boolean[]): void {
    const count = active.filter(Boolean).length;
    if (count === this.activeCount) return;
    this.activeCount = count;
    this.activeMask?.dispose();
    this.activeMask = this.pack.tf.tensor3d(active.map((a) => (a ? 1 : 0)), [active.length, 1, 1]);
  }

  /** A batch as the step reads it: points, targets, dropout masks (with their scales), the L2 coefficients and the stop mask. */
  private stepInputs(batch: Batch): StepInputs {
    const { tf, features, shape, model, cache } = this.pack;
    const k = this.units.length;
    return {
      ...(this.shared ? this.shared.tensors : {
        x: tf.tensor3d(batch.x, [batch.size, features + 1, k]),
        y: tf.tensor3d(batch.y, [batch.size, k, shape.outputs]),
        shared: null,
      }),
      masks: batch.masks.map((m, l) => (m ? tf.tensor3d(m, [batch.size, k, model.hidden[l]]) : null)),
      scales: this.scales,
      l2: this.l2,
      active: this.activeMask,
      cache,
    };
  }

  /** Validation: inference mode, no penalty; the epoch's figures come down in one download. */
  private validate(sums: EpochSums): Float32Array {
    const { tf, cache, shape, xVal, yVal } = this.pack;
    const figures = tf.tidy(() => {
      const proba = tf.transpose(predictAll(tf, cache, this.params, xVal, shape), [2, 0, 1]) as TF.Tensor3D;
      return tf.stack([...sums.means(), crossEntropy(tf, proba, yVal), accuracy(tf, proba, yVal)]);
    });
    sums.dispose();
    const values = figures.dataSync() as Float32Array;
    figures.dispose();
    return values;
  }
}

/** The pack's one batch of shared points, uploaded once (train.ts' sharedBatch). */
export interface SharedBatch {
  batch: Batch;
  tensors: { x: TF.Tensor3D; y: TF.Tensor3D; shared: { points: TF.Tensor2D; pointsT: TF.Tensor2D } };
}

/** One step's update of the weights and of the optimizer's own state, which it keeps. */
interface TensorOptimizer {
  /** Forward, loss, backward and update on the inputs `inputs` makes (inside the step's tf.tidy). */
  step(params: PackedParams, inputs: () => StepInputs): { params: PackedParams; loss: TF.Tensor1D; acc: TF.Tensor1D };
  dispose(): void;
}

/** tfjs' Adam, or SGD with momentum, for all K trainings at once. */
function tensorOptimizer(pack: PackTensors, params: PackedParams): TensorOptimizer {
  const { tf, shape } = pack;
  const opt = pack.optimizer;
  if (opt.kind === 'adam') {
    let state: AdamState = adamInit(tf, params, opt);
    return {
      step(current, inputs) {
        const out = tidy(tf, () => adamStep(tf, current, state, opt, shape, inputs()));
        tf.dispose([...state.m, ...state.v]);
        state = out.adam;
        return out;
      },
      dispose: () => tf.dispose([...state.m, ...state.v]),
    };
  }
  let velocity: TF.Tensor3D[] = flatParams(params).map((p) => tf.zerosLike(p));
  return {
    step(current, inputs) {
      const out = tidy(tf, () => sgdStep(tf, current, velocity, opt, shape, inputs()));
      tf.dispose(velocity);
      velocity = out.velocity;
      return out;
    },
    dispose: () => tf.dispose(velocity),
  };
}

/** An epoch's training loss and accuracy per training, summed over batches weighted by batch size, as Keras averages them. */
class EpochSums {
  private loss: TF.Tensor1D | undefined;
  private acc: TF.Tensor1D | undefined;
  private seen = 0;
  constructor(private readonly tf: Tf) {}

  add(loss: TF.Tensor1D, acc: TF.Tensor1D, size: number): void {
    const { tf } = this;
    const weightedLoss = tf.mul(loss, size) as TF.Tensor1D;
    const weightedAcc = tf.mul(acc, size) as TF.Tensor1D;
    tf.dispose([loss, acc]);
    this.loss = accumulate(tf, this.loss, weightedLoss);
    this.acc = accumulate(tf, this.acc, weightedAcc);
    this.seen += size;
  }

  /** The means [K] of loss and accuracy (call inside tf.tidy). */
  means(): TF.Tensor1D[] {
    return [this.tf.div(this.loss!, this.seen), this.tf.div(this.acc!, this.seen)];
  }

  dispose(): void {
    this.tf.dispose([this.loss!, this.acc!]);
  }
}

const accumulate = (tf: Tf, sum: TF.Tensor1D | undefined, value: TF.Tensor1D): TF.Tensor1D => {
  if (!sum) return value;
  const next = tf.add(sum, value) as TF.Tensor1D;
  tf.dispose([sum, value]);
  return next;
};

export const disposeParams = (p: PackedParams) => flatParams(p).forEach((t) => t.dispose());
const cloneParams = (tf: Tf, p: PackedParams) => unflatParams(flatParams(p).map((t) => tf.clone(t)));

/** Per training i: this epoch's weights where `which[i]`, else the previous snapshot. */
function selectParams(tf: Tf, which: readonly boolean[], current: PackedParams, previous: PackedParams): PackedParams {
  return tidy(tf, () => {
    const mask = tf.tensor3d(which.map(Number), [which.length, 1, 1]);
    const before = flatParams(previous);
    return unflatParams(flatParams(current).map((t, i) => pickTrials(tf, mask, t, before[i])));
  });
}

/** tf.tidy for our own containers of tensors (it keeps every tensor nested in what it returns). */
const tidy = <T>(tf: Tf, fn: () => T): T => tf.tidy(fn as () => TF.TensorContainer) as T;
