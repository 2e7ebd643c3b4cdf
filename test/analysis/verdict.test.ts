import { describe as group, expect, it } from 'vitest';
import { verdict, type VerdictContext, type VerdictInput } from '../../runner/analysis/verdict.ts';

const ctx: VerdictContext = { thresholds: { bias: 0.5, variance: 0.33, unstable: 0.25 }, bestBias: 0.08, chanceBias: 0.25 };
/** A cell like seed-article's L2 model with bootstrap 10: low bias, variance 0.29 of the loss. */
const base: VerdictInput = {
  ok: 50, failed: 0, diverged: 0, replicates: 50, bootstrap: true,
  bias: 0.0835, variance: 0.0343, loss: 0.1178,
  trainAcc: 1, trainLoss: 0.02, valLoss: 0.555, valLossRise: 0.216, seedCv: 0.05,
};

group('verdict', () => {
  it('reads good fit for low bias and a variance share under the threshold, and says the numbers', () => {
    const v = verdict(base, ctx);
    expect(v.label).toBe('good fit');
    expect(v.reason).toBe('train acc 1, val loss 0.555 rose 0.216 above its minimum; bias 0.0835 ≤ 0.12, variance 0.0343 is 0.291 of loss 0.118 ≤ 0.33');
  });

  it('reads overfit when variance is more than the threshold\'s share of the loss', () => {
    const v = verdict({ ...base, bias: 0.0782, variance: 0.0494, loss: 0.1276, valLoss: 1.08, valLossRise: 0.732 }, ctx);
    expect(v.label).toBe('overfit');
    expect(v.reason).toContain('variance 0.0494 is 0.387 of loss 0.128 > 0.33');
  });

  it('reads underfit when bias exceeds the best cell\'s by more than the bias fraction and the training data are missed too', () => {
    const v = verdict({ ...base, bias: 0.13, variance: 0.001, loss: 0.131, trainLoss: 0.4 }, ctx);
    expect(v.label).toBe('underfit');
    expect(v.reason).toContain('bias 0.13 > 0.12 = (1 + 0.5) × best cell\'s 0.08, and train loss 0.4 ≥ 0.5 × val loss');
  });

  it('reads overfit, not underfit, when bias is high but the model fits its training data', () => {
    // Like digits-augment's no-remedy CNN: train acc 1, train loss 0.002, val loss 0.157.
    const v = verdict({ ...base, bias: 0.13, variance: 0.001, loss: 0.131, trainLoss: 0.002, valLoss: 0.157 }, ctx);
    expect(v.label).toBe('overfit');
    expect(v.reason).toContain('yet train loss 0.002 < 0.5 × val loss');
  });

  it('reads underfit against chance level when the whole grid is biased', () => {
    const v = verdict({ ...base, bias: 0.2, variance: 0.001, loss: 0.201, trainLoss: 0.5 }, { ...ctx, bestBias: 0.19 });
    expect(v.label).toBe('underfit');
    expect(v.reason).toContain('bias 0.2 > 0.125 = 0.5 × chance 0.25');
  });

  it('measures bias against the noise floor when it is known and above the best cell', () => {
    const v = verdict({ ...base, bias: 0.11 }, { ...ctx, noiseFloor: 0.1 });
    expect(v.label).toBe('good fit');
    expect(verdict({ ...base, bias: 0.16 }, { ...ctx, noiseFloor: 0.1 }).reason).toContain('× noise floor 0.1');
  });

  it('reads unstable before anything else when seeds disagree widely', () => {
    const v = verdict({ ...base, seedCv: 0.4, bias: 0.3 }, ctx);
    expect(v.label).toBe('unstable');
    expect(v.reason).toContain('val loss CV 0.4 > 0.25');
  });

  it('reads failed when no trial finished', () => {
    expect(verdict({ ...base, ok: 0, failed: 2, diverged: 1 }, ctx)).toEqual({ label: 'failed', reason: 'no finished trial (2 failed, 1 diverged)' });
  });

  it('uses the rise of val loss above its minimum when seeds alone are the replicates', () => {
    // seeds of a full-batch net agree almost exactly, so measured variance is near zero
    const seedsOnly = { ...base, bootstrap: false, replicates: 5, variance: 1e-5, loss: 0.0693, bias: 0.0692, valLoss: 0.492, valLossRise: 0.264 };
    const v = verdict(seedsOnly, ctx);
    expect(v.label).toBe('overfit');
    expect(v.reason).toContain('no bootstrap, so the curve: val loss rise 0.264 is 0.537 of val loss > 0.33');
    expect(verdict({ ...seedsOnly, valLossRise: 0.0002 }, ctx).label).toBe('good fit');
  });

  it('falls back on the val loss curve with a single replicate', () => {
    const v = verdict({ ...base, bootstrap: false, replicates: 1, variance: 0, loss: 0.09, bias: 0.09, valLoss: 0.5, valLossRise: 0.25 }, ctx);
    expect(v.label).toBe('overfit');
    expect(v.reason).toContain('one replicate, so the curve: val loss rise 0.25 is 0.5 of val loss > 0.33');
  });
});
