import { describe, expect, it } from 'vitest';
import { encodeTrialResult, readTrialResult, RESULT_ENCODING, ResultFormatError } from '../../runner/records/result-codec.ts';
import { RESULT_FORMAT, type TrialResult } from '../../runner/records/result.ts';
import { makeGrid, makeResult, makeTrial } from '../fixtures/summary/make.ts';

/** A result shaped like the seed article's base trial: 4,000 epochs, 30 + 70 points, an 80×80 surface. */
function articleResult(epochs = 4000, surfaceN = 80): TrialResult {
  const grid = makeGrid();
  const trial = makeTrial(grid, { l2: 0, dropout: 0, augmentation: null, patience: null }, 0);
  const f = (v: number) => Math.fround(v);
  const curve = (a: number, b: number) => Array.from({ length: epochs }, (_, e) => f(a * Math.exp(-e / 400) + b + 0.01 * Math.sin(e)));
  const history = { loss: curve(0.6, 0.02), val_loss: curve(0.5, 0.25), acc: curve(-0.4, 0.99), val_acc: curve(-0.4, 0.9) };
  const point = (i: number): [number, number, number] => [f(Math.cos(i) * 1.3), f(Math.sin(i * 0.7)), i % 2];
  const surface = Array.from({ length: surfaceN * surfaceN }, (_, i) => 1 / (1 + Math.exp(-((i % surfaceN) - surfaceN / 2) / 3)));
  return makeResult(trial, history, {
    valProba: Array.from({ length: 70 }, (_, i) => { const p = f(i / 70); return [f(1 - p), p]; }),
    valLabels: Array.from({ length: 70 }, (_, i) => i % 2),
    points: { train: Array.from({ length: 30 }, (_, i) => point(i)), val: Array.from({ length: 70 }, (_, i) => point(i + 30)) },
    surface: { x0: -1.5, x1: 2.5, y0: -1, y1: 1.5, n: surfaceN, values: surface },
  });
}

describe('encodeTrialResult / readTrialResult', () => {
  it('round-trips a result: float32 histories, predictions and points exactly, the surface to 1/255', () => {
    const r = articleResult();
    const back = readTrialResult(new TextEncoder().encode(encodeTrialResult(r)));
    const { surface, ...rest } = back;
    const { surface: original, ...expected } = r;
    expect(rest).toEqual(expected);
    expect(surface!.n).toBe(80);
    expect({ ...surface, values: [] }).toEqual({ ...original, values: [] });
    surface!.values.forEach((v, i) => expect(Math.abs(v - original!.values[i])).toBeLessThanOrEqual(0.5 / 255 + 1e-12));
  });

  it('names its encoding and keeps the result format that enters trial ids', () => {
    const stored = JSON.parse(encodeTrialResult(articleResult(10, 4)));
    expect(stored.encoding).toBe(RESULT_ENCODING);
    expect(stored.formatVersion).toBe(RESULT_FORMAT);
    expect(stored.history.loss).toMatchObject({ dtype: 'float32', shape: [10] });
    expect(stored.surface.values).toMatchObject({ dtype: 'uint8', shape: [4, 4], scale: 1 / 255 });
  });

  it('keeps the article base trial under 100 KB and a 300-epoch trial on 2-D data under 20 KB', () => {
    expect(encodeTrialResult(articleResult(4000)).length).toBeLessThan(100_000);
    expect(encodeTrialResult(articleResult(300)).length).toBeLessThan(20_000);
  });

  it('stores multi-class surfaces as exact class indices', () => {
    const r = articleResult(5, 3);
    r.valProba = [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]];
    r.surface = { ...r.surface!, values: [0, 1, 2, 2, 1, 0, 1, 1, 2] };
    const back = readTrialResult(encodeTrialResult(r));
    expect(back.surface!.values).toEqual([0, 1, 2, 2, 1, 0, 1, 1, 2]);
    expect(back.valProba.map((p) => p.map((x) => Number(x.toFixed(6))))).toEqual(r.valProba);
  });

  it('reads the plain JSON that earlier versions stored', () => {
    const r = articleResult(7, 3);
    expect(readTrialResult(JSON.stringify(r))).toEqual(r);
  });

  it('keeps a failed result with no history and no predictions', () => {
    const r = { ...articleResult(3, 2), status: 'failed' as const, error: 'boom', history: { loss: [], val_loss: [], acc: [], val_acc: [] }, valProba: [] };
    delete r.surface;
    expect(readTrialResult(encodeTrialResult(r))).toEqual(r);
  });

  it('throws a ResultFormatError for a truncated file, an unknown encoding or a foreign object', () => {
    const text = encodeTrialResult(articleResult(50, 4));
    expect(() => readTrialResult(text.slice(0, text.length / 2))).toThrow(/truncated/);
    expect(() => readTrialResult('')).toThrow(/empty/);
    expect(() => readTrialResult(JSON.stringify({ ...JSON.parse(text), encoding: 99 }))).toThrow(/unknown encoding 99/);
    expect(() => readTrialResult('{"hello": 1}')).toThrow(/not a fitgrid trial result/);
    const broken = JSON.parse(text);
    broken.history.loss.data = broken.history.loss.data.slice(0, 8);
    expect(() => readTrialResult(JSON.stringify(broken))).toThrow(ResultFormatError);
  });

  it('decodes points on first read, where damaged ones throw a ResultFormatError', () => {
    const stored = JSON.parse(encodeTrialResult(articleResult(50, 4)));
    stored.points.train.data = stored.points.train.data.slice(0, 12);
    const r = readTrialResult(JSON.stringify(stored));
    expect(r.history.loss).toHaveLength(50);
    expect(() => r.points).toThrow(ResultFormatError);
    expect(() => r.points).toThrow(/^points: /);
    stored.points.val = 'nonsense';
    expect(() => readTrialResult(JSON.stringify(stored)).points).toThrow(ResultFormatError);
  });
});
