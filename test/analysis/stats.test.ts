import { describe as group, expect, it } from 'vitest';
import { ciOf, coefficientOfVariation, mean, sd, tQuantile } from '../../runner/analysis/stats.ts';

group('tQuantile', () => {
  it('gives the textbook 97.5% quantiles for 1, 2 and 4 degrees of freedom', () => {
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.706, 3);
    expect(tQuantile(0.975, 2)).toBeCloseTo(4.303, 3);
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.776, 3);
  });

  it('approaches the normal quantile 1.95996 for many degrees of freedom and takes non-integer df', () => {
    expect(tQuantile(0.975, 1e6)).toBeCloseTo(1.959966, 5);
    const q = tQuantile(0.975, 2.5);
    expect(q).toBeLessThan(4.303);
    expect(q).toBeGreaterThan(3.182);
  });
});

group('mean and sd', () => {
  it('computes the sample standard deviation with divisor n − 1', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(sd([1, 2, 3, 6])).toBeCloseTo(Math.sqrt(14 / 3), 12);
    expect(sd([7])).toBe(0);
    expect(sd([])).toBeNaN();
  });
});

group('ciOf', () => {
  it('gives mean ± 12.706 · sd / √2 for two values', () => {
    // [0.5, 0.7]: mean 0.6, sd 0.141421356, half-width 12.7062047 · 0.1 = 1.27062047
    const s = ciOf([0.5, 0.7]);
    expect(s.n).toBe(2);
    expect(s.mean).toBeCloseTo(0.6, 12);
    expect(s.sd).toBeCloseTo(0.1414213562373095, 12);
    expect(s.ci[0]).toBeCloseTo(0.6 - 1.27062047, 6);
    expect(s.ci[1]).toBeCloseTo(0.6 + 1.27062047, 6);
  });

  it('gives mean ± 4.303 · sd / √3 for three values', () => {
    // [1, 2, 4]: mean 7/3, sd √(7/3) = 1.527525, half-width 4.302653 · 1.527525 / 1.732051 = 3.794583
    const s = ciOf([1, 2, 4]);
    expect(s.mean).toBeCloseTo(7 / 3, 12);
    expect(s.sd).toBeCloseTo(1.5275252316519468, 12);
    expect(s.ci[1] - s.mean).toBeCloseTo(3.794583, 5);
    expect(s.mean - s.ci[0]).toBeCloseTo(3.794583, 5);
  });

  it('gives mean ± 2.776 · sd / √5 for five values', () => {
    // [0.8, 0.85, 0.9, 0.82, 0.88]: mean 0.85, sd 0.0412311, half-width 2.776445 · 0.0412311 / 2.236068 = 0.0511951
    const s = ciOf([0.8, 0.85, 0.9, 0.82, 0.88]);
    expect(s.mean).toBeCloseTo(0.85, 12);
    expect(s.sd).toBeCloseTo(0.041231056256176604, 12);
    expect(s.ci[1] - s.mean).toBeCloseTo(0.0511951, 6);
  });

  it('drops non-finite values and collapses the interval for one value', () => {
    expect(ciOf([3, NaN, Infinity])).toEqual({ n: 1, mean: 3, sd: 0, ci: [3, 3] });
    const none = ciOf([]);
    expect(none.n).toBe(0);
    expect(none.mean).toBeNaN();
  });
});

group('coefficientOfVariation', () => {
  it('is the sample sd over the absolute mean, NaN for one value', () => {
    expect(coefficientOfVariation([1, 3])).toBeCloseTo(Math.SQRT2 / 2, 12);
    expect(coefficientOfVariation([2])).toBeNaN();
  });
});
