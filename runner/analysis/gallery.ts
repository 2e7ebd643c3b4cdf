/**
 * The per-cell gallery: the validation images a cell gets most confidently wrong. Each image's
 * class probabilities are averaged over the cell's trials (its seeds); an image is wrong when the
 * averaged prediction is not its label, and its confidence is the averaged probability of the
 * class predicted. One cell's results at a time, at most `limit` images each, so memory grows
 * with cells, not trials; the pixels travel once per image for all cells (ImagesSummary.gallery).
 */
import type { Dataset } from '../data/types.ts';
import type { TrialResult } from '../records/result.ts';
import type { CellSummary, Mistake } from '../records/summary.ts';

/** Images per cell: enough to see a pattern, few enough for a thousand cells. */
const GALLERY_SIZE = 12;

export function confidentMistakes(results: readonly Pick<TrialResult, 'valProba' | 'valLabels'>[], limit = GALLERY_SIZE): Mistake[] {
  const sums = new MistakeSums();
  for (const r of results) sums.add(r);
  return sums.mistakes(limit);
}

/**
 * The trials' validation probabilities summed per image and class as they are added, so a cell's
 * gallery needs images × classes numbers however many trials it has. The first trial with
 * probabilities sets the labels and the class count; a trial of another shape is left out.
 */
export class MistakeSums {
  private sums?: Float64Array;
  private labels: number[] = [];
  private classes = 0;
  private trials = 0;

  add(r: Pick<TrialResult, 'valProba' | 'valLabels'>): void {
    if (!r.valProba?.length) return;
    if (!this.sums) {
      this.labels = r.valLabels;
      this.classes = r.valProba[0].length;
      this.sums = new Float64Array(this.labels.length * this.classes);
    }
    if (r.valProba.length !== this.labels.length || r.valProba.some((p) => p.length !== this.classes)) return;
    const { sums, classes } = this;
    r.valProba.forEach((p, i) => { for (let c = 0; c < classes; c++) sums[i * classes + c] += p[c]; });
    this.trials++;
  }

  mistakes(limit = GALLERY_SIZE): Mistake[] {
    const { sums, classes } = this;
    if (!sums) return [];
    const mistakes: Mistake[] = [];
    this.labels.forEach((label, index) => {
      let predicted = 0;
      let best = -1;
      for (let c = 0; c < classes; c++) {
        const p = sums[index * classes + c];
        if (p > best) [best, predicted] = [p, c];
      }
      if (predicted !== label) mistakes.push({ index, label, predicted, confidence: Math.round((best / this.trials) * 1000) / 1000 });
    });
    // most confident first; ties by validation order, so the gallery is the same on every rebuild
    return mistakes.sort((a, b) => b.confidence - a.confidence || a.index - b.index).slice(0, limit);
  }
}

/** The pixels of every validation image some cell's gallery shows: index → base64 of bytes 0–255 (row-major h × w × c). */
export function galleryPixels(cells: readonly Pick<CellSummary, 'mistakes'>[], data: Pick<Dataset, 'val'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const cell of cells) {
    for (const { index } of cell.mistakes ?? []) {
      const pixels = data.val.x[index];
      if (pixels && !(index in out)) out[index] = Buffer.from(pixels.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255))).toString('base64');
    }
  }
  return out;
}
