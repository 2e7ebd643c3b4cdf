import { describe, expect, test } from 'vitest';
import { bootstrapIndices } from '../../runner/data/split.ts';
import { buildResult, failedResult, finalMetrics, round6, surfaceGrid, surfaceValues, trainingSet } from '../../runner/train/result.ts';
import { RESULT_FORMAT } from '../../runner/records/result.ts';
import { moons, stripes, trial } from './fixtures.ts';

const backend = { name: 'cpu', device: 'test cpu' };

describe('surfaceGrid', () => {
  test('covers the range of train and val points widened by 0.5, n×n points with y outer', () => {
    const data = moons();
    const g = surfaceGrid(data, 5)!;
    const all = [...data.train.x, ...data.val.x];
    expect(g.x0).toBeCloseTo(Math.min(...all.map((p) => p[0])) - 0.5, 12);
    expect(g.x1).toBeCloseTo(Math.max(...all.map((p) => p[0])) + 0.5, 12);
    expect(g.y0).toBeCloseTo(Math.min(...all.map((p) => p[1])) - 0.5, 12);
    expect(g.y1).toBeCloseTo(Math.max(...all.map((p) => p[1])) + 0.5, 12);
    expect(g.points).toHaveLength(25);
    expect(g.points[0]).toEqual([g.x0, g.y0]);
    expect(g.points[4][0]).toBeCloseTo(g.x1, 12);
    expect(g.points[4][1]).toBe(g.y0);
    expect(g.points[5][0]).toBe(g.x0);
    expect(g.points[24][1]).toBeCloseTo(g.y1, 12);
  });

  test('defaults to 80×80 and is absent for data that is not 2-D', () => {
    expect(surfaceGrid(moons())!.points).toHaveLength(6400);
    expect(surfaceGrid(stripes())).toBeUndefined();
  });
});

describe('surfaceValues', () => {
  test('gives p(class 1) for two classes and the argmax for more', () => {
    expect(surfaceValues([[0.3, 0.7], [0.9, 0.1]])).toEqual([0.7, 0.1]);
    expect(surfaceValues([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])).toEqual([2, 0]);
  });

  test('reads an engine\'s output rows the same way', () => {
    expect(surfaceValues({ out: Float32Array.of(0.7, 0.1), classes: 2 }).map((v) => +v.toFixed(6))).toEqual([0.7, 0.1]);
    expect(surfaceValues({ out: [0.2, 0.3, 0.5, 0.6, 0.3, 0.1], classes: 3 })).toEqual([2, 0]);
  });
});

describe('finalMetrics', () => {
  test('computes mean cross-entropy and accuracy of both splits', () => {
    const m = finalMetrics([[0.2, 0.8], [0.6, 0.4]], [1, 1], [[1, 0]], [0]);
    expect(m.loss).toBeCloseTo(-(Math.log(0.8) + Math.log(0.4)) / 2, 12);
    expect(m.acc).toBe(0.5);
    expect(m.val_loss).toBeCloseTo(-Math.log(1 - 1e-7), 12);
    expect(m.val_acc).toBe(1);
  });
});

describe('trainingSet', () => {
  test('is the split itself without a replicate and its bootstrap resample with one', () => {
    const data = moons();
    expect(trainingSet(trial(), data)).toBe(data.train);
    const boot = trainingSet(trial({ replicate: 2 }), data);
    const idx = bootstrapIndices(data.train.x.length, 2);
    expect(boot.x).toEqual(idx.map((i) => data.train.x[i]));
    expect(boot.y).toEqual(idx.map((i) => data.train.y[i]));
  });
});

describe('buildResult', () => {
  const data = moons(12, 6);
  const history = { loss: [0.7, 0.6, 0.5], val_loss: [0.71, 0.65, 0.6], acc: [0.5, 0.6, 0.7], val_acc: [0.5, 0.5, 0.6] };
  const proba = (n: number) => Array.from({ length: n }, (_, i) => [1 - 0.123456789 * (i % 3), 0.123456789 * (i % 3)]);

  test('assembles an ok result with rounded probabilities, points and surface', () => {
    const grid = surfaceGrid(data, 4)!;
    const t = trial();
    const r = buildResult({
      trial: t, sweep: 's', engine: 'layers', backend, seconds: 1.5, data, train: data.train, history,
      stoppedEpoch: 3, bestEpoch: 3, probaTrain: proba(6), probaVal: proba(6), probaSurface: proba(16),
    });
    expect(r).toMatchObject({ formatVersion: RESULT_FORMAT, status: 'ok', trialId: t.trialId, cellId: t.cellId, backend: 'cpu', device: 'test cpu', stoppedEpoch: 3, bestEpoch: 3 });
    expect(r.error).toBeUndefined();
    expect(r.valProba[1]).toEqual([0.876543, 0.123457]);
    expect(r.valLabels).toEqual(data.val.y);
    expect(r.points!.train).toEqual(data.train.x.map((p, i) => [p[0], p[1], data.train.y[i]]));
    expect(r.surface).toMatchObject({ x0: grid.x0, y1: grid.y1, n: 4 });
    expect(r.surface!.values).toHaveLength(16);
    expect(r.final.acc).toBeCloseTo(finalMetrics(proba(6), data.train.y, proba(6), data.val.y).acc, 12);
  });

  test('marks a non-finite loss as diverged, naming the epoch and keeping the history before it', () => {
    const r = buildResult({
      trial: trial(), sweep: 's', engine: 'layers', backend, seconds: 1, data, train: data.train,
      history: { ...history, loss: [0.7, NaN, 0.5] }, stoppedEpoch: 3, bestEpoch: 3, probaTrain: proba(6), probaVal: proba(6),
    });
    expect(r.status).toBe('diverged');
    expect(r.error).toMatch(/epoch 2/);
    expect(r.history.loss).toEqual([0.7]);
    expect(r.history.val_acc).toEqual([0.5]);
    expect(r.stoppedEpoch).toBe(2);
    expect(r.valProba).toEqual([]);
  });

  test('records a failure with its message and an empty history', () => {
    const r = failedResult({ trial: trial(), sweep: 's', engine: 'layers', backend, seconds: 0, data, error: 'boom\nstack' });
    expect(r.status).toBe('failed');
    expect(r.error).toBe('boom');
    expect(r.history.loss).toEqual([]);
  });
});

test('round6 keeps six significant digits, as toPrecision(6) does, from saturated probabilities to large losses', () => {
  expect(round6(0.000123456789)).toBe(0.000123457);
  expect(round6(123456.789)).toBe(123457);
  expect(round6(-3.14159265e-12)).toBe(-3.14159e-12);
  expect(round6(0)).toBe(0);
  expect(round6(Number.NaN)).toBeNaN();
  let state = 12345;
  const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
  let differ = 0;
  for (let i = 0; i < 20000; i++) {
    const v = (random() - 0.5) * 10 ** Math.floor(random() * 30 - 20);
    if (round6(v) !== Number(v.toPrecision(6))) differ++;
  }
  // only exact ties may round the other way
  expect(differ).toBeLessThan(3);
});
