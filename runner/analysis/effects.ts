import type { Stat } from '../records/summary.ts';
import { ciOf } from './stats.ts';

/** One finished trial as the effect estimate sees it: its pairing key and its metrics. */
export interface PairedTrial {
  seed: number;
  replicate: number | null;
  metrics: Record<string, number>;
}

const pairKey = (t: PairedTrial) => `${t.seed}/${t.replicate ?? '-'}`;

/**
 * A cell's effect against the no-remedy cell, per metric: the mean of cell − baseline over trials
 * paired by seed and bootstrap replicate, with its 95% Student-t interval. Pairing removes what a
 * seed's initialisation and a replicate's training sample contribute to both cells alike, so
 * the interval is narrower than one from two independent means. Only pairs finite in both
 * cells count; a metric with no such pair is left out.
 */
export function pairedEffect(cell: readonly PairedTrial[], baseline: readonly PairedTrial[], metrics: readonly string[]): Record<string, Stat> {
  const base = new Map(baseline.map((t) => [pairKey(t), t]));
  const effect: Record<string, Stat> = {};
  for (const m of metrics) {
    const diffs: number[] = [];
    for (const t of cell) {
      const b = base.get(pairKey(t));
      const d = b ? t.metrics[m] - b.metrics[m] : NaN;
      if (Number.isFinite(d)) diffs.push(d);
    }
    if (diffs.length) effect[m] = ciOf(diffs);
  }
  return effect;
}
