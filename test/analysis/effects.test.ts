import { describe as group, expect, it } from 'vitest';
import { pairedEffect, type PairedTrial } from '../../runner/analysis/effects.ts';

const trial = (seed: number, replicate: number | null, val_loss: number): PairedTrial => ({ seed, replicate, metrics: { val_loss } });

group('pairedEffect', () => {
  it('takes the CI from seed-paired differences, not from the two cells\' spreads', () => {
    // seeds shift both cells alike: differences are -0.1, -0.2, -0.3 (mean -0.2, sd 0.1)
    const baseline = [trial(0, null, 1.0), trial(1, null, 2.0), trial(2, null, 3.0)];
    const cell = [trial(2, null, 2.7), trial(0, null, 0.9), trial(1, null, 1.8)];
    const e = pairedEffect(cell, baseline, ['val_loss']).val_loss;
    expect(e.n).toBe(3);
    expect(e.mean).toBeCloseTo(-0.2, 12);
    expect(e.sd).toBeCloseTo(0.1, 12);
    // half-width t(0.975, 2) · 0.1 / √3 = 4.302653 · 0.0577350 = 0.248414
    expect(e.ci[0]).toBeCloseTo(-0.2 - 0.248414, 5);
    expect(e.ci[1]).toBeCloseTo(-0.2 + 0.248414, 5);
  });

  it('pairs by seed and bootstrap replicate and skips trials without a partner or a finite value', () => {
    const baseline = [trial(0, 0, 1), trial(0, 1, 2), trial(1, 0, NaN)];
    const cell = [trial(0, 1, 1.5), trial(0, 0, 0.5), trial(1, 0, 0.2), trial(5, 0, 0.1)];
    const e = pairedEffect(cell, baseline, ['val_loss']).val_loss;
    expect(e.n).toBe(2);
    expect(e.mean).toBeCloseTo(-0.5, 12);
    expect(e.sd).toBe(0);
  });

  it('leaves out a metric with no pair at all', () => {
    expect(pairedEffect([trial(3, null, 1)], [trial(4, null, 1)], ['val_loss'])).toEqual({});
  });
});
