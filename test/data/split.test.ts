import { describe, expect, it } from 'vitest';
import { UserError } from '../../runner/errors.ts';
import { allocate, bootstrapIndices, splitIndices } from '../../runner/data/split.ts';

// 60 of class 0, 30 of class 1, 10 of class 2, interleaved
const y = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? 2 : i % 10 >= 6 ? 1 : 0));
const count = (idx: number[], c: number) => idx.filter((i) => y[i] === c).length;

describe('splitIndices', () => {
  it('trains on the first N rows and validates on the rest for { train: N }', () => {
    const s = splitIndices(y, { kind: 'first', train: 30 });
    expect(s.train).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(s.val).toEqual(Array.from({ length: 70 }, (_, i) => 30 + i));
  });

  it('keeps each class in proportion when stratified', () => {
    const s = splitIndices(y, { kind: 'fraction', trainFraction: 0.7, stratify: true, seed: 5 });
    expect(s.train).toHaveLength(70);
    expect([count(s.train, 0), count(s.train, 1), count(s.train, 2)]).toEqual([42, 21, 7]);
    expect([...s.train, ...s.val].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('returns rows in ascending order and repeats for the same seed, not for another', () => {
    const spec = { kind: 'fraction', trainFraction: 0.5, stratify: false, seed: 1 } as const;
    const a = splitIndices(y, spec);
    expect(a.train).toEqual([...a.train].sort((p, q) => p - q));
    expect(splitIndices(y, spec)).toEqual(a);
    expect(splitIndices(y, { ...spec, seed: 2 }).train).not.toEqual(a.train);
  });

  it('throws a UserError naming the field when nothing is left to validate', () => {
    expect(() => splitIndices(y, { kind: 'first', train: 100 })).toThrow(UserError);
    expect(() => splitIndices(y, { kind: 'first', train: 100 })).toThrow(/field `data.split.train`/);
  });
});

describe('allocate', () => {
  it('gives the rounding to the largest remainders and sums to the total', () => {
    expect(allocate([5, 3, 2], 5)).toEqual([3, 1, 1]);
    expect(allocate([1, 1, 1], 2)).toEqual([1, 1, 0]);
  });
});

describe('bootstrapIndices', () => {
  it('depends on the replicate index alone and draws with replacement', () => {
    const a = bootstrapIndices(40, 3);
    expect(bootstrapIndices(40, 3)).toEqual(a);
    expect(bootstrapIndices(40, 4)).not.toEqual(a);
    expect(a.every((i) => Number.isInteger(i) && i >= 0 && i < 40)).toBe(true);
    expect(new Set(a).size).toBeLessThan(40);
  });
});
