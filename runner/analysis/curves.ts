import type { History } from '../records/result.ts';
import type { CurveSeries } from '../records/summary.ts';
import { argmin, downsampleIndices } from './downsample.ts';

/** Most points per curve in summary.json; the full histories stay in the store. */
export const MAX_CURVE_POINTS = 500;

/** Downsamples a history to at most `max` points, keeping first, last, min val_loss and the best epoch. */
export function curves(h: History, bestIndex = -1, max = MAX_CURVE_POINTS): CurveSeries {
  const idx = downsampleIndices(h.val_loss.length, [argmin(h.val_loss), bestIndex], max);
  // Six significant digits: the site draws and prints them, the store keeps the full values.
  const pick = (xs: number[]) => idx.map((i) => significant(xs[i], 6));
  return { epoch: idx.map((i) => i + 1), loss: pick(h.loss), val_loss: pick(h.val_loss), acc: pick(h.acc), val_acc: pick(h.val_acc) };
}

const KEYS = ['loss', 'val_loss', 'acc', 'val_acc'] as const;

/**
 * Epoch-wise mean over the histories added, each epoch over those still running at it
 * (early-stopped trials drop out): running sums, so no history is kept.
 */
export class MeanHistory {
  private readonly sums = KEYS.map(() => [] as number[]);
  private readonly counts = KEYS.map(() => [] as number[]);

  add(h: History): void {
    KEYS.forEach((key, k) => {
      const xs = h[key], sums = this.sums[k], counts = this.counts[k];
      for (let i = 0; i < xs.length; i++) {
        sums[i] = (sums[i] ?? 0) + xs[i];
        counts[i] = (counts[i] ?? 0) + 1;
      }
    });
  }

  mean(): History {
    const at = (k: number) => this.sums[k].map((v, i) => v / this.counts[k][i]);
    return { loss: at(0), val_loss: at(1), acc: at(2), val_acc: at(3) };
  }
}

export function meanHistory(hs: readonly History[]): History {
  const m = new MeanHistory();
  for (const h of hs) m.add(h);
  return m.mean();
}

export const significant = (x: number, digits: number) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);
