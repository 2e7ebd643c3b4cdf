import type * as TF from '../tfjs.ts';
import type { DropoutValue, ModelSpec, OptimizerSpec } from '../../records/config.ts';
import type { MaskStream } from '../../data/random/masks.ts';

type Tf = typeof TF;

/** What a model is built for: the trial's architecture and remedies, and the data's shape. */
export interface ModelPlan {
  model: ModelSpec;
  inputShape: number[];
  classes: number;
  l2: number;
  dropout: DropoutValue;
}

/** Sigmoid and one output for two classes (binary cross-entropy), softmax over C otherwise. */
export const outputUnits = (classes: number) => (classes === 2 ? 1 : classes);

/** The dropout rate after hidden layer `i` (CNN: blocks first, then dense layers). */
export function rateAt(dropout: DropoutValue, i: number): number {
  return typeof dropout === 'number' ? dropout : dropout[i] ?? 0;
}

/**
 * The shapes of the model's weights in tfjs' getWeights() order: [kernel, bias] per Dense or
 * Conv2D layer, input to output. Dense kernels are [in, out]; conv kernels [k, k, in, filters]
 * with 'same' padding, and pooling 'valid' with stride = pool size (Keras' MaxPooling2D).
 */
export function weightShapes(plan: ModelPlan): number[][] {
  const shapes: number[][] = [];
  const out = outputUnits(plan.classes);
  let width: number;
  let dense: number[];
  if (plan.model.kind === 'mlp') {
    width = plan.inputShape.reduce((a, b) => a * b, 1);
    dense = plan.model.hidden;
  } else {
    let [h, w, c] = plan.inputShape as [number, number, number];
    for (const b of plan.model.blocks) {
      shapes.push([b.kernel, b.kernel, c, b.filters], [b.filters]);
      h = Math.floor(h / b.pool);
      w = Math.floor(w / b.pool);
      c = b.filters;
    }
    width = h * w * c;
    dense = plan.model.dense;
  }
  for (const units of [...dense, out]) {
    shapes.push([width, units], [units]);
    width = units;
  }
  return shapes;
}

/**
 * Glorot-uniform kernels and zero biases, as Keras initialises Dense and Conv2D layers:
 * U(−l, l) with l = √(6 / (fanIn + fanOut)), fans scaled by a conv kernel's receptive field.
 * Drawn from `uniform` (the trial's init stream) in weight order, so any engine that calls
 * this starts from the same numbers.
 */
export function glorotWeights(shapes: number[][], uniform: () => number): Float32Array[] {
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (shape.length === 1) return values;
    const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    const fanIn = shape.at(-2)! * receptive;
    const fanOut = shape.at(-1)! * receptive;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < size; i++) values[i] = limit * (2 * uniform() - 1);
    return values;
  });
}

/**
 * The trial's model with Keras semantics: L2 (c·Σw², no ½) on every kernel, dropout after
 * every hidden layer (masks drawn from `masks`, the trial's own stream), initial weights left
 * to the caller (setWeights).
 */
export function buildModel(tf: Tf, plan: ModelPlan, masks: MaskStream): TF.LayersModel {
  const Dropout = streamDropout(tf);
  const regularizer = () => (plan.l2 > 0 ? tf.regularizers.l2({ l2: plan.l2 }) : undefined);
  const zeros = 'zeros' as const;
  const model = tf.sequential();
  let hidden = 0;
  const dropAfter = () => {
    const rate = rateAt(plan.dropout, hidden++);
    if (rate > 0) model.add(new Dropout(rate, masks));
  };
  const m = plan.model;
  if (m.kind === 'cnn') {
    model.add(tf.layers.inputLayer({ inputShape: plan.inputShape }));
    for (const b of m.blocks) {
      model.add(tf.layers.conv2d({
        filters: b.filters, kernelSize: b.kernel, padding: 'same', activation: m.activation,
        kernelInitializer: zeros, biasInitializer: zeros, kernelRegularizer: regularizer(),
      }));
      model.add(tf.layers.maxPooling2d({ poolSize: b.pool, strides: b.pool, padding: 'valid' }));
      dropAfter();
    }
    model.add(tf.layers.flatten());
  } else {
    model.add(tf.layers.inputLayer({ inputShape: [plan.inputShape.reduce((a, b) => a * b, 1)] }));
  }
  for (const units of m.kind === 'cnn' ? m.dense : m.hidden) {
    model.add(tf.layers.dense({
      units, activation: m.activation,
      kernelInitializer: zeros, biasInitializer: zeros, kernelRegularizer: regularizer(),
    }));
    dropAfter();
  }
  model.add(tf.layers.dense({
    units: outputUnits(plan.classes), activation: plan.classes === 2 ? 'sigmoid' : 'softmax',
    kernelInitializer: zeros, biasInitializer: zeros, kernelRegularizer: regularizer(),
  }));
  return model;
}

export function makeOptimizer(tf: Tf, spec: OptimizerSpec): TF.Optimizer {
  if (spec.kind === 'adam') return tf.train.adam(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
  return spec.momentum > 0 ? tf.train.momentum(spec.learningRate, spec.momentum) : tf.train.sgd(spec.learningRate);
}

interface StreamDropoutClass {
  new (rate: number, masks: MaskStream): TF.layers.Layer;
}
const dropoutClasses = new WeakMap<object, StreamDropoutClass>();

/**
 * Keras Dropout (scale kept units by 1/(1−rate) in training, identity in inference), with masks
 * from the trial's stream: tf.layers.dropout takes a seed but then draws the same mask at
 * every step, and without one it draws from Math.random.
 */
function streamDropout(tf: Tf): StreamDropoutClass {
  let cls = dropoutClasses.get(tf);
  if (!cls) {
    cls = class StreamDropout extends tf.layers.Layer {
      static className = 'StreamDropout';
      constructor(readonly rate: number, readonly masks: MaskStream) {
        super({});
      }
      override computeOutputShape(shape: TF.Shape | TF.Shape[]) {
        return shape;
      }
      override call(inputs: TF.Tensor | TF.Tensor[], kwargs: { training?: boolean }): TF.Tensor {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        if (!kwargs.training) return x;
        const mask = new Float32Array(x.size);
        this.masks.fillMask(mask, 0, x.size, this.rate);
        return tf.mul(x, tf.tensor(mask, x.shape));
      }
    };
    dropoutClasses.set(tf, cls);
  }
  return cls;
}
