import { describe, expect, it } from 'vitest';
import { Progress } from '../../runner/exec/local.ts';

describe('the progress bar of `fitgrid run`', () => {
  it('counts the trials of a pack trained together by their epoch', () => {
    const p = new Progress(10, 0);
    p.apply({ event: 'start', pack: 0, trials: 10, todo: 10, skipped: 0 });
    p.apply({ event: 'progress', pack: 0, epoch: 150, epochs: 300, trialsDone: 0, trials: 10 });
    expect(p.value).toBe(5);
  });

  it('counts only the finished trials of an engine that reports trials done (its ETA follows the trials, not their epochs)', () => {
    const p = new Progress(12, 2);
    p.apply({ event: 'start', pack: 0, trials: 10, todo: 10, skipped: 0 });
    // a fused training of two trials ends: all its epochs, but 8 trials not started
    p.apply({ event: 'progress', pack: 0, epoch: 300, epochs: 300, trialsDone: 2, trials: 10 });
    for (const trialId of ['a', 'b']) p.apply({ event: 'trial', pack: 0, trialId, status: 'ok', seconds: 1 });
    expect(p.value).toBe(2 + 2); // skipped and finished; before, 8 × 0.999 more
  });

  it('counts the epoch of an engine that trains one training at a time for that training\'s trials only', () => {
    const p = new Progress(10, 0);
    p.apply({ event: 'start', pack: 0, trials: 10, todo: 10, skipped: 0 });
    // layers, halfway through its first training (2 trials sharing it), 8 trials waiting
    p.apply({ event: 'progress', pack: 0, epoch: 150, epochs: 300, trialsDone: 0, trials: 10, training: 2 });
    expect(p.value).toBe(1); // before, 10 × 0.5: the ETA read as if half the pack were done
    for (const trialId of ['a', 'b']) p.apply({ event: 'trial', pack: 0, trialId, status: 'ok', seconds: 1 });
    expect(p.value).toBe(2);
    p.apply({ event: 'progress', pack: 0, epoch: 30, epochs: 300, trialsDone: 2, trials: 10, training: 1 });
    expect(p.value).toBeCloseTo(2.1, 10);
  });
});
