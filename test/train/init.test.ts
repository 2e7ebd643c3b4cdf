import { describe, expect, test } from 'vitest';
import type { CnnModel, MlpModel } from '../../runner/records/config.ts';
import { initialWeights, weightShapes } from '../../runner/train/init.ts';
import { moons, stripes, trial } from './fixtures.ts';

const mlp: MlpModel = { kind: 'mlp', hidden: [16, 8], activation: 'relu' };
const cnn: CnnModel = { kind: 'cnn', blocks: [{ filters: 4, kernel: 3, pool: 2 }], dense: [8], activation: 'relu' };

describe('initialWeights', () => {
  test('draws the same weights for the same seed, whatever the trial’s remedies, and others for another seed', () => {
    const data = moons();
    const w = initialWeights(trial({ model: mlp, seed: 3 }), data);
    expect(initialWeights(trial({ model: mlp, seed: 3 }), data)).toEqual(w);
    expect(initialWeights(trial({ model: mlp, seed: 3, l2: 0.01, dropout: 0.5, augmentation: { jitter: 0.1 } }), data)).toEqual(w);
    expect(initialWeights(trial({ model: mlp, seed: 4 }), data)[0]).not.toEqual(w[0]);
  });

  test('draws kernels uniformly within the Glorot limit √(6 / (fanIn + fanOut)) and zero biases', () => {
    for (const [model, data] of [[mlp, moons()], [cnn, stripes()]] as const) {
      const t = trial({ model, seed: 7 });
      const shapes = weightShapes({ model, inputShape: data.inputShape, classes: data.classNames.length, l2: 0, dropout: 0 });
      const weights = initialWeights(t, data);
      expect(weights.map((w) => w.length)).toEqual(shapes.map((s) => s.reduce((a, b) => a * b, 1)));
      weights.forEach((w, i) => {
        const shape = shapes[i];
        if (shape.length === 1) return expect(w.every((v) => v === 0)).toBe(true);
        const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
        const limit = Math.sqrt(6 / ((shape.at(-2)! + shape.at(-1)!) * receptive));
        const largest = Math.max(...Array.from(w, Math.abs));
        expect(largest).toBeLessThanOrEqual(limit);
        // uniform over (−limit, limit): the largest of many draws comes near the limit
        if (w.length >= 32) expect(largest).toBeGreaterThan(0.8 * limit);
      });
    }
  });
});
