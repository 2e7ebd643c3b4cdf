import { describe, expect, it } from 'vitest';
import { trainPackPacked, trainPacked } from '../../../runner/train/packed/train.ts';
import { trainTrialLayers } from '../../../runner/train/layers/train.ts';
import { initialWeights } from '../../../runner/train/init.ts';
import { blobs, maxRelativeError, mean, moons, std, trial } from './fixtures.ts';

const data = moons();

describe('the packed engine', () => {
  it('matches the layers engine trial by trial over 200 epochs without dropout or augmentation', async () => {
    const trials = [0, 1e-2].map((l2) => trial({ seed: 0, l2, epochs: 200, optimizer: { kind: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } }));
    const packed = await trainPackPacked(trials, data, { sweep: 't' });
    for (const [i, t] of trials.entries()) {
      const layers = await trainTrialLayers(t, data, { initialWeights: initialWeights(t, data) });
      expect(packed[i].history.loss).toHaveLength(200);
      expect(maxRelativeError(packed[i].history.loss, layers.history.loss)).toBeLessThan(1e-5);
      expect(maxRelativeError(packed[i].history.val_loss, layers.history.val_loss)).toBeLessThan(1e-5);
      expect(packed[i].final.val_loss).toBeCloseTo(layers.final.val_loss, 4);
      expect(packed[i].engine).toBe('packed');
    }
    // L2 is in the reported training loss: the penalised trials report more at the same start.
    expect(packed[1].history.loss[0]).toBeGreaterThan(packed[0].history.loss[0]);
  });

  it('gives the same runs whether the pack shares its points (units-first step) or each trial brings its own', async () => {
    const trials = [0, 1e-2].map((l2, seed) => trial({ seed, l2, epochs: 200, optimizer: { kind: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } }));
    const shared = await trainPacked(trials, data, { sweep: 't' });
    // an augmented trial in the pack makes every trial's batch its own
    const own = await trainPacked([...trials, trial({ seed: 2, epochs: 200, augmentation: { jitter: 0.1 } })], data, { sweep: 't' });
    for (const [i, r] of shared.entries()) {
      expect(maxRelativeError(r.history.loss, own[i].history.loss)).toBeLessThan(1e-5);
      expect(maxRelativeError(r.history.val_loss, own[i].history.val_loss)).toBeLessThan(1e-5);
      expect(r.final.val_acc).toBe(own[i].final.val_acc);
    }
  });

  it('trains several batches per epoch, averaging their losses as Keras does', async () => {
    const trials = [trial({ seed: 3, batchSize: 8, epochs: 15 })];
    const [packed] = await trainPackPacked(trials, data, { sweep: 't' });
    const layers = await trainTrialLayers(trials[0], data);
    expect(maxRelativeError(packed.history.loss, layers.history.loss)).toBeLessThan(1e-5);
    expect(maxRelativeError(packed.history.val_loss, layers.history.val_loss)).toBeLessThan(1e-5);
  });

  it('matches the layers engine with softmax over three classes and with SGD', async () => {
    const three = blobs();
    const sgd = { kind: 'sgd' as const, learningRate: 0.05, momentum: 0.9 };
    const trials = [trial({ seed: 1, epochs: 30, l2: 1e-3 }), trial({ seed: 2, epochs: 30, optimizer: sgd })];
    const packed = await trainPacked(trials, three, { sweep: 't' });
    for (const [i, t] of trials.entries()) {
      const layers = await trainTrialLayers(t, three);
      expect(maxRelativeError(packed[i].history.val_loss, layers.history.val_loss)).toBeLessThan(1e-5);
      expect(packed[i].valProba[0]).toHaveLength(3);
    }
  });

  it('matches the layers engine through deeper networks and other activations, with dropout between hidden layers', async () => {
    const deep = [
      trial({ seed: 3, epochs: 60, optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 } }),
      trial({ seed: 4, epochs: 60, hidden: [16, 8], activation: 'tanh', l2: 1e-3 }),
      trial({ seed: 5, epochs: 60, hidden: [12, 6], activation: 'sigmoid', batchSize: 8 }),
      trial({ seed: 6, epochs: 60, hidden: [16, 8], dropout: [0.25, 0.5] }),
    ];
    for (const t of deep) {
      const [packed] = await trainPacked([t], data, { sweep: 't' });
      const layers = await trainTrialLayers(t, data);
      expect(maxRelativeError(packed.history.loss, layers.history.loss)).toBeLessThan(1e-5);
      expect(maxRelativeError(packed.history.val_loss, layers.history.val_loss)).toBeLessThan(1e-5);
      expect(packed.final.val_loss).toBeCloseTo(layers.final.val_loss, 4);
    }
    // a three-class softmax over two hidden layers, several batches per epoch
    const three = blobs();
    const t = trial({ seed: 7, epochs: 30, hidden: [10, 10], batchSize: 8 });
    const [packed] = await trainPacked([t], three, { sweep: 't' });
    expect(maxRelativeError(packed.history.val_loss, (await trainTrialLayers(t, three)).history.val_loss)).toBeLessThan(1e-5);
  });

  it('trains a shared-points pack from the host with SGD and momentum as the layers engine does', async () => {
    const sgd = { kind: 'sgd' as const, learningRate: 0.05, momentum: 0.9 };
    const trials = [trial({ seed: 1, epochs: 60, optimizer: sgd }), trial({ seed: 2, epochs: 60, optimizer: sgd, l2: 1e-3 })];
    const packed = await trainPacked(trials, data, { sweep: 't' });
    for (const [i, t] of trials.entries()) {
      const layers = await trainTrialLayers(t, data);
      expect(maxRelativeError(packed[i].history.loss, layers.history.loss)).toBeLessThan(1e-5);
      expect(maxRelativeError(packed[i].history.val_loss, layers.history.val_loss)).toBeLessThan(1e-5);
      expect(packed[i].history.val_acc).toEqual(layers.history.val_acc);
    }
  });

  it('gives the same runs whether a helper thread updates the pack in halves or the main thread updates it whole', async () => {
    const { helperThread } = await import('../../../runner/train/packed/host/helper.ts');
    // five trials in two halves, [0, 3) and [3, 5), which the helper updates in turn; in the second
    // one trial stops early and one is penalised
    const trials = [0, 1, 2, 3, 4].map((seed) => trial({ seed, epochs: 30, l2: seed === 3 ? 1e-3 : 0, patience: seed === 4 ? 1 : null, minDelta: 0.5 }));
    const budget = process.env.FITGRID_THREADS;
    try {
      process.env.FITGRID_THREADS = '2';
      expect(await helperThread()).toBe(true);
      const shared = await trainPacked(trials, data, { sweep: 't' }, { replay: false });
      process.env.FITGRID_THREADS = '1';
      expect(await helperThread()).toBe(false);
      const alone = await trainPacked(trials, data, { sweep: 't' }, { replay: false });
      expect(shared[4].stoppedEpoch).toBeLessThan(30);
      for (const [i, r] of shared.entries()) {
        expect(r.history).toEqual(alone[i].history);
        expect(r.valProba).toEqual(alone[i].valProba);
      }
    } finally {
      if (budget === undefined) delete process.env.FITGRID_THREADS;
      else process.env.FITGRID_THREADS = budget;
    }
  });

  it('takes the loss, accuracy and logit gradient of a folded pack on the host as tfjs-layers computes them', async () => {
    const { initBackend } = await import('../../../runner/train/backend.ts');
    const { accuracy, crossEntropy } = await import('../../../runner/train/packed/model.ts');
    const { binaryFigures } = await import('../../../runner/train/packed/host/train.ts');
    const { tf } = await initBackend();
    const eps = tf.backend().epsilon();
    // 3 trials × 6 points: logits from mild to past the clip on both sides, through the segment
    // sums (positive minus negative part, plus the bias); the last trial has no negative row
    const logits = [[0.3, -1.2, 2.5, -0.01, 4, -3], [17, -17, 40, -40, 15.9, -16.1], [0.7, 0.2, -0.4, 1.5, -2.5, 3]];
    const labels = [1, 0, 0, 0, 1, 1];
    const bias = Float32Array.of(0.5, -0.25, 0.125);
    const n = labels.length;
    const sums = new Float32Array(5 * n);
    logits.forEach((row, t) => row.forEach((z, j) => {
      const part = z - bias[t];
      if (t === 2) sums[2 * t * n + j] = part;
      else {
        sums[2 * t * n + j] = Math.max(part, 0) + 1;
        sums[(2 * t + 1) * n + j] = Math.max(-part, 0) + 1;
      }
    }));
    const figures = new Float64Array(4 * 3);
    const delta = new Float32Array(3 * n);
    binaryFigures(sums, 5, bias, labels, eps, figures, 0, delta);
    const [loss, acc] = tf.tidy(() => {
      const proba = tf.sigmoid(tf.transpose(tf.tensor3d(logits.flat(), [3, n, 1]), [1, 0, 2])) as import('@tensorflow/tfjs-core').Tensor3D;
      const y = tf.tensor3d(labels, [n, 1, 1]);
      return [crossEntropy(tf, proba, y).arraySync(), accuracy(tf, proba, y).arraySync()];
    });
    expect(maxRelativeError(Array.from(figures.subarray(0, 3)), loss)).toBeLessThan(1e-5);
    Array.from(figures.subarray(3, 6)).forEach((a, t) => expect(a).toBeCloseTo(acc[t], 6));
    // δ = (σ(z) − y)/N where the clip lets p through, 0 where it holds it
    logits.flat().forEach((z, i) => {
      const p = 1 / (1 + Math.exp(-z));
      const expected = p >= eps && p <= 1 - eps ? (p - labels[i % n]) / n : 0;
      expect(delta[i]).toBeCloseTo(expected, 6);
    });
    expect(delta.filter((d) => d === 0).length).toBeGreaterThanOrEqual(4);
    // a NaN logit gives a NaN loss, so the trial is marked diverged
    sums[0] = NaN;
    binaryFigures(sums, 5, bias, labels, eps, figures, 6);
    expect(figures[6]).toBeNaN();
    // and leaves the other trials alone
    expect(figures[7]).toBe(figures[1]);
  });

  it('counts accuracy per trial against a target shared by every trial, for one output and for classes', async () => {
    const { initBackend } = await import('../../../runner/train/backend.ts');
    const { accuracy } = await import('../../../runner/train/packed/model.ts');
    const { tf } = await initBackend();
    // 4 points × 2 trials, one sigmoid output; 0.5 itself counts as class 0
    const proba = [[0.9, 0.2], [0.5, 0.6], [0.1, 0.4], [0.7, 0.8]];
    const labels = [1, 0, 0, 1];
    const binary = tf.tidy(() => accuracy(tf, tf.tensor3d(proba.flat(), [4, 2, 1]), tf.tensor3d(labels, [4, 1, 1])).arraySync());
    expect(binary).toEqual([1, 0.5]);
    // 2 points × 2 trials × 3 classes, one-hot targets
    const classes = [[[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], [[0.1, 0.1, 0.8], [0.2, 0.2, 0.6]]];
    const multi = tf.tidy(() => accuracy(tf, tf.tensor3d(classes.flat(2), [2, 2, 3]), tf.tensor3d([0, 1, 0, 0, 0, 1], [2, 1, 3])).arraySync());
    expect(multi).toEqual([1, 0.5]);
  });

  it('predicts with the output kernel folded into the input layer as it does with the multiply, whatever the signs of the output weights', async () => {
    const { initBackend } = await import('../../../runner/train/backend.ts');
    const { hostParams, predictAll, TensorCache, uploadParams, validationInputs } = await import('../../../runner/train/packed/model.ts');
    const { foldLayer, predictFolded, signedRows } = await import('../../../runner/train/packed/fold.ts');
    const { tf } = await initBackend();
    const [k, features, units] = [4, 2, 6];
    let s = 5;
    const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
    // trial 0 mixes signs and has a zero, trial 1 only w ≥ 0, trials 2 and 3 (the last) only w < 0 or ≥ 0
    const weights = Array.from({ length: k }, (_, t) => [
      Float32Array.from({ length: features * units }, r),
      Float32Array.from({ length: units }, r),
      Float32Array.from({ length: units }, (_, h) => {
        const v = Math.abs(r()) + 0.1;
        return t === 0 ? (h === 2 ? 0 : h % 2 ? -v : v) : t === 2 ? -v : v;
      }),
      Float32Array.from({ length: 1 }, r),
    ]);
    const host = hostParams(weights, [features, units, 1]);
    const params = uploadParams(tf, host, k, [features, units, 1]);
    const cache = new TensorCache(tf);
    const xT = validationInputs(tf, Array.from({ length: 9 }, () => [4 * r(), 4 * r()]), features);
    try {
      const plain = tf.tidy(() => predictAll(tf, cache, params, xT, { activation: 'relu', outputs: 1 })).arraySync() as number[][][];
      const folded = tf.tidy(() => predictFolded(tf, cache, foldLayer(tf, host, k, features), xT)).arraySync() as number[][][];
      expect(folded.flat(2)).toHaveLength(k * 9);
      expect(maxRelativeError(folded.flat(2), plain.flat(2))).toBeLessThan(1e-6);
      // the mixed trial is not saturated: its probabilities vary from point to point
      expect(new Set(plain[0][0].map((p) => p.toFixed(4))).size).toBeGreaterThan(1);
      // the unit with w = 0 keeps a (tiny) row among trial 0's w ≥ 0 units, so its activations
      // still say where it is on, and every row goes back to its own unit
      const { rows, ids, perm } = signedRows(host, k, features, units);
      const at = perm.indexOf(2);
      expect(ids[at]).toBe(0);
      expect(rows.subarray(3 * at, 3 * at + 3).every((v, f) => v !== 0 && Math.sign(v) === Math.sign(host[0][6 + f]))).toBe(true);
      expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: k * units }, (_, i) => i));
      // a diverged output weight stays visible in the folded rows
      const nan = host.map((a) => a.slice());
      nan[1][2] = NaN;
      const withNaN = signedRows(nan, k, features, units);
      expect(Number.isNaN(withNaN.rows[3 * withNaN.perm.indexOf(2)])).toBe(true);
    } finally {
      tf.dispose([params.input, ...params.kernels, ...params.biases, xT]);
      cache.dispose();
    }
  });

  it('gives the surfaces and validation probabilities the layers engine predicts from the same weights', async () => {
    const trials = [trial({ seed: 2, epochs: 30, hidden: [24] }), trial({ seed: 3, epochs: 30, hidden: [24], l2: 1e-3 })];
    const packed = await trainPackPacked(trials, data, { sweep: 't' });
    for (const [i, t] of trials.entries()) {
      const layers = await trainTrialLayers(t, data, { initialWeights: initialWeights(t, data) });
      const surface = packed[i].surface!.values;
      expect(surface).toHaveLength(80 * 80);
      expect(Math.max(...surface.map((v, j) => Math.abs(v - layers.surface!.values[j])))).toBeLessThan(1e-4);
      expect(Math.max(...packed[i].valProba.flat().map((v, j) => Math.abs(v - layers.valProba.flat()[j])))).toBeLessThan(1e-4);
    }
  });

  it('trains inputs wider than a few features through the batched weight gradient', async () => {
    // moons plus eight columns of fixed noise: ten features
    let s = 11;
    const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
    const widen = (x: number[][]) => x.map((row) => [...row, ...Array.from({ length: 8 }, noise)]);
    const wide = { ...data, featureNames: Array.from({ length: 10 }, (_, i) => `x${i}`), inputShape: [10], train: { ...data.train, x: widen(data.train.x) }, val: { ...data.val, x: widen(data.val.x) } };
    const trials = [trial({ seed: 1, epochs: 40, hidden: [16] }), trial({ seed: 2, epochs: 40, hidden: [16], dropout: 0.5 })];
    const packed = await trainPacked(trials, wide, { sweep: 't' });
    for (const [i, t] of trials.entries()) {
      const layers = await trainTrialLayers(t, wide);
      expect(maxRelativeError(packed[i].history.val_loss, layers.history.val_loss)).toBeLessThan(1e-5);
    }
  });

  it('folds the output kernel for inputs of any width when the pack shares its points', async () => {
    let s = 13;
    const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
    for (const extra of [1, 4]) {
      const widen = (x: number[][]) => x.map((row) => [...row, ...Array.from({ length: extra }, noise)]);
      const wider = { ...data, featureNames: Array.from({ length: 2 + extra }, (_, i) => `x${i}`), inputShape: [2 + extra], train: { ...data.train, x: widen(data.train.x) }, val: { ...data.val, x: widen(data.val.x) } };
      const trials = [trial({ seed: 1, epochs: 40, hidden: [16] }), trial({ seed: 2, epochs: 40, hidden: [16], l2: 1e-3 })];
      const packed = await trainPacked(trials, wider, { sweep: 't' });
      for (const [i, t] of trials.entries()) {
        const layers = await trainTrialLayers(t, wider);
        expect(maxRelativeError(packed[i].history.loss, layers.history.loss)).toBeLessThan(1e-5);
        expect(maxRelativeError(packed[i].history.val_loss, layers.history.val_loss)).toBeLessThan(1e-5);
      }
    }
  });

  it('gives the same results on a backend without wasm\'s segment sums (the reductions tfjs-node and CUDA use)', async () => {
    const { initBackend } = await import('../../../runner/train/backend.ts');
    const { tf } = await initBackend();
    const trials = [trial({ seed: 8, epochs: 25 }), trial({ seed: 9, epochs: 25, l2: 1e-3 })];
    const onWasm = await trainPacked(trials, data, { sweep: 't' });
    const three = await trainPacked([trial({ seed: 10, epochs: 25 })], blobs(), { sweep: 't' });
    const before = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const onCpu = await trainPacked(trials, data, { sweep: 't' });
      for (const [i, r] of onCpu.entries()) expect(maxRelativeError(r.history.val_loss, onWasm[i].history.val_loss)).toBeLessThan(1e-4);
      const [threeCpu] = await trainPacked([trial({ seed: 10, epochs: 25 })], blobs(), { sweep: 't' });
      expect(maxRelativeError(threeCpu.history.val_loss, three[0].history.val_loss)).toBeLessThan(1e-4);
    } finally {
      await tf.setBackend(before);
    }
  });

  it('draws dropout and augmentation per trial from the same streams as the layers engine, so runs and their spread over seeds agree', async () => {
    const seeds = [0, 1, 2, 3, 4, 5];
    const trials = seeds.map((seed) => trial({ seed, epochs: 40, dropout: 0.5, augmentation: { jitter: 0.1 } }));
    const packed = await trainPackPacked(trials, data, { sweep: 't' });
    const layers = await Promise.all(trials.map((t) => trainTrialLayers(t, data)));
    const p = packed.map((r) => r.final.val_loss);
    const l = layers.map((r) => r.final.val_loss);
    expect(Math.abs(mean(p) - mean(l))).toBeLessThan(Math.max(std(p), std(l)));
    // Both engines draw masks, jitter and order from the trial's own streams: they agree run by run.
    for (const [i, r] of packed.entries()) expect(maxRelativeError(r.history.val_loss, layers[i].history.val_loss)).toBeLessThan(1e-5);
    // Each seed draws its own masks: the runs differ from one another.
    expect(new Set(p.map((v) => v.toFixed(6))).size).toBe(seeds.length);
    // and from the same trial without dropout
    const [plain] = await trainPackPacked([trial({ seed: 0, epochs: 40 })], data, { sweep: 't' });
    expect(plain.history.loss).not.toEqual(packed[0].history.loss);
  });

  it('evaluates each bootstrap replicate on its own resample', async () => {
    const trials = [null, 1, 2, 1].map((replicate, i) => trial({ seed: i, epochs: 20, replicate }));
    const packed = await trainPacked(trials, data, { sweep: 't' });
    for (const [i, t] of trials.entries()) {
      const layers = await trainTrialLayers(t, data);
      expect(packed[i].points!.train).toEqual(layers.points!.train);
      expect(packed[i].final.loss).toBeCloseTo(layers.final.loss, 4);
      expect(packed[i].final.val_loss).toBeCloseTo(layers.final.val_loss, 4);
    }
    expect(packed[1].points!.train).not.toEqual(packed[2].points!.train);
  });

  it('freezes a trial that stops early while the rest of the pack trains on', async () => {
    const trials = [trial({ seed: 0, patience: 2, minDelta: 0.05, epochs: 40 }), trial({ seed: 1, epochs: 40 })];
    const packed = await trainPacked(trials, data, { sweep: 't' }, { replay: false });
    const live = await trainTrialLayers(trials[0], data);
    expect(packed[0].stoppedEpoch).toBeLessThan(40);
    expect(packed[0].stoppedEpoch).toBe(live.stoppedEpoch);
    expect(packed[0].bestEpoch).toBe(live.bestEpoch);
    expect(packed[0].history.val_loss).toHaveLength(packed[0].stoppedEpoch);
    expect(maxRelativeError(packed[0].history.val_loss, live.history.val_loss)).toBeLessThan(1e-5);
    expect(packed[0].final.val_loss).toBeCloseTo(live.final.val_loss, 4);
    expect(packed[1].history.loss).toHaveLength(40);
  });

  it('records a trial whose loss stops being finite as diverged and trains the others normally', async () => {
    // An absurd penalty multiplies the weights by about −2·10¹⁰ a step: infinite within a few epochs.
    const sgd = { kind: 'sgd' as const, learningRate: 1, momentum: 0 };
    const results = await trainPackPacked([trial({ seed: 0, epochs: 10, optimizer: sgd, l2: 1e10 }), trial({ seed: 1, epochs: 10, optimizer: sgd })], data, { sweep: 't' });
    expect(results[0].status).toBe('diverged');
    expect(results[0].history.loss.length).toBeLessThan(10);
    expect(results[1].status).toBe('ok');
    expect(results[1].history.loss).toHaveLength(10);
  });

  it('gives every result a surface, validation probabilities and the points it trained on, and leaves no tensor behind', async () => {
    const { initBackend } = await import('../../../runner/train/backend.ts');
    const { tf } = await initBackend();
    await trainPackPacked([trial({ epochs: 2, patience: 1 })], data, { sweep: 's' });
    const before = tf.memory().numTensors;
    const [r] = await trainPackPacked([trial({ epochs: 3 }), trial({ epochs: 3, patience: 1, dropout: 0.5 })], data, { sweep: 's' });
    expect(tf.memory().numTensors).toBe(before);
    // a pack that trains from the host (shared points), stopping one trial early
    await trainPackPacked([trial({ epochs: 6 }), trial({ seed: 1, epochs: 6, patience: 1, minDelta: 1 })], data, { sweep: 's' });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.sweep).toBe('s');
    expect(r.valProba).toHaveLength(data.val.x.length);
    expect(r.surface!.values).toHaveLength(80 * 80);
    expect(r.points!.train).toHaveLength(data.train.x.length);
  });
});
