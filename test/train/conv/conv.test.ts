import { beforeAll, describe, expect, it } from 'vitest';
import { loadDigits } from '../../../runner/data/digits.ts';
import type { Dataset } from '../../../runner/data/types.ts';
import type { ModelSpec } from '../../../runner/records/config.ts';
import { trainTrialLayers } from '../../../runner/train/layers/train.ts';
import { trainPackConv } from '../../../runner/train/conv/index.ts';
import { chooseEngine, placementFor, trainPack } from '../../../runner/train/train-pack.ts';
import type { TrialResult } from '../../../runner/records/result.ts';
import { stripes, trial, type TrialOptions } from '../fixtures.ts';
import { expectAgreement, maxRelDiff } from '../fused/fixtures.ts';

const DIGITS_CNN: ModelSpec = { kind: 'cnn', blocks: [{ filters: 16, kernel: 3, pool: 2 }, { filters: 32, kernel: 3, pool: 2 }], dense: [64], activation: 'relu' };
const adam = (learningRate: number) => ({ kind: 'adam' as const, learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
let digits: Dataset;

beforeAll(async () => {
  process.env.FITGRID_BACKEND ??= 'wasm';
  process.env.FITGRID_THREADS ??= '1';
  digits = await loadDigits({ trainSize: 90, classes: [0, 1, 2, 3, 4], split: { kind: 'fraction', trainFraction: 0.5, stratify: true, seed: 0 } });
  digits = { ...digits, val: { x: digits.val.x.slice(0, 60), y: digits.val.y.slice(0, 60) } };
});

async function both(o: TrialOptions, data: Dataset): Promise<[TrialResult, TrialResult]> {
  const t = trial(o);
  const [conv] = await trainPackConv([t], data, { sweep: 'conv-test' });
  expect(conv.engine).toBe('conv');
  return [conv, await trainTrialLayers(t, data)];
}

describe('conv engine against the layers engine', () => {
  it('matches the layers engine to 1e-5 relative over the first epochs on 8×8 digits (two blocks, Adam, L2, minibatches)', async () => {
    const [conv, layers] = await both({ model: DIGITS_CNN, epochs: 4, l2: 0.001, optimizer: adam(3e-3) }, digits);
    expectAgreement(conv, layers, 1e-5);
    expect(conv.final.acc).toBe(layers.final.acc);
    expect(conv.valProba[0]).toHaveLength(5);
  });

  it('draws the same dropout masks and image augmentations as the layers engine, so they agree run by run', async () => {
    const [conv, layers] = await both({
      model: DIGITS_CNN, epochs: 3, dropout: [0.25, 0.3, 0.5], augmentation: { shift: 0.1, rotation: 10, zoom: 0.1, flip: true }, optimizer: adam(3e-3),
    }, digits);
    expectAgreement(conv, layers, 1e-5);
  });

  it('matches on odd sizes: a 5×5 kernel, pooling by 3 that drops a border, two classes (sigmoid), SGD with momentum', async () => {
    const two = stripes(12);
    const keep = two.train.y.map((c, i) => (c < 2 ? i : -1)).filter((i) => i >= 0);
    const keepVal = two.val.y.map((c, i) => (c < 2 ? i : -1)).filter((i) => i >= 0);
    const data: Dataset = {
      ...two, classNames: ['row', 'column'],
      train: { x: keep.map((i) => two.train.x[i]), y: keep.map((i) => two.train.y[i]) },
      val: { x: keepVal.map((i) => two.val.x[i]), y: keepVal.map((i) => two.val.y[i]) },
    };
    const model: ModelSpec = { kind: 'cnn', blocks: [{ filters: 8, kernel: 5, pool: 3 }], dense: [6, 5], activation: 'relu' };
    const [conv, layers] = await both({ model, epochs: 8, batchSize: 5, l2: 0.01, optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 } }, data);
    expectAgreement(conv, layers, 1e-5);
    expect(conv.valProba[0]).toHaveLength(2);
  });

  it('replays each patience value from one training, keeping the weights of its best epoch', async () => {
    const base: TrialOptions = {
      model: { kind: 'cnn', blocks: [{ filters: 4, kernel: 3, pool: 2 }], dense: [8], activation: 'relu' }, epochs: 30,
      dropout: 0.2, augmentation: { shift: 0.2, rotation: 10 }, optimizer: adam(0.05),
    };
    const trials = [trial({ ...base, patience: null }), trial({ ...base, patience: 2 })];
    const results = await trainPackConv(trials, stripes(), { sweep: 'conv-test' });
    const live = await trainTrialLayers(trials[1], stripes());
    expect(results[1].stoppedEpoch).toBe(live.stoppedEpoch);
    expect(results[1].bestEpoch).toBe(live.bestEpoch);
    expect(results[1].stoppedEpoch).toBeLessThan(30);
    expect(results[0].stoppedEpoch).toBe(30);
    expect(maxRelDiff([results[1].final.val_loss], [live.final.val_loss])).toBeLessThan(1e-4);
  });
});

describe('choosing the conv engine', () => {
  it('is auto for ReLU CNNs with filters in fours on CPU backends, and placed on CPUs', () => {
    expect(chooseEngine('auto', DIGITS_CNN, 'wasm')).toBe('conv');
    expect(chooseEngine('auto', DIGITS_CNN, 'tensorflow')).toBe('layers');
    expect(chooseEngine('auto', { ...DIGITS_CNN, activation: 'tanh' }, 'wasm')).toBe('layers');
    expect(chooseEngine('auto', { ...DIGITS_CNN, blocks: [{ filters: 6, kernel: 3, pool: 2 }] }, 'wasm')).toBe('layers');
    expect(chooseEngine('conv', { kind: 'mlp', hidden: [4], activation: 'relu' }, 'wasm')).toBe('layers');
    expect(placementFor('conv', DIGITS_CNN)).toBe('cpu');
    expect(placementFor('layers', DIGITS_CNN)).toBe('gpu');
  });
});

describe('trainPack with CNNs', () => {
  it('trains the CNNs the conv engine supports with it, and the others with layers, without trying conv first', async () => {
    const supported = trial({ epochs: 2, model: { kind: 'cnn', blocks: [{ filters: 4, kernel: 3, pool: 2 }], dense: [8], activation: 'relu' } });
    supported.config.train.engine = 'auto';
    const [r] = await trainPack([supported], stripes(), { sweep: 's' });
    expect(r.engine).toBe('conv');
    expect(r.status).toBe('ok');
    const odd = trial({ epochs: 2, model: { kind: 'cnn', blocks: [{ filters: 3, kernel: 3, pool: 2 }], dense: [8], activation: 'relu' } });
    odd.config.train.engine = 'conv';
    const [l] = await trainPack([odd], stripes(), { sweep: 's' });
    expect(l.engine).toBe('layers');
    expect(l.status).toBe('ok');
  });
});
