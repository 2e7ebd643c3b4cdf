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
import { epochOrder, outputUnits, rateAt, trialStreams } from '../init.ts';
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
    ...model.blocks.flatMap((b, i) => [b.filters, b.kernel, b.pool, rates[i]! > 0 ? 1 : 0]),
    ...model.dense.flatMap((u, i) => [u, rates[model.blocks.length + i]! > 0 ? 1 : 0]),
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

/** Trains the job; `onEpoch` (benchmarks) is told as each epoch ends. */
export function trainConv(job: ConvJob, onEpoch?: (epoch: number) => void): KernelResult {
  const k = kernel();
  const { trial, training, train } = job;
  const spec = trial.config.train;
  const { cfg, fcfg, rates } = convConfig(job);
  const at = (Type: Int32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor, values: ArrayLike<number>) => {
    const ptr = k.alloc(Math.max(4, values.length * Type.BYTES_PER_ELEMENT));
    if (!ptr) throw new Error('conv kernel: out of memory');
    new Type(k.memory.buffer, ptr, values.length).set(values);
    return ptr;
  };
  const space = (bytes: number) => {
    const ptr = k.alloc(Math.max(4, bytes));
    if (!ptr) throw new Error('conv kernel: out of memory');
    return ptr;
  };
  k.reset();
  const cfgPtr = at(Int32Array, cfg);
  const fcfgPtr = at(Float64Array, fcfg);
  const nw = k.setup(cfgPtr, fcfgPtr);
  if (nw < 0) throw new Error('conv kernel: out of memory');
  if (job.weights.length !== nw) throw new Error(`conv kernel: expected ${nw} initial weights, got ${job.weights.length}`);
  const f32 = (ptr: number, n: number) => new Float32Array(k.memory.buffer, ptr, n);
  const wPtr = k.weights();
  const setWeights = (w: Float32Array) => {
    f32(wPtr, nw).set(w);
    k.sync();
  };
  setWeights(job.weights);

  const n = train.x.length;
  const D = job.inputShape.reduce((a, b) => a * b, 1);
  const B = spec.batchSize;
  const outputs = outputUnits(job.classes);
  const sizes = layerSizes(job);
  const maskSize = k.mask_size();
  const xPtr = space(n * D * 4);
  const yPtr = at(Int32Array, train.y);
  const rowsPtr = space(B * 4);
  const masksPtr = maskSize ? space(B * maskSize * 4) : 0;
  const ptruePtr = space(B * 4);
  const correctPtr = space(B * 4);
  const valPtr = at(Float32Array, job.valX);
  const nVal = job.valY.length;
  const probaPtr = space(Math.max(nVal, n) * outputs * 4);
  const upload = (x: readonly (readonly number[])[]) => {
    const view = f32(xPtr, n * D);
    x.forEach((row, i) => view.set(row, i * D));
  };
  const predict = (ptr: number, rows: number) => {
    k.predict(ptr, rows, probaPtr);
    return toClassProba(f32(probaPtr, rows * outputs), rows, job.classes);
  };

  const streams = trialStreams(trial);
  const augment = augmenter({ inputShape: job.inputShape, train }, trial.config.augmentation);
  const l2 = trial.config.l2;
  const history: History = { loss: [], val_loss: [], acc: [], val_acc: [] };
  const tracker = createSnapshotTracker(training.rules);
  const snapshots: (Float32Array | undefined)[] = training.rules.map(() => undefined);
  upload(train.x);
  for (let epoch = 1; epoch <= spec.epochs; epoch++) {
    if (augment) upload(augment(train.x, streams.augment));
    const order = epochOrder(n, spec.shuffle ? streams.shuffle : null);
    let lossSum = 0;
    let accSum = 0;
    for (let from = 0; from < n; from += B) {
      const rows = order.slice(from, from + B);
      const b = rows.length;
      new Int32Array(k.memory.buffer, rowsPtr, b).set(rows);
      if (maskSize) {
        // each dropout layer's mask for the whole batch, in forward order, as the layers engine draws them
        const masks = f32(masksPtr, b * maskSize);
        let offset = 0;
        sizes.forEach((size, l) => {
          if (rates[l]! <= 0) return;
          streams.dropout.fillMask(masks, offset, b * size, rates[l]!);
          offset += b * size;
        });
      }
      const penalty = k.step(xPtr, rowsPtr, b, yPtr, maskSize ? masksPtr : 0, ptruePtr, correctPtr);
      const ptrue = f32(ptruePtr, b);
      let data = 0;
      for (let j = 0; j < b; j++) data -= Math.log(Math.min(1 - EPS, Math.max(EPS, ptrue[j]!)));
      lossSum += data + l2 * penalty * b;
      accSum += new Int32Array(k.memory.buffer, correctPtr, b).reduce((s, v) => s + v, 0);
    }
    // validation: inference mode, no penalty
    const proba = predict(valPtr, nVal);
    history.loss.push(lossSum / n);
    history.acc.push(accSum / n);
    history.val_loss.push(crossEntropy(proba, job.valY));
    history.val_acc.push(accuracy(proba, job.valY));
    onEpoch?.(epoch);
    if (!Number.isFinite(history.loss.at(-1)!) || !Number.isFinite(history.val_loss.at(-1)!)) break;
    const slots = tracker.observe(history.val_loss.at(-1)!);
    if (slots.length > 0) {
      const weights = f32(wPtr, nw).slice();
      for (const slot of slots) snapshots[slot] = weights;
    }
    if (tracker.done) break;
  }
  const trained = history.loss.length;
  const final = f32(wPtr, nw).slice();

  // Each rule's stop and kept weights, then predictions at those weights (the training split un-augmented).
  const stops = new Int32Array(2 * training.rules.length);
  const kept: Float32Array[] = [];
  const probas: KernelResult['proba'] = [];
  upload(train.x);
  training.rules.forEach((rule, slot) => {
    const { length, point } = replayMember(history, tracker.epochs, rule);
    stops[2 * slot] = length;
    stops[2 * slot + 1] = point.bestEpoch;
    const weights = keptWeights(point, trained) === 'snapshot' ? snapshots[slot] ?? final : final;
    kept.push(weights);
    setWeights(weights);
    k.predict(xPtr, n, probaPtr);
    const probaTrain = f32(probaPtr, n * outputs).slice();
    k.predict(valPtr, nVal, probaPtr);
    probas.push({ train: probaTrain, val: f32(probaPtr, nVal * outputs).slice(), surface: null });
  });
  const series = new Float32Array(4 * spec.epochs);
  [history.loss, history.val_loss, history.acc, history.val_acc].forEach((s, i) => series.set(s, i * spec.epochs));
  return { epochsRun: trained, history: series, stops, kept, proba: probas };
}
