import type { Stat } from './summary.ts';

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** Significant digits without exponent notation for numbers a reader meets here (epochs, losses). */
export const num = (x: number | null | undefined, digits = 3) =>
  !finite(x) ? '—' : Math.abs(x) >= 10 ** digits ? String(Math.round(x)) : Math.abs(x) >= 1e-3 || x === 0 ? String(Number(x.toPrecision(digits))) : x.toPrecision(digits);
export const pct = (x: number | null | undefined) => (finite(x) ? `${(100 * x).toFixed(1)}%` : '—');
export const int = (x: number | null | undefined) => (finite(x) ? String(Math.round(x)) : '—');

/** "0.512 ± 0.031" with the 95% interval's half-width, or the mean alone for one seed. */
export function withCi(s: Stat, f: (x: number) => string = (x) => num(x), fHalf: (x: number) => string = f === pct ? pct : (x) => num(x, 2)): string {
  if (!finite(s.mean)) return '—';
  const half = finite(s.ci?.[1]) ? s.ci[1] - s.mean : 0;
  const halfText = f === int ? int(half) : fHalf(half);
  return s.n > 1 && half > 0 ? `${f(s.mean)} ± ${halfText}` : f(s.mean);
}

export const ciTitle = (s: Stat) =>
  finite(s.mean) ? `mean ${s.mean.toPrecision(4)}, sd ${num(s.sd, 3)}, 95% CI [${num(s.ci[0], 4)}, ${num(s.ci[1], 4)}] over ${s.n} seed(s)` : 'no finished trials';

export function seconds(s: number): string {
  if (!finite(s)) return '—';
  if (s < 90) return `${s.toFixed(1)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
