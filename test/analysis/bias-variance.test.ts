import { describe as group, expect, it } from 'vitest';
import { biasVarianceDecomp, pointVariance, varianceSplit } from '../../runner/analysis/bias-variance.ts';

/**
 * mlxtend's bias_variance_decomp arithmetic (mlxtend/evaluate/bias_variance_decomp.py),
 * transliterated line by line from its numpy so the implementation is held against the source.
 */
function mlxtend(allPred: number[][], yTest: number[], loss: '0-1' | 'mse') {
  const rounds = allPred.length;
  const cols = yTest.map((_, j) => allPred.map((row) => row[j]));
  if (loss === '0-1') {
    // np.argmax(np.bincount(x)): the first (lowest) label among the most frequent
    const main = cols.map((x) => {
      const bincount = new Array<number>(Math.max(...x) + 1).fill(0);
      for (const v of x) bincount[v]++;
      return bincount.indexOf(Math.max(...bincount));
    });
    const perRound = allPred.map((row) => row.filter((p, j) => p !== yTest[j]).length / yTest.length);
    const avgExpectedLoss = perRound.reduce((a, b) => a + b, 0) / rounds;
    const avgBias = main.filter((m, j) => m !== yTest[j]).length / yTest.length;
    const v = new Array<number>(yTest.length).fill(0);
    for (const row of allPred) row.forEach((p, j) => { v[j] += p !== main[j] ? 1 : 0; });
    const avgVar = v.map((x) => x / rounds).reduce((a, b) => a + b, 0) / yTest.length;
    return { loss: avgExpectedLoss, bias: avgBias, variance: avgVar };
  }
  const perRound = allPred.map((row) => row.reduce((a, p, j) => a + (p - yTest[j]) ** 2, 0) / yTest.length);
  const main = cols.map((x) => x.reduce((a, b) => a + b, 0) / rounds);
  const avgBias = main.reduce((a, m, j) => a + (m - yTest[j]) ** 2, 0) / yTest.length;
  const avgVar = allPred.reduce((a, row) => a + row.reduce((b, p, j) => b + (main[j] - p) ** 2, 0), 0) / (rounds * yTest.length);
  return { loss: perRound.reduce((a, b) => a + b, 0) / rounds, bias: avgBias, variance: avgVar };
}

/** A small deterministic generator (LCG) so the random matrices are the same on every run. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const randomLabels = (rounds: number, points: number, classes: number, seed: number) => {
  const r = lcg(seed);
  return {
    preds: Array.from({ length: rounds }, () => Array.from({ length: points }, () => Math.floor(r() * classes))),
    labels: Array.from({ length: points }, () => Math.floor(r() * classes)),
  };
};

group('biasVarianceDecomp with 0-1 loss', () => {
  it('breaks a tie in the main prediction towards the lowest label, as numpy argmax of bincount does', () => {
    const preds = [[0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 1]];
    const d = biasVarianceDecomp(preds, [1, 1, 1], '0-1');
    // points 0 and 1 tie 2–2, main 0 ≠ y: biased; point 2: main 1 = y
    expect(d.perPoint.bias).toEqual([1, 1, 0]);
    expect(d.perPoint.variance).toEqual([0.5, 0.5, 0.25]);
    expect(d.perPoint.loss).toEqual([0.5, 0.5, 0.25]);
    expect(d.loss).toBeCloseTo(1.25 / 3, 12);
    expect(d.bias).toBeCloseTo(2 / 3, 12);
    expect(d.variance).toBeCloseTo(1.25 / 3, 12);
    expect(d.netVariance).toBeCloseTo((0.25 - 0.5 - 0.5) / 3, 12);
    const ref = mlxtend(preds, [1, 1, 1], '0-1');
    expect(Math.abs(d.loss - ref.loss)).toBeLessThan(1e-12);
    expect(Math.abs(d.bias - ref.bias)).toBeLessThan(1e-12);
    expect(Math.abs(d.variance - ref.variance)).toBeLessThan(1e-12);
  });

  it('breaks a three-way class tie towards the lowest of the tied labels', () => {
    const d = biasVarianceDecomp([[2], [1], [2], [1], [0]], [2], '0-1');
    expect(d.perPoint.bias).toEqual([1]); // main 1, not 2
    expect(d.perPoint.variance[0]).toBeCloseTo(3 / 5, 12);
  });

  it('counts a point every replicate gets wrong as all bias and no variance', () => {
    const d = biasVarianceDecomp([[0, 1], [0, 1], [0, 0]], [1, 1], '0-1');
    expect(d.perPoint.loss[0]).toBe(1);
    expect(d.perPoint.bias[0]).toBe(1);
    expect(d.perPoint.variance[0]).toBe(0);
    expect(d.loss).toBeCloseTo((1 + 1 / 3) / 2, 12);
  });

  it('gives zero variance and loss equal to bias with a single replicate', () => {
    const d = biasVarianceDecomp([[1, 0, 2, 2]], [1, 1, 2, 0], '0-1');
    expect(d.variance).toBe(0);
    expect(d.netVariance).toBe(0);
    expect(d.loss).toBe(0.5);
    expect(d.bias).toBe(0.5);
  });

  it('equals mlxtend\'s formulas on random matrices to 1e-12', () => {
    for (const [rounds, points, classes, seed] of [[200, 50, 2, 1], [7, 31, 3, 2], [1, 10, 2, 3], [10, 70, 10, 4]]) {
      const { preds, labels } = randomLabels(rounds, points, classes, seed);
      const d = biasVarianceDecomp(preds, labels, '0-1');
      const ref = mlxtend(preds, labels, '0-1');
      expect(Math.abs(d.loss - ref.loss)).toBeLessThan(1e-12);
      expect(Math.abs(d.bias - ref.bias)).toBeLessThan(1e-12);
      expect(Math.abs(d.variance - ref.variance)).toBeLessThan(1e-12);
    }
  });

  it('satisfies loss = bias + net variance for two classes, point by point and on average', () => {
    const { preds, labels } = randomLabels(9, 40, 2, 5);
    const d = biasVarianceDecomp(preds, labels, '0-1');
    d.perPoint.loss.forEach((l, j) => expect(Math.abs(l - (d.perPoint.bias[j] + (d.perPoint.bias[j] ? -1 : 1) * d.perPoint.variance[j]))).toBeLessThan(1e-12));
    expect(Math.abs(d.loss - (d.bias + d.netVariance!))).toBeLessThan(1e-12);
    expect(d.netVariance).toBeLessThan(d.variance); // some biased points subtract
  });

  it('rejects a ragged prediction matrix and an empty one', () => {
    expect(() => biasVarianceDecomp([[0, 1], [0]], [0, 1], '0-1')).toThrow(/replicate 1 has 1 predictions for 2 points/);
    expect(() => biasVarianceDecomp([], [0], 'mse')).toThrow(/no replicates/);
  });
});

group('biasVarianceDecomp with squared loss', () => {
  it('takes the mean as main prediction: hand-computed bias² and variance', () => {
    const d = biasVarianceDecomp([[0.2, 0.9], [0.4, 0.7], [0.6, 0.8]], [0, 1], 'mse');
    // point 0: main 0.4, bias² 0.16, variance 0.08/3; point 1: main 0.8, bias² 0.04, variance 0.02/3
    expect(d.perPoint.bias[0]).toBeCloseTo(0.16, 12);
    expect(d.perPoint.variance[0]).toBeCloseTo(0.08 / 3, 12);
    expect(d.perPoint.loss[1]).toBeCloseTo(0.14 / 3, 12);
    expect(d.bias).toBeCloseTo(0.1, 12);
    expect(d.variance).toBeCloseTo(0.05 / 3, 12);
    expect(d.loss).toBeCloseTo(0.35 / 3, 12);
    expect(d.netVariance).toBeUndefined();
  });

  it('satisfies loss = bias² + variance to 1e-12 and equals mlxtend\'s formulas', () => {
    const r = lcg(9);
    const preds = Array.from({ length: 13 }, () => Array.from({ length: 25 }, () => r()));
    const labels = Array.from({ length: 25 }, () => (r() < 0.5 ? 0 : 1));
    const d = biasVarianceDecomp(preds, labels, 'mse');
    expect(Math.abs(d.loss - (d.bias + d.variance))).toBeLessThan(1e-12);
    const ref = mlxtend(preds, labels, 'mse');
    expect(Math.abs(d.loss - ref.loss)).toBeLessThan(1e-12);
    expect(Math.abs(d.bias - ref.bias)).toBeLessThan(1e-12);
    expect(Math.abs(d.variance - ref.variance)).toBeLessThan(1e-12);
  });

  it('gives the same numbers on p(true class) against 1 as on p(class 1) against the binary label', () => {
    const p1 = [[0.9, 0.2, 0.6], [0.7, 0.4, 0.3]];
    const labels = [1, 0, 1];
    const trueClass = p1.map((row) => row.map((p, j) => (labels[j] === 1 ? p : 1 - p)));
    const a = biasVarianceDecomp(p1, labels, 'mse');
    const b = biasVarianceDecomp(trueClass, [1, 1, 1], 'mse');
    for (const k of ['loss', 'bias', 'variance'] as const) expect(Math.abs(a[k] - b[k])).toBeLessThan(1e-12);
  });
});

group('varianceSplit', () => {
  it('splits a hand-made column into the variance of sample means and the mean within-sample variance', () => {
    // samples 0: [0.1, 0.3] (mean 0.2), 1: [0.6, 0.8] (mean 0.7); overall 0.45
    const s = varianceSplit([[0.1], [0.3], [0.6], [0.8]], [0, 0, 1, 1]);
    expect(s.data).toBeCloseTo(0.0625, 12);
    expect(s.seed).toBeCloseTo(0.01, 12);
  });

  it('adds up to the squared-loss variance exactly, with unequal group sizes', () => {
    const r = lcg(11);
    const preds = Array.from({ length: 11 }, () => Array.from({ length: 8 }, () => r()));
    const groups = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4];
    const s = varianceSplit(preds, groups);
    const d = biasVarianceDecomp(preds, new Array(8).fill(1), 'mse');
    expect(Math.abs(s.data + s.seed - d.variance)).toBeLessThan(1e-12);
    expect(s.data).toBeGreaterThan(0);
    expect(s.seed).toBeGreaterThan(0);
  });

  it('puts everything in data variance with one replicate per sample and in seed variance with one sample', () => {
    const preds = [[0.1, 0.5], [0.4, 0.9], [0.2, 0.2]];
    expect(varianceSplit(preds, [0, 1, 2]).seed).toBe(0);
    expect(varianceSplit(preds, [7, 7, 7]).data).toBeCloseTo(0, 15);
  });
});

group('pointVariance', () => {
  it('gives the population variance of probabilities and the off-mode fraction of classes', () => {
    const v = pointVariance([[0.2, 1], [0.6, 1]], 'mse');
    expect(v[0]).toBeCloseTo(0.04, 12);
    expect(v[1]).toBe(0);
    expect(pointVariance([[2, 0], [1, 0], [2, 1]], '0-1')).toEqual([1 / 3, 1 / 3]);
  });
});
