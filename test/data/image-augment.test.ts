import { describe, expect, it } from 'vitest';
import { augmenter } from '../../runner/data/augment.ts';
import { IDENTITY, augmentImages, randomTransform, transformImage } from '../../runner/data/image-augment.ts';
import { streamFor } from '../../runner/data/random/streams.ts';

const n = 5;
// a 5×5 single-channel image with distinct pixel values in (0, 1)
const img = Array.from({ length: n * n }, (_, k) => (k + 1) / (n * n + 1));
const at = (x: number[], r: number, c: number) => x[r * n + c];
const grid = (x: number[]) => Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => at(x, r, c)));

describe('transformImage', () => {
  it('is the identity for zoom 1, shear 0 and no rotation or shift', () => {
    expect(transformImage(img, n, n, 1, { ...IDENTITY })).toEqual(img);
  });

  it('moves a pixel by one for a one-pixel shift', () => {
    const dot = new Array<number>(n * n).fill(0);
    dot[2 * n + 2] = 1;
    const down = transformImage(dot, n, n, 1, { ...IDENTITY, tx: -1 });
    expect(at(down, 3, 2)).toBe(1);
    expect(down.reduce((a, b) => a + b)).toBe(1);
    const left = transformImage(dot, n, n, 1, { ...IDENTITY, ty: 1 });
    expect(at(left, 2, 1)).toBe(1);
  });

  it('turns a square image by 90° into its transpose flipped left to right', () => {
    const out = grid(transformImage(img, n, n, 1, { ...IDENTITY, theta: 90 }));
    const expected = grid(img)[0].map((_, c) => grid(img).map((row) => row[c])).map((row) => [...row].reverse());
    expect(out).toEqual(expected);
  });

  it('mirrors the columns for a horizontal flip', () => {
    expect(grid(transformImage(img, n, n, 1, { ...IDENTITY, flip: true }))).toEqual(grid(img).map((row) => [...row].reverse()));
  });

  it('transforms each channel of an RGB image alike', () => {
    const rgb = img.flatMap((v) => [v, 1 - v, v / 2]);
    const out = transformImage(rgb, n, n, 3, { ...IDENTITY, theta: 90 });
    const grey = transformImage(img, n, n, 1, { ...IDENTITY, theta: 90 });
    expect(out.filter((_, k) => k % 3 === 0)).toEqual(grey);
    out.filter((_, k) => k % 3 === 1).forEach((v, k) => expect(v).toBeCloseTo(1 - grey[k], 12));
  });

  it('fills from the nearest border pixel beyond the edge', () => {
    const out = transformImage(img, n, n, 1, { ...IDENTITY, ty: 2 });
    expect(at(out, 0, 4)).toBe(at(img, 0, 4));
    expect(at(out, 0, 3)).toBe(at(img, 0, 4));
  });
});

describe('augmentImages', () => {
  it('keeps outputs in [0, 1] under every option at once, jitter included', () => {
    const images = Array.from({ length: 20 }, () => img);
    const aug = { rotation: 40, shift: 0.2, zoom: 0.3, shear: 20, flip: true, jitter: 0.3, scale: 0.1 };
    const out = augmentImages(images, { height: n, width: n, channels: 1 }, aug, streamFor(0, 'augment'));
    const all = out.flat();
    expect(Math.min(...all)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...all)).toBeLessThanOrEqual(1);
    expect(new Set(out.map((x) => x.join())).size).toBe(20);
  });

  it('draws rotations, shifts and zooms within their ranges, zoom independently per axis', () => {
    const stream = streamFor(1, 'augment');
    const draws = Array.from({ length: 200 }, () => randomTransform({ rotation: 15, shift: 0.1, zoom: 0.2 }, { height: 10, width: 20 }, stream));
    expect(draws.every((t) => Math.abs(t.theta) <= 15 && Math.abs(t.tx) <= 1 && Math.abs(t.ty) <= 2)).toBe(true);
    expect(draws.every((t) => t.zx >= 0.8 && t.zx <= 1.2 && t.zy >= 0.8 && t.zy <= 1.2)).toBe(true);
    expect(draws.some((t) => t.zx !== t.zy)).toBe(true);
    expect(draws.every((t) => t.shear === 0 && !t.flip)).toBe(true);
  });

  it('is what augmenter picks for image data', () => {
    const data = { inputShape: [n, n, 1], train: { x: [img], y: [0] } };
    const a = augmenter(data, { flip: true })!([img, img, img, img, img, img], streamFor(2, 'augment'));
    const mirrored = grid(img).map((row) => [...row].reverse()).flat();
    expect(a.every((x) => x.join() === img.join() || x.join() === mirrored.join())).toBe(true);
    expect(a.some((x) => x.join() === mirrored.join())).toBe(true);
  });
});
