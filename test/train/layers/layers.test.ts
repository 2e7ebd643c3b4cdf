import { beforeAll, describe, expect, test } from 'vitest';
import { initBackend, type BackendInfo } from '../../../runner/train/backend.ts';
import { earlyStop } from '../../../runner/train/early-stopping.ts';
import { trainPackLayers, trainTrialLayers } from '../../../runner/train/layers/train.ts';
import { initialWeights, weightShapes } from '../../../runner/train/init.ts';
import type { TrialResult } from '../../../runner/records/result.ts';
import type { MlpModel } from '../../../runner/records/config.ts';
import { bootstrapIndices } from '../../../runner/data/split.ts';
import { moons, stripes, trial } from '../fixtures.ts';

const small: MlpModel = { kind: 'mlp', hidden: [16], activation: 'relu' };
const data = moons();
let backend: BackendInfo;
beforeAll(async () => {
  process.env.FITGRID_BACKEND ??= 'wasm';
  backend = await initBackend();
});

describe('trainTrialLayers', () => {
  test('learns: the training loss falls and the result is complete', async () => {
    const r = await trainTrialLayers(trial({ epochs: 30, model: small }), data, { sweep: 'tiny' });
    expect(r.status).toBe('ok');
    expect(r.engine).toBe('layers');
    expect(r.backend).toBe(backend.name);
    expect(r.sweep).toBe('tiny');
    for (const series of Object.values(r.history)) {
      expect(series).toHaveLength(30);
      expect(series.every(Number.isFinite)).toBe(true);
    }
    expect(r.history.loss.at(-1)!).toBeLessThan(r.history.loss[0] * 0.8);
    expect(r.stoppedEpoch).toBe(30);
    expect(r.bestEpoch).toBe(30);
    // Without dropout the last epoch's val_loss is the kept model's.
    expect(r.final.val_loss).toBeCloseTo(r.history.val_loss.at(-1)!, 5);
    expect(r.final.acc).toBeGreaterThan(0.7);
    expect(r.valProba).toHaveLength(data.val.x.length);
    expect(r.valProba.every((p) => Math.abs(p[0] + p[1] - 1) < 1e-5)).toBe(true);
    expect(r.surface!.values).toHaveLength(80 * 80);
    expect(r.points!.train).toHaveLength(data.train.x.length);
    expect(r.seconds).toBeGreaterThan(0);
  });

  test('gives the same history for the same trial twice, dropout and augmentation included', async () => {
    const t = trial({ epochs: 8, model: small, dropout: 0.3, augmentation: { jitter: 0.1 } });
    const a = await trainTrialLayers(t, data);
    const b = await trainTrialLayers(t, data);
    expect(a.history).toEqual(b.history);
    expect(a.valProba).toEqual(b.valProba);
  });

  test('starts from the trial’s own initial weights, or from the weights it is given', async () => {
    const t = trial({ epochs: 5, model: small });
    const w = initialWeights(t, data);
    const own = await trainTrialLayers(t, data);
    const given = await trainTrialLayers(t, data, { initialWeights: w });
    expect(given.history).toEqual(own.history);
    const other = await trainTrialLayers(t, data, { initialWeights: initialWeights(trial({ seed: 5, model: small }), data) });
    expect(other.history.loss[0]).not.toBe(own.history.loss[0]);
  });

  test('adds the L2 penalty to the training loss on the same initial weights', async () => {
    const none = await trainTrialLayers(trial({ epochs: 3, model: small }), data);
    const l2 = await trainTrialLayers(trial({ epochs: 3, model: small, l2: 0.01 }), data);
    // Epoch 1 is one batch from the same weights: the difference is exactly c·Σw² of the start.
    const penalty = 0.01 * initialWeights(trial({ model: small }), data).reduce((s, w, i) => s + (i % 2 === 0 ? w.reduce((a, v) => a + v * v, 0) : 0), 0);
    expect(l2.history.loss[0] - none.history.loss[0]).toBeCloseTo(penalty, 4);
    expect(l2.history.val_loss[0]).toBeCloseTo(none.history.val_loss[0], 2);
  });

  test('dropout and augmentation each change the run', async () => {
    const base = await trainTrialLayers(trial({ epochs: 3, model: small }), data);
    const dropped = await trainTrialLayers(trial({ epochs: 3, model: small, dropout: 0.5 }), data);
    const jittered = await trainTrialLayers(trial({ epochs: 3, model: small, augmentation: { jitter: 0.2 } }), data);
    expect(dropped.history.loss[0]).not.toBeCloseTo(base.history.loss[0], 6);
    expect(jittered.history.loss[0]).not.toBeCloseTo(base.history.loss[0], 6);
    // Inference ignores dropout: the first validation pass after one identical update differs only through training.
    expect(dropped.history.val_loss).toHaveLength(3);
  });

  test('stops early live, restores the best weights and reports the epochs earlyStop would', async () => {
    const t = trial({ epochs: 60, model: small, optimizer: { kind: 'adam', learningRate: 0.2, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, patience: 3 });
    const r = await trainTrialLayers(t, data);
    expect(r.stoppedEpoch).toBeLessThan(60);
    expect(r.history.val_loss).toHaveLength(r.stoppedEpoch);
    expect(earlyStop(r.history.val_loss, { patience: 3, minDelta: 0, restoreBest: true })).toEqual({ stoppedEpoch: r.stoppedEpoch, bestEpoch: r.bestEpoch });
    expect(r.bestEpoch).toBeLessThan(r.stoppedEpoch);
    expect(r.final.val_loss).toBeCloseTo(r.history.val_loss[r.bestEpoch - 1], 5);
  });

  test('trains a CNN on images with softmax over three classes', async () => {
    const images = stripes();
    const cnnOptions = { epochs: 15, l2: 0.001, dropout: [0.1, 0.1], model: { kind: 'cnn', blocks: [{ filters: 4, kernel: 3, pool: 2 }], dense: [8], activation: 'relu' } } as const satisfies Parameters<typeof trial>[0];
    const t = trial(cnnOptions);
    const shapes = weightShapes({ model: t.config.model, inputShape: [6, 6, 1], classes: 3, l2: 0, dropout: 0 });
    expect(shapes).toEqual([[3, 3, 1, 4], [4], [36, 8], [8], [8, 3], [3]]);
    const r = await trainTrialLayers(t, images);
    expect(r.status).toBe('ok');
    expect(r.history.loss.at(-1)!).toBeLessThan(r.history.loss[0]);
    expect(r.valProba[0]).toHaveLength(3);
    expect(r.surface).toBeUndefined();
    expect(r.points).toBeUndefined();
    // Image augmentation is drawn from the trial's stream: it changes the run, reproducibly.
    const shifted = trial({ ...cnnOptions, augmentation: { shift: 0.2, rotation: 15 } });
    const [a, b] = [await trainTrialLayers(shifted, images), await trainTrialLayers(shifted, images)];
    expect(a.status).toBe('ok');
    expect(a.history.loss).toEqual(b.history.loss);
    expect(a.history.loss).not.toEqual(r.history.loss);
  });

  test('trains a bootstrap replicate on its resample and records those points', async () => {
    const r = await trainTrialLayers(trial({ epochs: 2, model: small, replicate: 1 }), data);
    const idx = bootstrapIndices(data.train.x.length, 1);
    expect(r.points!.train).toEqual(idx.map((i) => [data.train.x[i][0], data.train.x[i][1], data.train.y[i]]));
  });

  test('leaves no tensors behind', async () => {
    const before = backend.tf.memory().numTensors;
    await trainTrialLayers(trial({ epochs: 3, model: small, dropout: 0.2, patience: 1 }), data);
    expect(backend.tf.memory().numTensors).toBe(before);
  });
});

describe('trainPackLayers', () => {
  test('records a diverging trial as diverged and trains the others of the pack', async () => {
    const seen: TrialResult[] = [];
    const progress: [number, number | undefined][] = [];
    const trials = [
      trial({ epochs: 5, model: small }),
      trial({ epochs: 5, model: small, l2: 0.01, optimizer: { kind: 'sgd', learningRate: 1e20, momentum: 0 } }),
      trial({ epochs: 5, model: small, seed: 1 }),
    ];
    const results = await trainPackLayers(trials, data, { sweep: 's', onResult: (r) => void seen.push(r), onProgress: (p) => progress.push([p.trialsDone, p.training]) });
    expect(results.map((r) => r.status)).toEqual(['ok', 'diverged', 'ok']);
    expect(results[1].error).toMatch(/epoch \d+/);
    expect(results[1].history.loss.every(Number.isFinite)).toBe(true);
    expect(seen.map((r) => r.trialId)).toEqual(trials.map((t) => t.trialId));
    // each of the three trainings holds one trial, and its epochs say so
    expect(progress.at(-1)).toEqual([2, 1]);
    expect(new Set(progress.map(([, training]) => training))).toEqual(new Set([1]));
  });

  test('turns a trial that throws into a failed result', async () => {
    const bad = trial({ epochs: 2, model: small, augmentation: { shift: 0.1 } });
    const [r] = await trainPackLayers([bad], data, { sweep: 's' });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/images only/);
  });
});
