import type { Stat } from './types.ts';

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const t975 = [
  12.706204736, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135,
  2.262157163, 2.228138852, 2.20098516, 2.17881283, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
  2.109815578, 2.10092204, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.06865761, 2.063898562,
  2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
];

/** The 0.975 quantile of Student's t: exact table to 30 df, then the Cornish–Fisher expansion (error < 1e-5). */
export function tQuantile975(df: number): number {
  if (df <= 30) return t975[df - 1];
  const z = 1.959963984540054;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
    + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3);
}

/**
 * Mean, sample standard deviation and the 95% Student-t interval of the mean. Non-finite values
 * are dropped; with no values every field is NaN (written as null in JSON), with one the interval
 * collapses to the mean.
 */
export function describe(values: number[]): Stat {
  const xs = values.filter(Number.isFinite);
  const n = xs.length;
  if (n === 0) return { n: 0, mean: NaN, sd: NaN, ci: [NaN, NaN] };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, sd: 0, ci: [mean, mean] };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = tQuantile975(n - 1) * sd / Math.sqrt(n);
  return { n, mean, sd, ci: [mean - half, mean + half] };
}
