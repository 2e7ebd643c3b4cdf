import { describe, expect, it } from 'vitest';
import { Stream, streamFor, streamSeed } from '../../../runner/data/random/streams.ts';

const draw = (s: Stream, n: number) => Array.from({ length: n }, () => s.nextUint32());

describe('Stream', () => {
  it('is xoshiro128**: state [1, 2, 3, 4] gives 11520, 0, 5927040', () => {
    expect(draw(new Stream([1, 2, 3, 4]), 3)).toEqual([11520, 0, 5927040]);
  });

  it('repeats for the same (seed, purpose, extra) and differs when any of them changes', () => {
    const a = draw(streamFor(3, 'dropout', 1), 8);
    expect(draw(streamFor(3, 'dropout', 1), 8)).toEqual(a);
    for (const other of [streamFor(4, 'dropout', 1), streamFor(3, 'init', 1), streamFor(3, 'dropout', 2), streamFor(3, 'dropout')]) {
      expect(draw(other, 8)).not.toEqual(a);
    }
    expect(streamSeed(3, 'dropout', 1)).toHaveLength(4);
  });

  it('draws uniforms in [0, 1) with mean near ½ and Gaussians with mean near 0 and variance near 1', () => {
    const s = streamFor(0, 'test');
    const u = Array.from({ length: 20000 }, () => s.uniform());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.abs(u.reduce((a, b) => a + b) / u.length - 0.5)).toBeLessThan(0.01);
    const g = Array.from({ length: 20000 }, () => s.gaussian());
    const mean = g.reduce((a, b) => a + b) / g.length;
    const variance = g.reduce((a, b) => a + (b - mean) ** 2, 0) / g.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('permutes every index exactly once', () => {
    const p = streamFor(1, 'shuffle').permutation(50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('draws integers below n covering every value', () => {
    const s = streamFor(2, 'int');
    const seen = new Set(Array.from({ length: 500 }, () => s.int(7)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
