import type * as TF from '@tensorflow/tfjs';
import type { Activation } from '../grid/types.ts';

/**
 * The maths of K MLP trials trained as one computation: per layer a kernel [K, in, out] and a
 * bias [K, 1, out]. Pure functions of tensors; packed.ts does the bookkeeping around them.
 * Every formula follows tfjs-layers op for op (clip-then-logit cross-entropy, Adam's bias
 * correction), because the layers engine is the reference these results are compared with.
 */
export type Tf = typeof TF;

export interface PackedParams {
  /** [K, in, out] per layer, input layer first. */
  kernels: TF.Tensor3D[];
  /** [K, 1, out] per layer. */
  biases: TF.Tensor3D[];
}

export interface PackedShape {
  activation: Activation;
  /** Output units: 1 (sigmoid, binary cross-entropy) or C (softmax, categorical cross-entropy). */
  outputs: number;
}

/** Inner dimensions up to this size are a broadcast multiply-add: batched matMul is slow there on wasm. */
const tinyInner = 4;

export const flatParams = (p: PackedParams): TF.Tensor3D[] => p.kernels.flatMap((k, i) => [k, p.biases[i]!]);
export const unflatParams = (flat: TF.Tensor[]): PackedParams => ({
  kernels: flat.filter((_, i) => i % 2 === 0) as TF.Tensor3D[],
  biases: flat.filter((_, i) => i % 2 === 1) as TF.Tensor3D[],
});

/** x [K or 1, N, in] · kernel [K, in, out] + bias: one trial's dense layer per slice. */
function dense(tf: Tf, x: TF.Tensor3D, kernel: TF.Tensor3D, bias: TF.Tensor3D): TF.Tensor3D {
  const inner = kernel.shape[1];
  if (inner <= tinyInner) {
    let z: TF.Tensor3D = bias;
    for (let i = 0; i < inner; i++) {
      z = tf.add(z, tf.mul(x.slice([0, 0, i], [-1, -1, 1]), kernel.slice([0, i, 0], [-1, 1, -1])));
    }
    return z;
  }
  if (kernel.shape[2] === 1) {
    // One output unit: a multiply and a sum. As a matMul its gradient is an outer product,
    // which wasm's batched matMul computes several times slower than a broadcast multiply.
    const row = tf.reshape(kernel, [kernel.shape[0], 1, inner]);
    return tf.add(tf.sum(tf.mul(x, row), 2, true), bias);
  }
  const xs = x.shape[0] === kernel.shape[0] ? x : tf.broadcastTo(x, [kernel.shape[0], x.shape[1], x.shape[2]]) as TF.Tensor3D;
  return tf.add(tf.matMul(xs, kernel), bias);
}

function activate(tf: Tf, z: TF.Tensor3D, activation: Activation): TF.Tensor3D {
  if (activation === 'relu') return tf.relu(z);
  if (activation === 'tanh') return tf.tanh(z);
  return tf.sigmoid(z);
}

/**
 * relu(z)·mask in training mode as z·g with g = mask·step(z), and dz = dy·g: the same numbers
 * as a relu followed by a dropout multiply (g is exactly 0 or the mask's value), in 3 passes
 * over the [K, B, units] activations instead of 7 (tfjs' relu gradient alone casts, steps and
 * multiplies, and its multiply gradient copies).
 */
function maskedRelu(tf: Tf, z: TF.Tensor3D, mask: TF.Tensor3D | null): TF.Tensor3D {
  const f = (x: TF.Tensor, save: TF.GradSaveFunc) => {
    const g = mask ? tf.mul(tf.step(x), mask) : tf.step(x);
    save([g]);
    return { value: tf.mul(x, g), gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => tf.mul(dy, saved[0]!) };
  };
  const op = tf.customGrad(f as unknown as Parameters<Tf['customGrad']>[0]);
  return op(z) as TF.Tensor3D;
}

/**
 * Class probabilities [K, N, outputs]. `masks[l]` (training mode) multiplies hidden layer l's
 * activations: already 0 or 1/keep, as tf.dropout makes them.
 */
export function forward(tf: Tf, params: PackedParams, x: TF.Tensor3D, shape: PackedShape, masks?: (TF.Tensor3D | null)[]): TF.Tensor3D {
  const layers = params.kernels.length;
  let h = x;
  for (let l = 0; l < layers - 1; l++) {
    const z = dense(tf, h, params.kernels[l]!, params.biases[l]!);
    const mask = masks?.[l];
    if (shape.activation === 'relu' && masks) h = maskedRelu(tf, z, mask ?? null);
    else {
      h = activate(tf, z, shape.activation);
      if (mask) h = tf.mul(h, mask);
    }
  }
  const z = dense(tf, h, params.kernels[layers - 1]!, params.biases[layers - 1]!);
  return shape.outputs === 1 ? tf.sigmoid(z) : tf.softmax(z);
}

/** Per-trial mean cross-entropy [K], as tfjs-layers' binary/categorical cross-entropy computes it. */
export function crossEntropy(tf: Tf, proba: TF.Tensor3D, target: TF.Tensor3D): TF.Tensor1D {
  const eps = tf.backend().epsilon();
  if (proba.shape[2] === 1) {
    const clipped = tf.clipByValue(proba, eps, 1 - eps);
    const logits = tf.log(tf.div(clipped, tf.sub(1, clipped)));
    const perPoint = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean(perPoint, [1, 2]);
  }
  const normalised = tf.clipByValue(tf.div(proba, tf.sum(proba, 2, true)), eps, 1 - eps);
  return tf.mean(tf.neg(tf.sum(tf.mul(target, tf.log(normalised)), 2)), 1);
}

/** Per-trial accuracy [K]: p > 0.5 for one output, argmax otherwise. */
export function accuracy(tf: Tf, proba: TF.Tensor3D, target: TF.Tensor3D): TF.Tensor1D {
  if (proba.shape[2] === 1) {
    const predicted = tf.cast(tf.greater(proba, 0.5), 'float32');
    return tf.mean(tf.cast(tf.equal(predicted, target), 'float32'), [1, 2]);
  }
  return tf.mean(tf.cast(tf.equal(tf.argMax(proba, 2), tf.argMax(target, 2)), 'float32'), 1);
}

/** Keras' l2(c) on every kernel: c · Σw², no ½. l2 is [K]. */
export function l2Penalty(tf: Tf, params: PackedParams, l2: TF.Tensor1D): TF.Tensor1D {
  let sumSquares: TF.Tensor1D = tf.zerosLike(l2);
  for (const k of params.kernels) sumSquares = tf.add(sumSquares, tf.sum(tf.square(k), [1, 2]));
  return tf.mul(l2, sumSquares);
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

export interface StepInputs {
  /** [K, B, in] */
  x: TF.Tensor3D;
  /** [K, B, outputs] */
  y: TF.Tensor3D;
  masks: (TF.Tensor3D | null)[];
  l2: TF.Tensor1D;
  /** [K, 1, 1] bool, or null when every trial is still training. Frozen trials keep weights and moments. */
  active: TF.Tensor3D | null;
}

export interface StepOutputs {
  params: PackedParams;
  adam: AdamState;
  /** [K] training-mode loss, penalty included (what the step differentiated). */
  loss: TF.Tensor1D;
  /** [K] training-mode accuracy. */
  acc: TF.Tensor1D;
}

/**
 * Forward and backward for all K trials: each trial's loss (data loss + c·Σw², training mode)
 * and its gradients. The trials are independent, so the gradient of the sum of their losses is
 * each trial's own gradient.
 */
function lossAndGrads(tf: Tf, params: PackedParams, shape: PackedShape, inputs: StepInputs) {
  // forward
  let proba: TF.Tensor3D | undefined;
  const objective = (...flat: TF.Tensor[]) => {
    const p = unflatParams(flat);
    proba = tf.keep(forward(tf, p, inputs.x, shape, inputs.masks));
    return tf.add(crossEntropy(tf, proba, inputs.y), l2Penalty(tf, p, inputs.l2));
  };
  // backward
  const flat = flatParams(params);
  const { value: loss, grads } = tf.valueAndGrads(objective)(flat, tf.ones([flat[0]!.shape[0]]));
  const acc = accuracy(tf, proba!, inputs.y);
  proba!.dispose();
  return { flat, loss, grads, acc };
}

/**
 * One Adam step for all K trials: forward, backward, update. Call inside tf.tidy; the caller
 * keeps what it returns and disposes the old state. The trials are independent, so the gradient
 * of the sum of their losses is each trial's own gradient.
 */
export function adamStep(tf: Tf, params: PackedParams, adam: AdamState, hyper: AdamHyper, shape: PackedShape, inputs: StepInputs): StepOutputs {
  const { flat, loss, grads, acc } = lossAndGrads(tf, params, shape, inputs);
  // update (tfjs' AdamOptimizer, op for op)
  const oneMinusAccBeta1 = Math.fround(1 - adam.accBeta1);
  const oneMinusAccBeta2 = Math.fround(1 - adam.accBeta2);
  const next = flat.map((value, i) => {
    const g = grads[i]!;
    let m = tf.add(tf.mul(adam.m[i]!, hyper.beta1), tf.mul(g, 1 - hyper.beta1));
    let v = tf.add(tf.mul(adam.v[i]!, hyper.beta2), tf.mul(tf.square(g), 1 - hyper.beta2));
    const mHat = tf.div(m, oneMinusAccBeta1);
    const vHat = tf.div(v, oneMinusAccBeta2);
    let w = tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), hyper.epsilon)), -hyper.learningRate), value);
    if (inputs.active) {
      w = tf.where(inputs.active, w, value);
      m = tf.where(inputs.active, m, adam.m[i]!);
      v = tf.where(inputs.active, v, adam.v[i]!);
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
    loss: loss as TF.Tensor1D,
    acc,
  };
}

/** SGD as tfjs' SGDOptimizer / MomentumOptimizer compute it: a = μa + g; w += −lr·a. */
export function sgdStep(tf: Tf, params: PackedParams, velocity: TF.Tensor3D[], hyper: { learningRate: number; momentum: number }, shape: PackedShape, inputs: StepInputs) {
  const { flat, loss, grads, acc } = lossAndGrads(tf, params, shape, inputs);
  const next = flat.map((value, i) => {
    let vel = hyper.momentum > 0 ? tf.add(tf.mul(velocity[i]!, hyper.momentum), grads[i]!) : grads[i]!;
    let w = tf.add(tf.mul(vel, -hyper.learningRate), value);
    if (inputs.active) {
      w = tf.where(inputs.active, w, value);
      vel = tf.where(inputs.active, vel, velocity[i]!);
    }
    return { w: w as TF.Tensor3D, vel: vel as TF.Tensor3D };
  });
  return { params: unflatParams(next.map((n) => n.w)), velocity: next.map((n) => n.vel), loss: loss as TF.Tensor1D, acc };
}
