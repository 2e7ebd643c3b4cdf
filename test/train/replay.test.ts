import { describe, expect, it } from 'vitest';
import { createSnapshotTracker, keptWeights, planTrainings, replayPoints } from '../../runner/train/replay.ts';
import { truncateHistory } from '../../runner/train/result.ts';
import { createStopWatcher, earlyStop, type StopRule } from '../../runner/train/early-stopping.ts';
import { trainPacked } from '../../runner/train/packed/train.ts';
import { moons, trial } from './packed/fixtures.ts';

const rule = (patience: number | null, restoreBest = true, minDelta = 0): StopRule => ({ patience, minDelta, restoreBest });

describe('planTrainings', () => {
  it('groups trials that differ only in patience into one training with one slot per distinct rule', () => {
    const trials = [trial({ patience: null }), trial({ patience: 5 }), trial({ patience: 5, seed: 1 }), trial({ patience: 20 }), trial({ patience: 5, l2: 0.1 })];
    const trainings = planTrainings(trials);
    expect(trainings.map((t) => t.members)).toEqual([[0, 1, 3], [2], [4]]);
    expect(trainings[0].rules.map((r) => r.patience)).toEqual([null, 5, 20]);
    expect(trainings[0].slotOf).toEqual([0, 1, 2]);
  });
});

describe('createSnapshotTracker', () => {
  const curve = [5, 4, 4.5, 3, 3.2, 3.3, 3.4, 2, 2.5, 2.6, 2.7, 2.8, 2.9];

  it('asks for a snapshot exactly at the epochs some rule keeps, and finds the same points as earlyStop', () => {
    const rules = [rule(null), rule(2), rule(4)];
    const tracker = createSnapshotTracker(rules);
    const snapshots = rules.map(() => [] as number[]);
    curve.forEach((v, e) => tracker.observe(v).forEach((slot) => snapshots[slot].push(e + 1)));
    const points = replayPoints(curve, rules);
    expect(points).toEqual(rules.map((r) => earlyStop(curve, r)));
    // patience 2 stops at epoch 6 (best 4): its snapshots end there and the last one is its best.
    expect(points[1]).toEqual({ stoppedEpoch: 6, bestEpoch: 4 });
    expect(snapshots[1]).toEqual([1, 2, 4]);
    expect(points[2]).toEqual({ stoppedEpoch: 12, bestEpoch: 8 });
    expect(snapshots[2].at(-1)).toBe(8);
    expect(snapshots[0]).toEqual([]);
    expect(tracker.done).toBe(false);
  });

  it('snapshots at the stop for a rule that keeps the last weights, and is done once every rule stopped', () => {
    const rules = [rule(2, false), rule(3, false)];
    const tracker = createSnapshotTracker(rules);
    const taken: [number, number][] = [];
    for (const [e, v] of curve.entries()) {
      tracker.observe(v).forEach((slot) => taken.push([slot, e + 1]));
      if (tracker.done) break;
    }
    expect(taken).toEqual([[0, 6], [1, 7]]);
    expect(tracker.epochs).toBe(7);
    expect(replayPoints(curve.slice(0, 7), rules)).toEqual([{ stoppedEpoch: 6, bestEpoch: 6 }, { stoppedEpoch: 7, bestEpoch: 7 }]);
  });

  it('agrees with a live watcher on a NaN, which never improves', () => {
    const series = [1, NaN, NaN, NaN];
    const live = createStopWatcher(rule(2));
    let stop = 0;
    series.forEach((v, e) => { if (!stop && live.observe(v) === 'stop') stop = e + 1; });
    expect(replayPoints(series, [rule(2)])[0]).toEqual(live.point(series.length));
  });
});

describe('truncateHistory and keptWeights', () => {
  it('cuts every series at the stop and takes the final weights only when the stop is the last trained epoch', () => {
    const h = { loss: [1, 2, 3], val_loss: [4, 5, 6], acc: [0, 0, 1], val_acc: [1, 1, 0] };
    expect(truncateHistory(h, 2)).toEqual({ loss: [1, 2], val_loss: [4, 5], acc: [0, 0], val_acc: [1, 1] });
    expect(keptWeights({ stoppedEpoch: 3, bestEpoch: 3 }, 3)).toBe('final');
    expect(keptWeights({ stoppedEpoch: 3, bestEpoch: 1 }, 3)).toBe('snapshot');
  });
});

describe('patience replay in the packed engine', () => {
  const patiences = [null, 2, 4, 8];
  it.each([
    ['with dropout and augmentation', patiences.flatMap((patience) => [0, 0.5].map((dropout) => trial({ patience, dropout, epochs: 40, minDelta: 0.01, augmentation: { jitter: 0.05 } })))],
    // no dropout or augmentation: the pack shares its points and, on wasm, trains on the host (FoldedTraining)
    ['on shared points', patiences.flatMap((patience) => [0, 1e-3].map((l2) => trial({ patience, l2, epochs: 40, minDelta: 0.01 })))],
  ])('gives each patience value exactly the result of the same trial trained with live early stopping, %s', async (_, trials) => {
    const data = moons();
    const replayed = await trainPacked(trials, data, { sweep: 'r' });
    const live = await trainPacked(trials, data, { sweep: 'r' }, { replay: false });
    expect(replayed.some((r) => r.stoppedEpoch < 40)).toBe(true);
    for (const [i, r] of replayed.entries()) {
      expect(r.stoppedEpoch).toBe(live[i].stoppedEpoch);
      expect(r.bestEpoch).toBe(live[i].bestEpoch);
      expect(r.history).toEqual(live[i].history);
      expect(r.final).toEqual(live[i].final);
      expect(r.valProba).toEqual(live[i].valProba);
      expect(r.surface).toEqual(live[i].surface);
    }
  });
});
