import { describe, expect, it } from 'vitest';
import { augmentBatch, augmenter, centreOf } from '../../runner/data/augment.ts';
import { streamFor } from '../../runner/data/random/streams.ts';

const points = [[0, 0], [2, 0], [2, 2], [0, 2], [1, 3]];
const dist = (p: number[], c: number[]) => Math.hypot(p[0] - c[0], p[1] - c[1]);

describe('augmentBatch', () => {
  it('rotates each point about the centre, keeping its distance to it', () => {
    const centre = [1, 1];
    const out = augmentBatch(points, { rotation: 30 }, streamFor(0, 'aug'), { centre });
    out.forEach((p, i) => expect(dist(p, centre)).toBeCloseTo(dist(points[i], centre), 12));
    expect(out).not.toEqual(points);
  });

  it('keeps every rotation within ±rotation degrees', () => {
    const centre = [0, 0];
    const ring = Array.from({ length: 200 }, () => [1, 0]);
    const out = augmentBatch(ring, { rotation: 10 }, streamFor(1, 'aug'), { centre });
    const angles = out.map(([x, y]) => (Math.atan2(y, x) * 180) / Math.PI);
    expect(Math.max(...angles.map(Math.abs))).toBeLessThanOrEqual(10);
    expect(Math.max(...angles)).toBeGreaterThan(5);
  });

  it('scales distances to the centre by factors within 1 ± scale', () => {
    const centre = [1, 1];
    const out = augmentBatch(points, { scale: 0.2 }, streamFor(2, 'aug'), { centre });
    out.forEach((p, i) => {
      const r = dist(p, centre) / dist(points[i], centre);
      expect(r).toBeGreaterThanOrEqual(0.8);
      expect(r).toBeLessThanOrEqual(1.2);
    });
  });

  it('adds jitter of the asked standard deviation and draws afresh on each call', () => {
    const x = Array.from({ length: 2000 }, () => [0, 0, 0]);
    const stream = streamFor(3, 'aug');
    const a = augmentBatch(x, { jitter: 0.5 }, stream).flat();
    const sd = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.02);
    expect(augmentBatch(x, { jitter: 0.5 }, stream).flat()).not.toEqual(a);
  });

  it('leaves its input untouched and is reproducible from the stream', () => {
    const copy = points.map((p) => [...p]);
    const a = augmentBatch(points, { jitter: 0.1, rotation: 5, scale: 0.1 }, streamFor(4, 'aug'));
    expect(points).toEqual(copy);
    expect(augmentBatch(points, { jitter: 0.1, rotation: 5, scale: 0.1 }, streamFor(4, 'aug'))).toEqual(a);
  });

  it('refuses rotation of points that are not 2-D, and image-only options', () => {
    expect(() => augmentBatch([[1, 2, 3]], { rotation: 5 }, streamFor(0, 'aug'))).toThrow(/2-D/);
    expect(() => augmentBatch(points, { jitter: 0.1, zoom: 0.1 }, streamFor(0, 'aug'))).toThrow(/zoom applies to images only/);
  });
});

describe('augmenter', () => {
  it('rotates about the training split centre, not the batch centre', () => {
    const data = { inputShape: [2], train: { x: points, y: [0, 1, 0, 1, 0] } };
    const centre = centreOf(points);
    const out = augmenter(data, { rotation: 45 })!([[5, 5]], streamFor(0, 'aug'));
    expect(dist(out[0], centre)).toBeCloseTo(dist([5, 5], centre), 12);
  });

  it('is null for no augmentation and refuses image-only options on points', () => {
    const data = { inputShape: [2], train: { x: points, y: [0, 1, 0, 1, 0] } };
    expect(augmenter(data, null)).toBeNull();
    expect(() => augmenter(data, { shift: 0.1 })).toThrow(/images only/);
  });
});
