import type * as TF from '../tfjs.ts';
import type { OptimizerSpec } from '../../records/config.ts';
import type { MaskStream } from '../../data/random/masks.ts';
import { outputUnits, rateAt, type ModelPlan } from '../init.ts';

type Tf = typeof TF;

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
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
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
