import { describe, expect, it } from 'vitest';
import { MaskStream } from '../../runner/train/packed-random.ts';

const seed = [1, 2, 3, 4] as const;

describe('MaskStream', () => {
  it('fills a mask with exactly the draws next() would give, kept units scaled by 1/(1 − rate)', () => {
    const mask = new Float32Array(1000);
    new MaskStream(seed).fillMask(mask, 0, 1000, 0.25);
    const reference = new MaskStream(seed);
    const expected = Array.from({ length: 1000 }, () => ((reference.next() >>> 8) >= 0.25 * 2 ** 24 ? Math.fround(1 / 0.75) : 0));
    expect(Array.from(mask)).toEqual(expected);
    // and the stream continues where the mask left off
    const after = new MaskStream(seed);
    after.fillMask(new Float32Array(1000), 0, 1000, 0.25);
    expect(after.next()).toBe(reference.next());
  });

  it('drops about the given fraction of units and draws nothing for a rate of zero', () => {
    const stream = new MaskStream(seed);
    const mask = new Float32Array(20000);
    stream.fillMask(mask, 0, mask.length, 0.5);
    const dropped = mask.filter((v) => v === 0).length / mask.length;
    expect(dropped).toBeGreaterThan(0.48);
    expect(dropped).toBeLessThan(0.52);
    const untouched = new MaskStream(seed);
    untouched.fillMask(mask, 0, 10, 0);
    expect(Array.from(mask.subarray(0, 10))).toEqual(Array(10).fill(1));
    expect(untouched.next()).toBe(new MaskStream(seed).next());
  });
});
