import { describe, expect, it } from 'vitest';
import { sizeGroup, type GroupWork } from '../../../runner/exec/batch/sizing.ts';

const options = { targetSeconds: 300, cpuVcpus: 4, gpuBytes: 8 * 2 ** 30 };
// 72 runs of 3 patience values each, 4,000 epochs at 1 ms per run-epoch: 4 s a run.
const cpu: GroupWork = { placement: 'cpu', trials: 216, runs: 72, epochs: 4000, secondsPerRunEpoch: 0.001 };

describe('sizeGroup', () => {
  it('puts a small CPU sweep in one child: a child for a few seconds of work is not worth its start', () => {
    const s = sizeGroup(cpu, options);
    expect(s.children).toBe(1);
    expect(s.packSize).toBe(216);
    // 72 runs on 4 threads: 18 rounds of 4 s.
    expect(s.childSeconds).toBeCloseTo(72);
  });

  it('splits CPU work into children of whole rounds that fit the target time', () => {
    const s = sizeGroup({ ...cpu, secondsPerRunEpoch: 0.01 }, options); // 40 s a run: 7 rounds of 4 runs fit 300 s
    expect(s.children).toBe(3); // 72 runs / 28 per child
    expect(s.runsPerChild).toBe(24);
    expect(s.packSize).toBe(72);
    expect(s.childSeconds).toBeCloseTo(6 * 40);
    expect(s.childSeconds).toBeLessThanOrEqual(300);
  });

  it('gives a CPU child one round when a single run outlasts the target', () => {
    const s = sizeGroup({ ...cpu, secondsPerRunEpoch: 1 }, options); // 4,000 s a run
    expect(s.runsPerChild).toBe(4);
    expect(s.children).toBe(18);
    expect(s.childSeconds).toBeCloseTo(4000);
  });

  it('makes more, shorter children as the target shrinks, never more children than runs', () => {
    const counts = [3000, 300, 30, 3].map((targetSeconds) => sizeGroup({ ...cpu, secondsPerRunEpoch: 0.01 }, { ...options, targetSeconds }).children);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[0]).toBe(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(72 / 4);
  });

  it('bounds a batched GPU child by device memory', () => {
    const gpu: GroupWork = { placement: 'gpu', trials: 300, runs: 300, epochs: 100, secondsPerRunEpoch: 0.0001, deviceBytesPerRun: 2 ** 30 };
    const s = sizeGroup(gpu, options);
    expect(s.runsPerChild).toBeLessThanOrEqual(8);
    expect(s.children).toBe(38); // 300 runs, at most 8 per child
  });

  it('bounds a GPU child that trains runs one at a time by the target time alone', () => {
    const s = sizeGroup({ placement: 'gpu', trials: 48, runs: 24, epochs: 60, secondsPerRunEpoch: 0.05 }, options); // 3 s a run
    expect(s.children).toBe(1);
    expect(s.packSize).toBe(48);
    expect(s.childSeconds).toBeCloseTo(72);
  });

  it('refuses a target time of zero', () => {
    expect(() => sizeGroup(cpu, { ...options, targetSeconds: 0 })).toThrow('Expected `targetSeconds` to be a number above 0, got 0');
  });
});
