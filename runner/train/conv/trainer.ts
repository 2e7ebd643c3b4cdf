/**
 * One training (a trial, or trials that differ only in patience) of a CNN on the conv kernel.
 * The epoch loop is the layers engine's, step for step: each epoch the split is augmented from
 * the trial's augment stream, then shuffled from its shuffle stream; each batch's dropout masks
 * come from its mask stream, layer by layer in forward order. The kernel does the arithmetic of
 * every step; validation, early stopping and snapshots run here, as replay.ts defines them.
 */
import { readFileSync } from 'node:fs';
import type { Trial } from '../../records/config.ts';
import type { Split } from '../../data/types.ts';
import { augmenter } from '../../data/augment.ts';
import type { KernelResult } from '../fused/kernel.d.mts';
import { epochOrder, outputUnits, rateAt, trialStreams, type TrialStreams } from '../init.ts';
import { EPS, accuracy, crossEntropy, toClassProba } from '../metrics.ts';
import { createSnapshotTracker, keptWeights, replayMember, type Training } from '../replay.ts';
import type { History } from '../../records/result.ts';

/** What a worker thread needs to run one training. */
export interface ConvJob {
  trial: Trial;
  training: Training;
  inputShape: number[];
  classes: number;
  train: Split;
  valX: Float32Array;
  valY: number[];
  /** Initial weights, flat in getWeights() order ([kernel, bias] per layer). */
  weights: Float32Array;
}

interface Exports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  reset(): void;
  setup(cfg: number, fcfg: number): number;
  weights(): number;
  mask_size(): number;
  sync(): void;
  step(x: number, rows: number, batch: number, y: number, masks: number, ptrue: number, correct: number): number;
  predict(x: number, n: number, proba: number): void;
}

let compiled: WebAssembly.Module | undefined;
/** The kernel's module, compiled once per thread. */
function convModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(new URL('./kernel.wasm', import.meta.url)));
  return compiled;
}

let instance: Exports | undefined;
const kernel = () => (instance ??= new WebAssembly.Instance(convModule(), {}).exports as unknown as Exports);

/** The kernel's integer configuration: input shape, blocks, dense layers, output, optimizer, batch. */
function convConfig(job: Pick<ConvJob, 'trial' | 'inputShape' | 'classes'>): { cfg: Int32Array; fcfg: Float64Array; rates: number[] } {
  const { model, train: spec, dropout, l2 } = job.trial.config;
  if (model.kind !== 'cnn') throw new Error('the conv kernel trains CNNs only');
  const [h, w, c] = job.inputShape as [number, number, number];
  const rates = [...model.blocks, ...model.dense].map((_, i) => rateAt(dropout, i));
  const opt = spec.optimizer;
  const cfg = Int32Array.from([
    h, w, c, model.blocks.length, model.dense.length, outputUnits(job.classes), opt.kind === 'adam' ? 0 : 1, spec.batchSize,
    ...model.blocks.flatMap((b, i) => [b.filters, b.kernel, b.pool, rates[i] > 0 ? 1 : 0]),
    ...model.dense.flatMap((u, i) => [u, rates[model.blocks.length + i] > 0 ? 1 : 0]),
  ]);
  const fcfg = Float64Array.from([
    opt.learningRate, opt.kind === 'adam' ? opt.beta1 : 0, opt.kind === 'adam' ? opt.beta2 : 0,
    opt.kind === 'adam' ? opt.epsilon : 0, opt.kind === 'sgd' ? opt.momentum : 0, l2,
  ]);
  return { cfg, fcfg, rates };
}

/** Sizes of each dropout layer's output per image (blocks' pooled maps, then dense widths), in forward order. */
function layerSizes(job: Pick<ConvJob, 'trial' | 'inputShape'>): number[] {
  const model = job.trial.config.model;
  if (model.kind !== 'cnn') return [];
  let [h, w] = job.inputShape as [number, number];
  const sizes: number[] = [];
  for (const b of model.blocks) {
    [h, w] = [Math.floor(h / b.pool), Math.floor(w / b.pool)];
    sizes.push(h * w * b.filters);
  }
  return [...sizes, ...model.dense];
}

/**
 * One job's model inside the kernel's memory: set up from the job's configuration, with its
 * weights and the buffers a step and a prediction read and write.
 */
class ConvMemory {
  readonly weightCount: number;
  private readonly k: Exports;
  private readonly weightsPtr: number;
  readonly maskSize: number;
  readonly xPtr: number;
  private readonly yPtr: number;
  private readonly rowsPtr: number;
  private readonly masksPtr: number;
  private readonly ptruePtr: number;
  private readonly correctPtr: number;
  readonly valPtr: number;
  private readonly probaPtr: number;
  private readonly n: number;
  private readonly width: number;

  constructor(job: ConvJob, cfg: Int32Array, fcfg: Float64Array) {
    const k = (this.k = kernel());
    k.reset();
    const weightCount = k.setup(this.copy(Int32Array, cfg), this.copy(Float64Array, fcfg));
    if (weightCount < 0) throw new Error('conv kernel: out of memory');
    if (job.weights.length !== weightCount) throw new Error(`conv kernel: expected ${weightCount} initial weights, got ${job.weights.length}`);
    this.weightCount = weightCount;
    this.weightsPtr = k.weights();
    this.setWeights(job.weights);
    this.n = job.train.x.length;
    this.width = job.inputShape.reduce((a, b) => a * b, 1);
    const batch = job.trial.config.train.batchSize;
    this.maskSize = k.mask_size();
    this.xPtr = this.space(this.n * this.width * 4);
    this.yPtr = this.copy(Int32Array, job.train.y);
    this.rowsPtr = this.space(batch * 4);
    this.masksPtr = this.maskSize ? this.space(batch * this.maskSize * 4) : 0;
    this.ptruePtr = this.space(batch * 4);
    this.correctPtr = this.space(batch * 4);
    this.valPtr = this.copy(Float32Array, job.valX);
    this.probaPtr = this.space(Math.max(job.valY.length, this.n) * outputUnits(job.classes) * 4);
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, n);
  }

  setWeights(w: Float32Array): void {
    this.f32(this.weightsPtr, this.weightCount).set(w);
    this.k.sync();
  }

  /** A copy of the current weights. */
  weights(): Float32Array {
    return this.f32(this.weightsPtr, this.weightCount).slice();
  }

  /** The training split's points (augmented or not), where steps and predictions read them. */
  upload(x: readonly (readonly number[])[]): void {
    const view = this.f32(this.xPtr, this.n * this.width);
    x.forEach((row, i) => view.set(row, i * this.width));
  }

  /** The dropout masks of the next step's batch of b rows, written by `fill`. */
  masks(b: number): Float32Array | null {
    return this.maskSize ? this.f32(this.masksPtr, b * this.maskSize) : null;
  }

  /**
   * One step on the batch of uploaded rows `rows`: forward with the masks, loss, backward and
   * update (the L2 penalty's gradient included). Returns the kernels' Σw² before the update (the
   * penalty without its coefficient), each row's probability of its true class, and how many rows it classified
   * right.
   */
  step(rows: number[]): { penalty: number; ptrue: Float32Array; correct: number } {
    const b = rows.length;
    new Int32Array(this.k.memory.buffer, this.rowsPtr, b).set(rows);
    const penalty = this.k.step(this.xPtr, this.rowsPtr, b, this.yPtr, this.maskSize ? this.masksPtr : 0, this.ptruePtr, this.correctPtr);
    const correct = new Int32Array(this.k.memory.buffer, this.correctPtr, b).reduce((s, v) => s + v, 0);
    return { penalty, ptrue: this.f32(this.ptruePtr, b), correct };
  }

  /** The kernel's outputs for `rows` points at `ptr` (inference mode), as a view valid until the next call. */
  predict(ptr: number, rows: number, outputs: number): Float32Array {
    this.k.predict(ptr, rows, this.probaPtr);
    return this.f32(this.probaPtr, rows * outputs);
  }

  private space(bytes: number): number {
    const ptr = this.k.alloc(Math.max(4, bytes));
    if (!ptr) throw new Error('conv kernel: out of memory');
    return ptr;
  }

  private copy(Type: Int32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor, values: ArrayLike<number>): number {
    const ptr = this.space(values.length * Type.BYTES_PER_ELEMENT);
    new Type(this.k.memory.buffer, ptr, values.length).set(values);
    return ptr;
  }
}

/** Trains the job; `onEpoch` (benchmarks) is told as each epoch ends. */
export function trainConv(job: ConvJob, onEpoch?: (epoch: number) => void): KernelResult {
  const { trial, training, train } = job;
  const spec = trial.config.train;
  const { cfg, fcfg, rates } = convConfig(job);
  const memory = new ConvMemory(job, cfg, fcfg);
  const streams = trialStreams(trial);
  const augment = augmenter({ inputShape: job.inputShape, train }, trial.config.augmentation);
  const dropout = { rates, sizes: layerSizes(job) };
  const history: History = { loss: [], val_loss: [], acc: [], val_acc: [] };
  const tracker = createSnapshotTracker(training.rules);
  const snapshots: (Float32Array | undefined)[] = training.rules.map(() => undefined);
  memory.upload(train.x);
  for (let epoch = 1; epoch <= spec.epochs; epoch++) {
    if (augment) memory.upload(augment(train.x, streams.augment));
    const figures = trainEpoch(memory, job, streams, dropout);
    // validation: inference mode, no penalty
    const proba = toClassProba(memory.predict(memory.valPtr, job.valY.length, outputUnits(job.classes)), job.valY.length, job.classes);
    history.loss.push(figures.loss);
    history.acc.push(figures.acc);
    history.val_loss.push(crossEntropy(proba, job.valY));
    history.val_acc.push(accuracy(proba, job.valY));
    onEpoch?.(epoch);
    if (!Number.isFinite(history.loss.at(-1)!) || !Number.isFinite(history.val_loss.at(-1)!)) break;
    const slots = tracker.observe(history.val_loss.at(-1)!);
    if (slots.length > 0) {
      const weights = memory.weights();
      for (const slot of slots) snapshots[slot] = weights;
    }
    if (tracker.done) break;
  }
  return keptResults(memory, job, history, tracker.epochs, snapshots);
}

/**
 * One epoch over the uploaded (augmented) split in the shuffle stream's order: per batch, each
 * dropout layer's mask for the whole batch in forward order, as the layers engine draws them,
 * then the kernel's step. The epoch's loss adds the L2 penalty c·Σw² to each batch's
 * cross-entropy, as Keras reports it.
 */
function trainEpoch(memory: ConvMemory, job: ConvJob, streams: TrialStreams, dropout: { rates: number[]; sizes: number[] }): { loss: number; acc: number } {
  const spec = job.trial.config.train;
  const n = job.train.x.length;
  const l2 = job.trial.config.l2;
  const order = epochOrder(n, spec.shuffle ? streams.shuffle : null);
  let lossSum = 0;
  let accSum = 0;
  for (let from = 0; from < n; from += spec.batchSize) {
    const rows = order.slice(from, from + spec.batchSize);
    const b = rows.length;
    const masks = memory.masks(b);
    if (masks) {
      let offset = 0;
      dropout.sizes.forEach((size, l) => {
        if (dropout.rates[l] <= 0) return;
        streams.dropout.fillMask(masks, offset, b * size, dropout.rates[l]);
        offset += b * size;
      });
    }
    const { penalty, ptrue, correct } = memory.step(rows);
    let data = 0;
    for (let j = 0; j < b; j++) data -= Math.log(Math.min(1 - EPS, Math.max(EPS, ptrue[j])));
    lossSum += data + l2 * penalty * b;
    accSum += correct;
  }
  return { loss: lossSum / n, acc: accSum / n };
}

/** Each rule's stop and kept weights, then predictions at those weights (the training split un-augmented). */
function keptResults(memory: ConvMemory, job: ConvJob, history: History, observed: number, snapshots: (Float32Array | undefined)[]): KernelResult {
  const { training, train } = job;
  const epochs = job.trial.config.train.epochs;
  const outputs = outputUnits(job.classes);
  const n = train.x.length;
  const trained = history.loss.length;
  const final = memory.weights();
  const stops = new Int32Array(2 * training.rules.length);
  const kept: Float32Array[] = [];
  const probas: KernelResult['proba'] = [];
  memory.upload(train.x);
  training.rules.forEach((rule, slot) => {
    const { length, point } = replayMember(history, observed, rule);
    stops[2 * slot] = length;
    stops[2 * slot + 1] = point.bestEpoch;
    const weights = keptWeights(point, trained) === 'snapshot' ? snapshots[slot] ?? final : final;
    kept.push(weights);
    memory.setWeights(weights);
    const probaTrain = memory.predict(memory.xPtr, n, outputs).slice();
    probas.push({ train: probaTrain, val: memory.predict(memory.valPtr, job.valY.length, outputs).slice(), surface: null });
  });
  const series = new Float32Array(4 * epochs);
  [history.loss, history.val_loss, history.acc, history.val_acc].forEach((s, i) => series.set(s, i * epochs));
  return { epochsRun: trained, history: series, stops, kept, proba: probas };
}
