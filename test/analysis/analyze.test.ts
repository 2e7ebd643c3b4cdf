import { toNumbers } from '../../runner/records/typed-array.ts';
import { describe as group, expect, it } from 'vitest';
import { summarize } from '../../runner/analysis/summary.ts';
import { biasVarianceDecomp } from '../../runner/analysis/bias-variance.ts';
import type { Trial } from '../../runner/records/config.ts';
import type { TrialResult } from '../../runner/records/result.ts';
import { makeGrid, makeManifest, makeResult, makeTrial, type CellValues } from '../fixtures/summary/make.ts';

/**
 * Two cells × 2 seeds × 2 bootstrap replicates, predictions written by hand: the no-remedy cell
 * memorises each sample differently (confident, and wrong on a different point per replicate),
 * the L2 cell predicts the same moderate probabilities (0.7 for the true class) whatever it saw.
 */
function sweep() {
  const grid = makeGrid({ axes: { l2: [0, 0.01], dropout: [0], augmentation: [null], patience: [null] }, bootstrap: 2, verdict: { bias: 0.5, variance: 0.33, unstable: 0.25 } });
  const base: CellValues = { l2: 0, dropout: 0, augmentation: null, patience: null };
  const l2: CellValues = { ...base, l2: 0.01 };
  const labels = [1, 0, 1, 0, 1, 0, 1, 0];
  const trials: Trial[] = [];
  const results: TrialResult[] = [];
  for (const [cell, values] of [[base, 'base'], [l2, 'l2']] as const) {
    for (const seed of [0, 1]) {
      for (const replicate of [0, 1]) {
        const t = { ...makeTrial(grid, cell, seed), replicate };
        t.trialId = `${t.trialId}-r${replicate}`;
        trials.push(t);
        // p(class 1) per point: base is wrong on point `replicate`, shifted a little by the seed
        const p1 = values === 'base'
          ? labels.map((y, j) => (j === replicate ? 1 - y : y) * (0.98 - 0.02 * seed) + 0.01)
          : labels.map((y) => (y ? 0.7 : 0.3) + 0.01 * seed);
        const valLoss = values === 'base' ? [0.5, 0.3, 0.9] : [0.5, 0.35, 0.34];
        results.push(makeResult(t, { loss: [0.6, 0.2, 0.05], val_loss: valLoss, acc: [0.7, 1, 1], val_acc: [0.5, 0.75, 0.75] }, {
          valProba: p1.map((p) => [1 - p, p]), valLabels: labels,
          surface: { x0: 0, x1: 1, y0: 0, y1: 1, n: 2, values: [p1[0], p1[1], p1[2], p1[3]] },
        }));
      }
    }
  }
  return { summary: summarize(makeManifest(grid, trials), results), results };
}

group('analyze (through summarize)', () => {
  it('decomposes each cell\'s validation predictions over its seeds and bootstrap replicates', () => {
    const { summary, results } = sweep();
    const [base, l2] = summary.cells;
    const baseResults = results.slice(0, 4);
    const classes = baseResults.map((r) => r.valProba.map((p) => p.indexOf(Math.max(...p))));
    const expected = biasVarianceDecomp(classes, [1, 0, 1, 0, 1, 0, 1, 0], '0-1');
    expect(base.biasVariance?.zeroOne?.loss).toBeCloseTo(expected.loss, 12);
    expect(base.biasVariance?.zeroOne?.variance).toBeCloseTo(expected.variance, 12);
    expect(base.biasVariance?.zeroOne?.netVariance).toBeCloseTo(expected.netVariance!, 12);
    // per-point values stay out of summary.json: they would grow it by the validation set per cell
    expect(base.biasVariance?.zeroOne?.perPoint).toBeUndefined();
    expect(base.biasVariance?.mse?.perPoint).toBeUndefined();
    const mse = base.biasVariance!.mse!;
    expect(Math.abs(mse.loss - mse.bias - mse.variance)).toBeLessThan(1e-12);
    expect(mse.variance).toBeGreaterThan(l2.biasVariance!.mse!.variance);
  });

  it('splits the variance into data and seed parts that add up to it', () => {
    const [base] = sweep().summary.cells;
    const bv = base.biasVariance!;
    expect(bv.dataVariance! + bv.seedVariance!).toBeCloseTo(bv.mse!.variance, 12);
    expect(bv.dataVariance!).toBeGreaterThan(bv.seedVariance!); // the replicate decides which point is wrong
  });

  it('reads overfit for the memorising cell and good fit for the L2 cell, with the thresholds', () => {
    const { summary } = sweep();
    const [base, l2] = summary.cells;
    expect(base.verdict?.label).toBe('overfit');
    expect(base.verdict?.reason).toMatch(/variance [\d.]+ is [\d.]+ of loss [\d.]+ > 0.33/);
    expect(l2.verdict?.label).toBe('good fit');
    expect(summary.thresholds).toEqual({ bias: 0.5, variance: 0.33, unstable: 0.25 });
  });

  it('gives the L2 cell a seed-paired effect against the no-remedy cell and none to the baseline', () => {
    const [base, l2] = sweep().summary.cells;
    expect(base.effect).toBeUndefined();
    // final val loss (kept epoch 3): 0.34 − 0.9 in every pair
    expect(l2.effect?.val_loss.mean).toBeCloseTo(-0.56, 12);
    expect(l2.effect?.val_loss.n).toBe(4);
    expect(l2.effect?.best_val_loss.mean).toBeCloseTo(0.04, 12);
  });

  it('adds the variance across replicates of the decision surface', () => {
    const [base, l2] = sweep().summary.cells;
    expect(toNumbers(base.surface!.variance!)).toHaveLength(4);
    expect(Math.max(...toNumbers(base.surface!.variance!))).toBeGreaterThan(0.1);
    expect(Math.max(...toNumbers(l2.surface!.variance!))).toBeLessThan(1e-4);
  });

  it('decomposes three-class predictions by argmax and maps the surface\'s class disagreement', () => {
    const grid = makeGrid({ axes: { l2: [0], dropout: [0], augmentation: [null], patience: [null] }, seeds: [0, 1, 2] });
    const cell: CellValues = { l2: 0, dropout: 0, augmentation: null, patience: null };
    const probas = [
      [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]],
      [[0.2, 0.5, 0.3], [0.1, 0.3, 0.6]],
      [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]],
    ];
    const trials = [0, 1, 2].map((seed) => makeTrial(grid, cell, seed));
    const results = trials.map((t, i) => makeResult(t, { loss: [0.5], val_loss: [0.6], acc: [0.9], val_acc: [0.8] }, {
      valProba: probas[i], valLabels: [0, 2],
      surface: { x0: 0, x1: 1, y0: 0, y1: 1, n: 1, values: [[0, 1, 0][i]] },
    }));
    const [c] = summarize(makeManifest(grid, trials), results).cells;
    // classes per replicate: [0, 2], [1, 2], [0, 1]; main [0, 2]
    expect(c.biasVariance?.zeroOne?.variance).toBeCloseTo(1 / 3, 12);
    expect(c.biasVariance?.zeroOne?.bias).toBe(0);
    expect(c.biasVariance?.zeroOne?.loss).toBeCloseTo(1 / 3, 12);
    // true-class probabilities: point 0 [0.7, 0.2, 0.6], point 1 [0.6, 0.6, 0.1]
    expect(c.biasVariance?.mse?.bias).toBeCloseTo(((1 - 1.5 / 3) ** 2 + (1 - 1.3 / 3) ** 2) / 2, 12);
    expect(toNumbers(c.surface!.variance!)[0]).toBeCloseTo(1 / 3, 5);
  });
});
