import { describe, expect, test } from 'vitest';
import { createStopWatcher, earlyStop } from '../../runner/train/early-stopping.ts';

const rule = (patience: number | null, minDelta = 0, restoreBest = true) => ({ patience, minDelta, restoreBest });

describe('earlyStop', () => {
  test('stops after `patience` epochs without improvement and keeps the best epoch', () => {
    expect(earlyStop([1, 0.8, 0.7, 0.75, 0.72, 0.71, 0.6], rule(3))).toEqual({ stoppedEpoch: 6, bestEpoch: 3 });
  });

  test('never stops with patience null and keeps the last epoch', () => {
    expect(earlyStop([1, 0.5, 0.9, 0.9], rule(null))).toEqual({ stoppedEpoch: 4, bestEpoch: 4 });
  });

  test('counts an improvement only when it exceeds minDelta', () => {
    // 0.95 and 0.92 improve on 1 by less than 0.1: no improvement, so it stops at epoch 3.
    expect(earlyStop([1, 0.95, 0.92, 0.5], rule(2, 0.1))).toEqual({ stoppedEpoch: 3, bestEpoch: 1 });
    expect(earlyStop([1, 0.95, 0.92, 0.5], rule(2, 0))).toEqual({ stoppedEpoch: 4, bestEpoch: 4 });
  });

  test('keeps the stopping epoch when restoreBest is off', () => {
    expect(earlyStop([1, 0.8, 0.9, 0.95], rule(2, 0, false))).toEqual({ stoppedEpoch: 4, bestEpoch: 4 });
  });

  test('keeps the best epoch also when the budget ends before patience runs out', () => {
    expect(earlyStop([1, 0.5, 0.7, 0.8], rule(10))).toEqual({ stoppedEpoch: 4, bestEpoch: 2 });
  });

  test('never counts a NaN as an improvement', () => {
    expect(earlyStop([1, NaN, NaN, 0.9], rule(2))).toEqual({ stoppedEpoch: 3, bestEpoch: 1 });
  });
});

describe('createStopWatcher', () => {
  test('reports improved, waiting and stop epoch by epoch as earlyStop replays them', () => {
    const w = createStopWatcher(rule(2));
    expect([1, 0.9, 0.95, 0.91].map((v) => w.observe(v))).toEqual(['improved', 'improved', 'waiting', 'stop']);
    expect(w.point(10)).toEqual({ stoppedEpoch: 4, bestEpoch: 2 });
  });
});
