/**
 * Which indices of a curve of `length` points to keep so that at most `max` remain: evenly spaced
 * ones plus the `keep` indices (first, last, the minimum, the best epoch), sorted and unique.
 */
export function downsampleIndices(length: number, keep: number[], max = 500): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i);
  const must = [...new Set([0, length - 1, ...keep.filter((i) => i >= 0 && i < length)])];
  const even = max - must.length;
  const picked = new Set(must);
  for (let k = 0; k < even; k++) picked.add(Math.round((k * (length - 1)) / Math.max(1, even - 1)));
  return [...picked].sort((a, b) => a - b);
}

export function argmin(xs: number[]): number {
  let best = -1;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]) && (best < 0 || xs[i] < xs[best])) best = i;
  return best;
}
