import studentQuantile from '@stdlib/stats-base-dists-t-quantile';
import type { Stat } from '../records/summary.ts';

/** Arithmetic mean; NaN for no values. */
export function mean(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (divisor n − 1); 0 for one value, NaN for none. */
export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return xs.length ? 0 : NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom (df > 0, not necessarily an
 * integer): stdlib inverts the regularised incomplete beta, so no table and no df cap.
 */
export function tQuantile(p: number, df: number): number {
  return studentQuantile(p, df);
}

/**
 * Mean, sample sd and the two-sided `level` Student-t interval of the mean. Non-finite values are
 * dropped (a diverged seed has no loss to average); with one value the interval is [mean, mean],
 * with none every field is NaN (null in JSON).
 */
export function ciOf(values: readonly number[], level = 0.95): Stat {
  const xs = values.filter(Number.isFinite);
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { n, mean: m, sd: n ? 0 : NaN, ci: [m, m] };
  const s = sd(xs);
  const half = (tQuantile(1 - (1 - level) / 2, n - 1) * s) / Math.sqrt(n);
  return { n, mean: m, sd: s, ci: [m - half, m + half] };
}

/** Coefficient of variation (sd / |mean|); NaN with fewer than two finite values or a zero mean. */
export function coefficientOfVariation(values: readonly number[]): number {
  const xs = values.filter(Number.isFinite);
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return m === 0 ? NaN : sd(xs) / Math.abs(m);
}
