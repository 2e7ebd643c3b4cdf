import { describe, expect, it } from 'vitest';
import { dyadicBits, MaskStream } from '../../../runner/data/random/masks.ts';

const seed = [1, 2, 3, 4] as const;

describe('MaskStream', () => {
  it('decides a rate of j/2^m from m bits of each draw, low bits first, kept units scaled by 1/(1 − rate)', () => {
    const mask = new Float32Array(1000);
    new MaskStream(seed).fillMask(mask, 0, 1000, 0.25);
    const reference = new MaskStream(seed);
    const expected: number[] = [];
    while (expected.length < 1000) {
      let bits = reference.next();
      for (let j = 0; j < 16 && expected.length < 1000; j++, bits >>>= 2) expected.push((bits & 3) >= 1 ? Math.fround(1 / 0.75) : 0);
    }
    expect(Array.from(mask)).toEqual(expected);
  });

  it('compares one 24-bit draw per unit for a rate with no short binary expansion', () => {
    const mask = new Float32Array(1000);
    new MaskStream(seed).fillMask(mask, 0, 1000, 0.3);
    const reference = new MaskStream(seed);
    const expected = Array.from({ length: 1000 }, () => ((reference.next() >>> 8) >= Math.round(0.3 * 2 ** 24) ? Math.fround(1 / 0.7) : 0));
    expect(Array.from(mask)).toEqual(expected);
    expect(dyadicBits(0.3)).toBe(0);
    expect(dyadicBits(0.5)).toBe(1);
    expect(dyadicBits(0.375)).toBe(3);
  });

  it('gives the same mask however it is split into calls, and the next mask continues the stream', () => {
    const whole = new Float32Array(2000);
    const a = new MaskStream(seed);
    a.fillMask(whole, 0, 1000, 0.5);
    a.fillMask(whole, 1000, 1000, 0.25);
    const pieces = new Float32Array(2000);
    const b = new MaskStream(seed);
    for (let at = 0; at < 1000; at += 7) b.fillMask(pieces, at, Math.min(7, 1000 - at), 0.5);
    for (let at = 1000; at < 2000; at += 500) b.fillMask(pieces, at, 500, 0.25);
    expect(Array.from(pieces)).toEqual(Array.from(whole));
    expect(new Set(whole.subarray(0, 1000)).size).toBe(2);
  });

  it('drops about the given fraction of units and draws nothing for a rate of zero', () => {
    for (const rate of [0.5, 0.125, 0.3]) {
      const mask = new Float32Array(40000);
      new MaskStream(seed).fillMask(mask, 0, mask.length, rate);
      const dropped = mask.filter((v) => v === 0).length / mask.length;
      expect(Math.abs(dropped - rate)).toBeLessThan(0.01);
    }
    const mask = new Float32Array(10);
    const untouched = new MaskStream(seed);
    untouched.fillMask(mask, 0, 10, 0);
    expect(Array.from(mask)).toEqual(Array(10).fill(1));
    expect(untouched.next()).toBe(new MaskStream(seed).next());
  });
});
