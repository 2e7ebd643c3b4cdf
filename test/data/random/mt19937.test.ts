import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RandomState } from '../../../runner/data/random/mt19937.ts';

interface Stream {
  seed: number | number[];
  raw: number[];
  random_sample: number[];
  'normal_0.5_2_3x3': number[];
  standard_normal_after: number[];
  shuffles: Record<string, number[]>;
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/data/numpy-random.json', import.meta.url), 'utf8')) as { streams: Stream[] };

const close = (actual: number[], expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(1e-12));
};

describe('RandomState', () => {
  it('gives the reference first output 3499211612 for the default seed 5489', () => {
    expect(new RandomState(5489).nextUint32()).toBe(3499211612);
  });

  it('gives the mt19937ar.c reference outputs for init_by_array([0x123, 0x234, 0x345, 0x456])', () => {
    const rs = new RandomState([0x123, 0x234, 0x345, 0x456]);
    expect(Array.from({ length: 5 }, () => rs.nextUint32())).toEqual([1067595299, 955945823, 477289528, 4107218783, 4228976476]);
  });

  it('seeds an integer as numpy does (RandomState(0).random_sample() is 0.5488135039273248)', () => {
    expect(new RandomState(0).randomSample()).toBe(0.5488135039273248);
  });

  for (const s of fixture.streams) {
    describe(`seed ${JSON.stringify(s.seed)}`, () => {
      it('matches numpy raw outputs across the state twist', () => {
        const rs = new RandomState(s.seed);
        expect(s.raw.map(() => rs.nextUint32())).toEqual(s.raw);
      });

      it('matches numpy random_sample, normal with a cached Gaussian, and shuffle in sequence', () => {
        const rs = new RandomState(s.seed);
        expect(s.random_sample.map(() => rs.randomSample())).toEqual(s.random_sample);
        close(rs.normal(0.5, 2, 9), s['normal_0.5_2_3x3']);
        close(s.standard_normal_after.map(() => rs.standardNormal()), s.standard_normal_after);
        for (const [n, expected] of Object.entries(s.shuffles)) {
          expect(rs.shuffle(Array.from({ length: Number(n) }, (_, i) => i))).toEqual(expected);
        }
      });
    });
  }

  it('rejects seeds outside [0, 2**32)', () => {
    expect(() => new RandomState(-1)).toThrow(/2\*\*32 - 1/);
    expect(() => new RandomState(2 ** 32)).toThrow(/2\*\*32 - 1/);
    expect(() => new RandomState([])).toThrow(/non-empty/);
  });
});
