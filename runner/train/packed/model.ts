import type * as TF from '../tfjs.ts';
import type { Activation } from '../../records/config.ts';

/**
 * The maths of K MLP trials trained as one computation: the input layer as rows
 * [K, units, features + 1], each later layer a kernel [K, in, out] and a bias [K, 1, out]. Pure
 * functions of tensors; train.ts and trainings.ts do the bookkeeping around them.
 *
 * The backward pass is written out rather than left to tf.grad: the trials are independent, so
 * every gradient is a per-trial reduction, and the layouts are chosen so that each reduction is
 * one pass over memory. Validation lays activations out units-first ([K·units, N]): the input
 * layer is one 2-D matMul and the output layer's sum over units a segment sum per trial. Training
 * does the same when every trial sees the same points (sharedPointsGrads); otherwise it lays them
 * out points-first ([B, K, units]): the input layer is one depthwise convolution for all K trials
 * and sums over the points are segment sums over rows. The loss and its
 * gradient at the logits follow tfjs-layers' clip-then-logit cross-entropy, as the layers engine,
 * the reference, computes them.
 */
export type Tf = typeof TF;

export interface PackedParams {
  /**
   * The input layer as rows [K, units, features + 1]: each unit's kernel column, then its bias.
   * The units-first passes read it as it is (a matMul by the points with a row of ones), the
   * points-first ones as a depthwise filter over inputs with a feature of ones, and the sums over
   * the points that make its gradient come out in it.
   */
  input: TF.Tensor3D;
  /** The later layers' kernels [K, in, out], the output layer last. */
  kernels: TF.Tensor3D[];
  /** The later layers' biases [K, 1, out]. */
  biases: TF.Tensor3D[];
}

export interface PackedShape {
  activation: Activation;
  /** Output units: 1 (sigmoid, binary cross-entropy) or C (softmax, categorical cross-entropy). */
  outputs: number;
}

/** Inputs up to this many features enter the weight gradient one multiply each; wider ones through a batched matMul. */
const fewFeatures = 8;
/** Output layers up to this many units are per-unit segment sums in validation; wider ones a batched matMul. */
const fewOutputs = 16;

/** The input rows, then each later layer's kernel and bias. */
export const flatParams = (p: PackedParams): TF.Tensor3D[] => [p.input, ...p.kernels.flatMap((k, i) => [k, p.biases[i]])];
export const unflatParams = (flat: TF.Tensor[]): PackedParams => ({
  input: flat[0] as TF.Tensor3D,
  kernels: flat.filter((_, i) => i % 2 === 1) as TF.Tensor3D[],
  biases: flat.filter((_, i) => i > 0 && i % 2 === 0) as TF.Tensor3D[],
});

/** [1, 1, features + 1]: 1 on the input rows' kernel entries, 0 on their bias. */
const kernelEntries = (tf: Tf, width: number) => tf.concat([tf.ones([1, 1, width - 1]), tf.zeros([1, 1, 1])], 2) as TF.Tensor3D;

/**
 * Index tensors a pack reuses every epoch (segment ids, ranges), made once and kept outside
 * tf.tidy until dispose(): building them costs more than the ops that read them.
 */
export class TensorCache {
  private readonly tensors = new Map<string, TF.Tensor>();
  constructor(private readonly tf: Tf) {}

  get<T extends TF.Tensor>(key: string, make: () => T): T {
    let t = this.tensors.get(key);
    if (!t) {
      t = this.tf.keep(make());
      this.tensors.set(key, t);
    }
    return t as T;
  }

  dispose(): void {
    this.tf.dispose([...this.tensors.values()]);
    this.tensors.clear();
  }
}

/**
 * Sums rows [segments·length, columns] in consecutive groups of `length` → [segments, columns].
 * On wasm a segment sum: one pass over memory, where tf.sum over a leading or middle axis
 * transposes first, and a matMul with a row of ones repacks its changing right operand on every
 * call (XNNPACK caches packed weights only for a tensor it has seen). Other backends (tfjs-node,
 * CUDA) reduce well along any axis and may lack a fast segment sum: they use tf.sum.
 */
function segmentSums(tf: Tf, cache: TensorCache, rows: TF.Tensor, segments: number, length: number): TF.Tensor2D {
  const columns = rows.size / (segments * length);
  if (tf.getBackend() !== 'wasm') return tf.sum(tf.reshape(rows, [segments, length, columns]), 1);
  const indices = cache.get(`range:${segments * length}`, () => tf.range(0, segments * length, 1, 'int32') as TF.Tensor1D);
  const ids = cache.get(`segments:${segments}:${length}`, () => tf.tensor1d(segmentIds(segments, length), 'int32'));
  return tf.sparse.sparseSegmentSum(tf.reshape(rows, [segments * length, columns]), indices, ids) as TF.Tensor2D;
}

/** Sums over the leading axis of t, n long. */
const sumLeading = (tf: Tf, cache: TensorCache, t: TF.Tensor, n: number): TF.Tensor2D => segmentSums(tf, cache, t, 1, n);

function activate(tf: Tf, z: TF.Tensor, activation: Activation): TF.Tensor {
  if (activation === 'relu') return tf.relu(z);
  if (activation === 'tanh') return tf.tanh(z);
  return tf.sigmoid(z);
}

/** d activation / d z from the activation's own output h (before dropout). */
function activationSlope(tf: Tf, h: TF.Tensor, activation: Activation): TF.Tensor {
  if (activation === 'relu') return tf.step(h);
  if (activation === 'tanh') return tf.sub(1, tf.square(h));
  return tf.mul(h, tf.sub(1, h));
}

/** The output layer's probabilities, softmax or sigmoid along the last axis. */
const outputActivation = (tf: Tf, z: TF.Tensor, outputs: number) => (outputs === 1 ? tf.sigmoid(z) : tf.softmax(z));

/**
 * Per-trial mean cross-entropy [K] of probabilities laid out [points, K, outputs], as tfjs-layers'
 * binary/categorical cross-entropy computes it (clip, then logits).
 */
export function crossEntropy(tf: Tf, proba: TF.Tensor3D, target: TF.Tensor3D): TF.Tensor1D {
  const eps = tf.backend().epsilon();
  if (proba.shape[2] === 1) {
    const clipped = tf.clipByValue(proba, eps, 1 - eps);
    const logits = tf.log(tf.div(clipped, tf.sub(1, clipped)));
    const perPoint = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean(perPoint, [0, 2]);
  }
  const normalised = tf.clipByValue(tf.div(proba, tf.sum(proba, 2, true)), eps, 1 - eps);
  return tf.mean(tf.neg(tf.sum(tf.mul(target, tf.log(normalised)), 2)), 0);
}

/**
 * Per-trial accuracy [K] of probabilities laid out [points, K, outputs]: p > 0.5 for one output,
 * argmax otherwise. In float arithmetic: wasm compares booleans against a broadcast target one
 * element at a time.
 */
export function accuracy(tf: Tf, proba: TF.Tensor3D, target: TF.Tensor3D): TF.Tensor1D {
  if (proba.shape[2] === 1) return tf.sub(1, tf.mean(tf.abs(tf.sub(tf.step(tf.sub(proba, 0.5)), target)), [0, 2]));
  const predicted = tf.cast(tf.oneHot(tf.argMax(proba, 2), proba.shape[2]), 'float32');
  return tf.mean(tf.sum(tf.mul(predicted, target), 2), 0);
}

/** Keras' l2(c) on every kernel: c · Σw², no ½. l2 is [K]. */
function l2Penalty(tf: Tf, params: PackedParams, l2: TF.Tensor1D): TF.Tensor1D {
  const inputKernel = tf.mul(params.input, kernelEntries(tf, params.input.shape[2]));
  let sumSquares = tf.sum(tf.square(inputKernel), [1, 2]) as TF.Tensor1D;
  for (const k of params.kernels) sumSquares = tf.add(sumSquares, tf.sum(tf.square(k), [1, 2]));
  return tf.mul(l2, sumSquares);
}

/**
 * Inference-mode class probabilities [K, outputs, N] of every trial on the same N points.
 * `xT` is the points transposed with a row of ones for the bias, [features + 1, N]
 * (`validationInputs`). Activations are [K·units, N]: the first layer is one 2-D matMul for all
 * K trials, and a one-unit output layer a multiply and a segment sum per trial.
 */
export function predictAll(tf: Tf, cache: TensorCache, params: PackedParams, xT: TF.Tensor2D, shape: PackedShape): TF.Tensor3D {
  const k = params.input.shape[0];
  const n = xT.shape[1];
  const layers = params.kernels.length + 1;
  let h: TF.Tensor = firstLayerUnitsFirst(tf, params, xT, shape.activation, layers === 1);
  for (let l = 1; l < layers; l++) {
    const kernel = params.kernels[l - 1];
    const [inner, out] = [kernel.shape[1], kernel.shape[2]];
    let z: TF.Tensor;
    if (l === layers - 1 && out <= fewOutputs) {
      // Σ over units per trial: a multiply by the kernel column, then a segment sum per trial.
      const rows = tf.reshape(h, [k * inner, n]);
      const columns = Array.from({ length: out }, (_, c) => {
        const column = tf.reshape(out === 1 ? kernel : tf.slice(kernel, [0, 0, c], [-1, -1, 1]), [k * inner, 1]);
        return segmentSums(tf, cache, tf.mul(rows, column), k, inner);
      });
      z = tf.add(tf.stack(columns, 1), tf.reshape(params.biases[l - 1], [k, out, 1]));
    } else {
      z = tf.add(tf.matMul(kernel, tf.reshape(h, [k, inner, n]), true, false), tf.reshape(params.biases[l - 1], [k, out, 1]));
    }
    h = l === layers - 1 ? z : activate(tf, z, shape.activation);
  }
  h = tf.reshape(h, [k, shape.outputs, n]);
  // softmax runs along the last axis: classes go last for it and come back
  return (shape.outputs === 1 ? tf.sigmoid(h) : tf.transpose(tf.softmax(tf.transpose(h, [0, 2, 1])), [0, 2, 1])) as TF.Tensor3D;
}

/** A pack's weights as host arrays, in flatParams order: the input rows [K, units, features + 1], then [K, in, out] kernels and [K, 1, out] biases. */
export type HostParams = Float32Array[];

/** HostParams for K trials from each trial's weights in Keras order (kernel [in·out], bias [out] per layer). */
export function hostParams(weights: Float32Array[][], sizes: number[]): HostParams {
  const [features, units] = [sizes[0], sizes[1]];
  const width = features + 1;
  const input = new Float32Array(weights.length * units * width);
  weights.forEach((w, t) => {
    checkLayer(w, 0, features, units);
    const [kernel, bias] = [w[0], w[1]];
    for (let u = 0; u < units; u++) {
      const row = (t * units + u) * width;
      for (let f = 0; f < features; f++) input[row + f] = kernel[f * units + u];
      input[row + features] = bias[u];
    }
  });
  return [input, ...sizes.slice(2).flatMap((fanOut, i) => {
    const l = i + 1;
    const fanIn = sizes[l];
    const kernel = new Float32Array(weights.length * fanIn * fanOut);
    const bias = new Float32Array(weights.length * fanOut);
    weights.forEach((w, t) => {
      checkLayer(w, l, fanIn, fanOut);
      kernel.set(w[2 * l], t * fanIn * fanOut);
      bias.set(w[2 * l + 1], t * fanOut);
    });
    return [kernel, bias];
  })];
}

function checkLayer(w: Float32Array[], l: number, fanIn: number, fanOut: number): void {
  if (w[2 * l]?.length !== fanIn * fanOut || w[2 * l + 1]?.length !== fanOut) throw new Error(`initial weights of layer ${l} do not match the model ${fanIn}→${fanOut}`);
}

/** HostParams of K trials as tensors; `sizes` are the layer widths, features first. */
export function uploadParams(tf: Tf, host: HostParams, k: number, sizes: number[]): PackedParams {
  return {
    input: tf.tensor3d(host[0], [k, sizes[1], sizes[0] + 1]),
    kernels: sizes.slice(2).map((fanOut, i) => tf.tensor3d(host[2 * i + 1], [k, sizes[i + 1], fanOut])),
    biases: sizes.slice(2).map((fanOut, i) => tf.tensor3d(host[2 * i + 2], [k, 1, fanOut])),
  };
}

/** Points x [N][features] as predictAll takes them: transposed, with a row of ones. */
export function validationInputs(tf: Tf, x: number[][], features: number): TF.Tensor2D {
  const n = x.length;
  const values = new Float32Array((features + 1) * n);
  x.forEach((row, j) => {
    for (let i = 0; i < features; i++) values[i * n + j] = row[i];
    values[features * n + j] = 1;
  });
  return tf.tensor2d(values, [features + 1, n]);
}

function firstLayerUnitsFirst(tf: Tf, params: PackedParams, xT: TF.Tensor2D, activation: Activation, isOutput: boolean): TF.Tensor {
  const [k, units, width] = params.input.shape;
  const weights = tf.reshape(params.input, [k * units, width]);
  if (!isOutput && activation === 'relu') return tf.fused.matMul({ a: weights, b: xT, activation: 'relu' });
  const z = tf.matMul(weights, xT);
  return isOutput ? z : activate(tf, z, activation);
}

function segmentIds(segments: number, length: number): Int32Array {
  const ids = new Int32Array(segments * length);
  for (let i = 0; i < segments; i++) ids.fill(i, i * length, (i + 1) * length);
  return ids;
}

export interface StepInputs {
  /** [B, features + 1, K]: each trial's batch with a feature of ones (for the bias), trials last (the depthwise convolution's channels). */
  x: TF.Tensor3D;
  /**
   * When every trial's batch holds the same points in the same order (one full batch, no
   * augmentation, no dropout): those points [B, features + 1] with a column of ones, and their
   * transpose. Otherwise null.
   */
  shared: { points: TF.Tensor2D; pointsT: TF.Tensor2D } | null;
  /** [B, K, outputs] */
  y: TF.Tensor3D;
  /** Per hidden layer [B, K, units] (0 or 1/keep), or null where no trial drops out. */
  masks: (TF.Tensor3D | null)[];
  /** Per hidden layer each trial's 1/keep [K] (1 where it keeps all), or null where no trial drops out. */
  scales: (TF.Tensor1D | null)[];
  /** Each trial's L2 coefficient [K], or null where no trial is penalised. */
  l2: TF.Tensor1D | null;
  /** [K, 1, 1] 1 or 0, or null when every trial is still training. Frozen trials (0) keep weights and moments. */
  active: TF.Tensor3D | null;
  cache: TensorCache;
}

interface Gradients {
  grads: TF.Tensor3D[];
  /** [K] training-mode loss, penalty included (what the step differentiated). */
  loss: TF.Tensor1D;
  /** [K] training-mode accuracy. */
  acc: TF.Tensor1D;
}

/**
 * Forward and backward for all K trials, points-first. Each trial's loss is its data loss plus
 * c·Σw²; the gradients are each trial's own, returned in flatParams order.
 */
function lossAndGrads(tf: Tf, params: PackedParams, shape: PackedShape, inputs: StepInputs): Gradients {
  const layers = params.kernels.length + 1;
  const [k, , width] = params.input.shape;
  const oneHiddenRelu = layers === 2 && shape.outputs === 1 && shape.activation === 'relu' && width - 1 <= fewFeatures;
  const data = oneHiddenRelu && inputs.shared
    ? sharedPointsGrads(tf, params, inputs, inputs.shared)
    : oneHiddenRelu ? oneHiddenReluGrads(tf, params, inputs) : generalGrads(tf, params, shape, inputs);
  // Keras' penalty c·Σw² adds 2c·w to each kernel's gradient (the input rows' bias column excepted)
  if (!inputs.l2) return data;
  const twiceL2 = tf.mul(tf.reshape(inputs.l2, [k, 1, 1]), 2);
  const flat = flatParams(params);
  const grads = data.grads.map((g, i) => {
    if (i === 0) return tf.add(g, tf.mul(tf.mul(twiceL2, kernelEntries(tf, width)), flat[0])) as TF.Tensor3D;
    return i % 2 === 1 ? (tf.add(g, tf.mul(twiceL2, flat[i])) as TF.Tensor3D) : g;
  });
  return { grads, acc: data.acc, loss: tf.add(data.loss, l2Penalty(tf, params, inputs.l2)) as TF.Tensor1D };
}

/**
 * The data loss [K], its gradient at the logits and the accuracy. The gradient of tfjs-layers'
 * clip-then-logit cross-entropy by the logits is (p − y)/B where the true class's probability
 * lies within [ε, 1 − ε], and 0 where the clip holds it (a saturated point stops learning).
 */
function lossAtLogits(tf: Tf, logits: TF.Tensor, shape: PackedShape, y: TF.Tensor3D) {
  const proba = outputActivation(tf, logits, shape.outputs) as TF.Tensor3D;
  const loss = crossEntropy(tf, proba, y);
  const acc = accuracy(tf, proba, y);
  const eps = tf.backend().epsilon();
  const trueClass = shape.outputs === 1 ? proba : tf.sum(tf.mul(tf.div(proba, tf.sum(proba, 2, true)), y), 2, true);
  const unclipped = tf.cast(tf.logicalAnd(tf.greaterEqual(trueClass, eps), tf.lessEqual(trueClass, 1 - eps)), 'float32');
  const dLogits = tf.mul(tf.sub(proba, y), tf.div(unclipped, proba.shape[0]));
  return { loss, dLogits, acc };
}

/** Any MLP: forward layer by layer, then backward through each, without the penalty. */
function generalGrads(tf: Tf, params: PackedParams, shape: PackedShape, inputs: StepInputs): Gradients {
  const layers = params.kernels.length + 1;
  const [b, , k] = inputs.x.shape;
  // forward: hidden[l] is hidden layer l's output after dropout (what layer l + 1 reads), slopes[l]
  // its derivative by the pre-activation, mask included
  const hidden: TF.Tensor[] = [];
  const slopes: TF.Tensor[] = [];
  let z: TF.Tensor = firstLayerPointsFirst(tf, params, inputs.x, shape.activation, layers === 1);
  for (let l = 0; l < layers - 1; l++) {
    const mask = inputs.masks[l];
    const slope = activationSlope(tf, z, shape.activation);
    slopes.push(mask ? tf.mul(slope, mask) : slope);
    const h = mask ? tf.mul(z, mask) : z;
    hidden.push(h);
    z = densePointsFirst(tf, h, params.kernels[l], params.biases[l], l + 1 === layers - 1 ? null : shape.activation);
  }
  const { loss, dLogits, acc } = lossAtLogits(tf, z, shape, inputs.y);

  // backward, layer by layer from the output (flatParams order: input rows, then kernel and bias per layer)
  const grads: TF.Tensor3D[] = new Array(2 * layers - 1);
  let dz: TF.Tensor = dLogits;
  for (let l = layers - 1; l > 0; l--) {
    const kernel = params.kernels[l - 1];
    const [inner, out] = [kernel.shape[1], kernel.shape[2]];
    grads[2 * l - 1] = kernelGradPointsFirst(tf, inputs.cache, hidden[l - 1], dz, b, k, inner, out) as TF.Tensor3D;
    grads[2 * l] = tf.reshape(sumLeading(tf, inputs.cache, dz, b), [k, 1, out]);
    const dh = out === 1 ? tf.mul(dz, tf.reshape(kernel, [1, k, inner])) : backThroughKernel(tf, dz, kernel);
    dz = tf.mul(dh, slopes[l - 1]);
  }
  grads[0] = tf.transpose(firstLayerKernelGrad(tf, inputs.cache, inputs.x, dz, params.input.shape[1]), [0, 2, 1]) as TF.Tensor3D;
  return { grads, loss, acc };
}

/**
 * The seed's shape, features → relu units → one sigmoid output, with every gradient from F + 1
 * reductions over the points. With S = step(hidden) (0 where relu or dropout zeroed a unit),
 * s the trial's dropout scale and δ the logits' gradient, the input layer's pre-activation
 * gradient is δ·w·s·S, so with R_i = Σ_n x_i·δ·S and R_b = Σ_n δ·S:
 *   dW₁[i] = w·s·R_i,  db₁ = w·s·R_b,  dw = s·(Σ_i W₁[i]·R_i + b₁·R_b)
 * the last because hidden = (x·W₁ + b₁)·S·s. No [B, K, units] gradient is ever formed.
 */
function oneHiddenReluGrads(tf: Tf, params: PackedParams, inputs: StepInputs): Gradients {
  const [b, width, k] = inputs.x.shape;
  const kernel1 = params.kernels[0];
  const units = params.input.shape[1];
  const mask = inputs.masks[0];
  const scale = mask ? inputs.scales[0] : null;
  // forward
  const a = firstLayerPointsFirst(tf, params, inputs.x, 'relu', false);
  const hidden = mask ? tf.mul(a, mask) : a;
  const active = tf.step(hidden);
  const w = tf.reshape(kernel1, [1, k, units]);
  const logits = tf.add(tf.sum(tf.mul(hidden, w), 2, true), tf.reshape(params.biases[0], [1, k, 1]));
  const { loss, dLogits, acc } = lossAtLogits(tf, logits, { activation: 'relu', outputs: 1 }, inputs.y);
  // backward: F + 1 reductions over the points, [K, units, F + 1] as the input rows
  const reduce = (c: TF.Tensor) => tf.reshape(sumLeading(tf, inputs.cache, tf.mul(active, c), b), [k, 1, units]);
  const perFeature = Array.from({ length: width - 1 }, (_, i) => reduce(tf.mul(dLogits, tf.reshape(tf.slice(inputs.x, [0, i, 0], [-1, 1, -1]), [b, k, 1]))));
  const byRow = tf.concat([...perFeature, reduce(dLogits)], 1) as TF.Tensor3D;
  const ws = tf.reshape(scale ? tf.mul(w, tf.reshape(scale, [1, k, 1])) : w, [k, 1, units]);
  let dw = tf.sum(tf.mul(params.input, tf.transpose(byRow, [0, 2, 1])), 2, true);
  if (scale) dw = tf.mul(dw, tf.reshape(scale, [k, 1, 1]));
  const grads = [scaleUnits(tf, byRow, ws, false), dw, tf.reshape(tf.sum(dLogits, 0), [k, 1, 1])] as TF.Tensor3D[];
  return { grads, loss, acc };
}

/**
 * oneHiddenReluGrads when every trial sees the same points, laid out units-first as in
 * validation: the input layer is one 2-D matMul for all K trials, the output layer a multiply and
 * a segment sum per trial, and the F + 1 reductions over the points one matMul of
 * T = δ·S [K·units, B] by the points [B, F + 1], a right operand that stays the same tensor from
 * step to step, so XNNPACK packs it once.
 */
function sharedPointsGrads(tf: Tf, params: PackedParams, inputs: StepInputs, shared: NonNullable<StepInputs['shared']>): Gradients {
  const [k, units, width] = params.input.shape;
  const w = tf.reshape(params.kernels[0], [k * units, 1]);
  const b = shared.points.shape[0];
  // forward
  const rows = tf.reshape(params.input, [k * units, width]);
  const hidden = tf.fused.matMul({ a: rows, b: shared.pointsT, activation: 'relu' }) as TF.Tensor2D;
  const logitsKB = tf.add(segmentSums(tf, inputs.cache, tf.mul(hidden, w), k, units), tf.reshape(params.biases[0], [k, 1]));
  const logits = tf.reshape(tf.transpose(logitsKB), [b, k, 1]);
  const { loss, dLogits, acc } = lossAtLogits(tf, logits, { activation: 'relu', outputs: 1 }, inputs.y);
  // backward: r [K·units, F + 1] holds oneHiddenReluGrads' R_i and R_b per unit, as the input rows
  const r = sharedPointSums(tf, hidden, tf.reshape(tf.transpose(tf.reshape(dLogits, [b, k])), [k, 1, b]), shared.points);
  const dRows = scaleUnits(tf, tf.reshape(r, [k, units, width]), tf.reshape(w, [k, 1, units]), true);
  const dw = tf.reshape(tf.sum(tf.mul(rows, r), 1), [k, units, 1]);
  const grads = [dRows, dw, tf.reshape(tf.sum(dLogits, 0), [k, 1, 1])] as TF.Tensor3D[];
  return { grads, loss, acc };
}

/**
 * The F + 1 sums over the shared points per hidden unit, Σ_n δ·step(hidden)·[x, 1], as one
 * matMul of δ·step(hidden) [K·units, B] by the points [B, F + 1]: hidden [K·units, B] holds each
 * trial's units in one block (in any order within it), δ is the logits' gradient laid out [K, 1, B].
 */
export function sharedPointSums(tf: Tf, hidden: TF.Tensor2D, delta: TF.Tensor3D, points: TF.Tensor2D): TF.Tensor2D {
  const [rows, b] = hidden.shape;
  const k = delta.shape[0];
  const t = tf.reshape(tf.mul(tf.reshape(tf.step(hidden), [k, rows / k, b]), delta), [rows, b]);
  return tf.matMul(t, points) as TF.Tensor2D;
}

/**
 * Input-row gradients [K, units, features + 1] from per-unit sums laid out [K, features + 1, units]
 * (or already as rows, `asRows`) times a per-unit factor [K, 1, units]. The multiply happens with
 * units last: broadcast across a last axis only a few long, wasm multiplies an element at a time.
 */
function scaleUnits(tf: Tf, sums: TF.Tensor3D, factor: TF.Tensor, asRows: boolean): TF.Tensor3D {
  const byRow = asRows ? tf.transpose(sums, [0, 2, 1]) : sums;
  return tf.transpose(tf.mul(byRow, factor), [0, 2, 1]) as TF.Tensor3D;
}

/**
 * The input layer for per-trial inputs x [B, features + 1, K]: a depthwise convolution whose K
 * channels each multiply into `units` outputs is K small matMuls in one call, the bias through
 * the feature of ones and relu fused; out comes [B, K, units].
 */
function firstLayerPointsFirst(tf: Tf, params: PackedParams, x: TF.Tensor3D, activation: Activation, isOutput: boolean): TF.Tensor {
  const [k, units, width] = params.input.shape;
  const b = x.shape[0];
  const filter = tf.reshape(tf.transpose(params.input, [2, 0, 1]), [1, width, k, units]) as TF.Tensor4D;
  const input = tf.reshape(x, [1, b, width, k]) as TF.Tensor4D;
  const fused = !isOutput && activation === 'relu';
  const z = tf.fused.depthwiseConv2d({ x: input, filter, strides: 1, pad: 'valid', activation: fused ? 'relu' : 'linear' });
  const h = tf.reshape(z, [b, k, units]);
  return isOutput || fused ? h : activate(tf, h, activation);
}

/** A later layer, points-first: h [B, K, in] → [B, K, out], with its activation unless it is the output layer. */
function densePointsFirst(tf: Tf, h: TF.Tensor, kernel: TF.Tensor3D, bias: TF.Tensor3D, activation: Activation | null): TF.Tensor {
  const [k, inner, out] = kernel.shape;
  let z: TF.Tensor;
  if (out === 1) z = tf.sum(tf.mul(h, tf.reshape(kernel, [1, k, inner])), 2, true);
  else z = tf.transpose(tf.matMul(tf.transpose(h, [1, 0, 2]), kernel), [1, 0, 2]);
  z = tf.add(z, tf.reshape(bias, [1, k, out]));
  return activation ? activate(tf, z, activation) : z;
}

/** Σ over points of h[n,k,i]·dz[n,k,o] → [K, in, out]. */
function kernelGradPointsFirst(tf: Tf, cache: TensorCache, h: TF.Tensor, dz: TF.Tensor, b: number, k: number, inner: number, out: number): TF.Tensor {
  if (out === 1) return tf.reshape(sumLeading(tf, cache, tf.mul(h, dz), b), [k, inner, 1]);
  return tf.matMul(tf.transpose(h, [1, 0, 2]), tf.transpose(dz, [1, 0, 2]), true, false);
}

/** Σ over points of x[n,i,k]·dz[n,k,h] → [K, features + 1, units], x being [B, features + 1, K] (the last row: the bias's). */
function firstLayerKernelGrad(tf: Tf, cache: TensorCache, x: TF.Tensor3D, dz: TF.Tensor, units: number): TF.Tensor {
  const [b, width, k] = x.shape;
  if (width - 1 <= fewFeatures) {
    const rows = Array.from({ length: width }, (_, i) => {
      const weighted = i === width - 1 ? dz : tf.mul(dz, tf.reshape(tf.slice(x, [0, i, 0], [-1, 1, -1]), [b, k, 1]));
      return tf.reshape(sumLeading(tf, cache, weighted, b), [k, 1, units]);
    });
    return tf.concat(rows, 1);
  }
  return tf.matMul(tf.transpose(x, [2, 0, 1]), tf.transpose(dz, [1, 0, 2]), true, false);
}

/** dz [B, K, out] back through kernel [K, in, out] → [B, K, in]. */
function backThroughKernel(tf: Tf, dz: TF.Tensor, kernel: TF.Tensor3D): TF.Tensor {
  return tf.transpose(tf.matMul(tf.transpose(dz, [1, 0, 2]), kernel, false, true), [1, 0, 2]);
}

/**
 * Per trial, a where `pick` [K, 1, 1] is 1 and b where it is 0, exactly (a blend would round).
 * The condition is spelled out to full shape first: tf.where broadcasts a [K, 1, 1] condition
 * with tile, which wasm runs an element at a time (more work than the whole select).
 */
export function pickTrials<T extends TF.Tensor>(tf: Tf, pick: TF.Tensor3D, a: T, b: T): T {
  return tf.where(tf.cast(tf.add(tf.zerosLike(a), pick), 'bool'), a, b) as T;
}

export interface AdamState {
  m: TF.Tensor3D[];
  v: TF.Tensor3D[];
  /** beta^t in float32, as tfjs keeps them in variables: 1 − 0.999 in float32 is 1.3e-5 off 0.001, which moves every step. */
  accBeta1: number;
  accBeta2: number;
}

export interface AdamHyper { learningRate: number; beta1: number; beta2: number; epsilon: number }

export function adamInit(tf: Tf, params: PackedParams, hyper: AdamHyper): AdamState {
  const flat = flatParams(params);
  return { m: flat.map((p) => tf.zerosLike(p)), v: flat.map((p) => tf.zerosLike(p)), accBeta1: Math.fround(hyper.beta1), accBeta2: Math.fround(hyper.beta2) };
}

export interface StepOutputs {
  params: PackedParams;
  adam: AdamState;
  loss: TF.Tensor1D;
  acc: TF.Tensor1D;
}

/** One Adam step for all K trials: forward, backward, update (tfjs' AdamOptimizer, op for op). Call inside tf.tidy. */
export function adamStep(tf: Tf, params: PackedParams, adam: AdamState, hyper: AdamHyper, shape: PackedShape, inputs: StepInputs): StepOutputs {
  const { grads, loss, acc } = lossAndGrads(tf, params, shape, inputs);
  const flat = flatParams(params);
  const oneMinusAccBeta1 = Math.fround(1 - adam.accBeta1);
  const oneMinusAccBeta2 = Math.fround(1 - adam.accBeta2);
  const next = flat.map((value, i) => {
    const g = grads[i];
    let m = tf.add(tf.mul(adam.m[i], hyper.beta1), tf.mul(g, 1 - hyper.beta1));
    let v = tf.add(tf.mul(adam.v[i], hyper.beta2), tf.mul(tf.square(g), 1 - hyper.beta2));
    const mHat = tf.div(m, oneMinusAccBeta1);
    const vHat = tf.div(v, oneMinusAccBeta2);
    let w = tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), hyper.epsilon)), -hyper.learningRate), value);
    if (inputs.active) {
      w = pickTrials(tf, inputs.active, w, value);
      m = pickTrials(tf, inputs.active, m, adam.m[i]);
      v = pickTrials(tf, inputs.active, v, adam.v[i]);
    }
    return { w: w as TF.Tensor3D, m: m as TF.Tensor3D, v: v as TF.Tensor3D };
  });
  return {
    params: unflatParams(next.map((n) => n.w)),
    adam: {
      m: next.map((n) => n.m),
      v: next.map((n) => n.v),
      accBeta1: Math.fround(adam.accBeta1 * Math.fround(hyper.beta1)),
      accBeta2: Math.fround(adam.accBeta2 * Math.fround(hyper.beta2)),
    },
    loss,
    acc,
  };
}

/** SGD as tfjs' SGDOptimizer / MomentumOptimizer compute it: a = μa + g; w += −lr·a. */
export function sgdStep(tf: Tf, params: PackedParams, velocity: TF.Tensor3D[], hyper: { learningRate: number; momentum: number }, shape: PackedShape, inputs: StepInputs) {
  const { grads, loss, acc } = lossAndGrads(tf, params, shape, inputs);
  const next = flatParams(params).map((value, i) => {
    let vel = hyper.momentum > 0 ? tf.add(tf.mul(velocity[i], hyper.momentum), grads[i]) : grads[i];
    let w = tf.add(tf.mul(vel, -hyper.learningRate), value);
    if (inputs.active) {
      w = pickTrials(tf, inputs.active, w, value);
      vel = pickTrials(tf, inputs.active, vel, velocity[i]);
    }
    return { w: w as TF.Tensor3D, vel: vel as TF.Tensor3D };
  });
  return { params: unflatParams(next.map((n) => n.w)), velocity: next.map((n) => n.vel), loss, acc };
}
