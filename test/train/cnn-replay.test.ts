import { beforeAll, describe, expect, test } from 'vitest';
import { initBackend } from '../../runner/train/backend.ts';
import { trainPackLayers, trainTrialLayers } from '../../runner/train/layers/train.ts';
import { stripes, trial, type TrialOptions } from './fixtures.ts';

const images = stripes();
const cnn: TrialOptions = {
  epochs: 30,
  dropout: 0.2,
  augmentation: { shift: 0.2, rotation: 10 },
  // A high rate makes val_loss turn early, so every patience value stops inside the budget.
  optimizer: { kind: 'adam', learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  model: { kind: 'cnn', blocks: [{ filters: 4, kernel: 3, pool: 2 }], dense: [8], activation: 'relu' },
};

beforeAll(() => {
  process.env.FITGRID_BACKEND ??= 'wasm';
});

describe('patience replay in the layers engine', () => {
  test('gives each patience value exactly the result of the same trial trained with live early stopping', async () => {
    const trials = [
      trial({ ...cnn, patience: null }),
      trial({ ...cnn, patience: 2 }),
      trial({ ...cnn, patience: 4, restoreBest: false }),
      trial({ ...cnn, patience: 4 }),
      trial({ ...cnn, patience: 2, seed: 1 }),
    ];
    const epochsTrained: number[] = [];
    const replayed = await trainPackLayers(trials, images, { sweep: 'r', onProgress: (p) => void epochsTrained.push(p.epoch) });
    const live = [];
    for (const t of trials) live.push(await trainTrialLayers(t, images, { sweep: 'r' }));

    expect(replayed.map((r) => r.trialId)).toEqual(trials.map((t) => t.trialId));
    expect(live.slice(1, 4).some((r) => r.stoppedEpoch < 30)).toBe(true);
    for (const [i, r] of replayed.entries()) {
      expect(r.status).toBe('ok');
      expect(r.stoppedEpoch).toBe(live[i].stoppedEpoch);
      expect(r.bestEpoch).toBe(live[i].bestEpoch);
      expect(r.history).toEqual(live[i].history);
      expect(r.final).toEqual(live[i].final);
      expect(r.valProba).toEqual(live[i].valProba);
    }
    // The seed-0 trials that keep their best weights share one full run; restoreBest is part of
    // the training's config, so that trial and the seed-1 one train alone, stopping live.
    expect(epochsTrained.length).toBe(30 + live[2].stoppedEpoch + live[4].stoppedEpoch);
  });

  test('leaves no tensors behind when it replays snapshots', async () => {
    const { tf } = await initBackend();
    const trials = [null, 1].map((patience) => trial({ ...cnn, epochs: 6, patience }));
    const before = tf.memory().numTensors;
    const results = await trainPackLayers(trials, images, { sweep: 'r' });
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
    // patience 1 keeps an earlier epoch's weights: the snapshot path ran.
    expect(results[1].bestEpoch).toBeLessThan(6);
    expect(tf.memory().numTensors).toBe(before);
  });
});
