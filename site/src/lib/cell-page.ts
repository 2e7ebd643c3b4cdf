import { isImageData, pointsOf, trialAnchor } from './summary.ts';
import type { CellSummary, Stat, SweepSummary } from './summary.ts';
import { createHash } from 'node:crypto';
import { boundaryDots, boundaryLight } from '../charts/boundary.ts';
import { confusion, image } from '../charts/confusion.ts';
import { cellCurvesLight, curveKey, drawnSeedsNote } from '../charts/curves.ts';
import { gallery } from '../charts/gallery.ts';
import { esc } from '../charts/svg.ts';
import { ciTitle, int, num, pct, seconds, withCi } from './format.ts';

/**
 * The page of one cell (its numbers, seeds' curves, boundary or confusion matrix, images and
 * trials) as HTML text: a sweep has thousands of these, so they are written by plain string
 * templates into the layout of an Astro-built shell (pages/cells/shell.astro), not one Astro
 * route each. Every URL is relative to cells/.
 */
const BOUNDARY_WIDTH = 420;

/**
 * The sweep's points as drawn over a cell's boundary, an SVG file beside the cell pages that
 * every cell with the same surface extent shares (cells with points of their own, bootstrap
 * resamples, draw them inline). `file` is named for the extent, relative to cells/.
 */
export function pointsLayer(s: SweepSummary, cell: CellSummary): { file: string; svg: () => string } | undefined {
  const surface = cell.surface;
  if (!surface || cell.points || !s.points) return undefined;
  const key = createHash('sha256').update(JSON.stringify([surface.x0, surface.x1, surface.y0, surface.y1, surface.n, BOUNDARY_WIDTH])).digest('hex').slice(0, 12);
  return { file: `points-${key}.svg`, svg: () => boundaryDots(surface, s.points, BOUNDARY_WIDTH) };
}

export function cellPageBody(s: SweepSummary, index: number): string {
  const cell = s.cells[index];
  const prev = s.cells[index - 1], next = s.cells[index + 1];
  const c = cell.counts;
  const parts: string[] = [];
  parts.push(`<p class="muted cell-nav">Cell ${index + 1} of ${s.cells.length}`
    + (prev ? ` · <a rel="prev" href="${prev.cellId}.html">← previous cell</a>` : '')
    + (next ? ` · <a rel="next" href="${next.cellId}.html">next cell →</a>` : '')
    + ` · <a href="../index.html">all cells (leaderboard)</a></p>`);
  parts.push(facts(cell));
  parts.push(numbers(cell));
  parts.push('<h2>Learning curves</h2>');
  const seedsNote = drawnSeedsNote(cell);
  parts.push(c.ok
    ? `${curveKey()}<div class="grid cell-charts">${(['loss', 'acc'] as const).map((m) =>
      `<figure class="chart-${m}" data-cell="${cell.cellId}">${cellCurvesLight(cell, m, { width: 460, height: 260 })}</figure>`).join('')}</div>`
      + (seedsNote ? `<p class="muted">${esc(seedsNote)}</p>` : '')
    : '<p class="muted">No finished trials in this cell.</p>');
  if (cell.surface) {
    parts.push('<h2>Decision boundary</h2>');
    parts.push(`<p class="muted">The predicted probability of class 1 averaged over the seeds (blue: class 0, orange: class 1) with the decision boundary in black; filled marks train, hollow marks validate${cell.surface.variance ? '; dashed pink contours: where the seeds disagree most' : ''}.</p>`);
    const dotsHref = pointsLayer(s, cell)?.file;
    parts.push(`<figure class="chart-boundary" data-cell="${cell.cellId}">${boundaryLight(cell, { points: pointsOf(s, cell), width: BOUNDARY_WIDTH, dotsHref })}</figure>`);
  }
  parts.push(`<section id="cell-images">${imagePanels(s, cell)}</section>`);
  parts.push(trials(cell));
  if (c.missing > 0) parts.push(`<p class="muted">${c.missing} of the cell's trials are not in the store (still training, or unreadable: \`fitgrid report\` names those).</p>`);
  return parts.join('\n');
}

function facts(cell: CellSummary): string {
  const c = cell.counts;
  const row = (dt: string, dd: string) => `<dt>${dt}</dt><dd>${dd}</dd>`;
  const dropout = Array.isArray(cell.axes.dropout) ? cell.axes.dropout.join(', ') : String(cell.axes.dropout);
  const trials = `${c.ok} finished${c.diverged ? `, ${c.diverged} diverged` : ''}${c.failed ? `, ${c.failed} failed` : ''}${c.missing ? `, ${c.missing} missing (not stored yet, or unreadable)` : ''}`;
  const v = cell.verdict;
  return `<dl class="facts">${row('L2', esc(String(cell.axes.l2)))}${row('Dropout', esc(dropout))}${row('Augmentation', esc(cell.axes.augmentation))}`
    + `${row('Early stopping', cell.axes.patience === null ? 'none' : `patience ${cell.axes.patience}`)}${row('Trials', trials)}`
    + (v ? row('Verdict', `<span class="verdict-${esc(v.label.replace(' ', '-'))}">${esc(v.label)}</span> — ${esc(v.reason)}`) : '')
    + '</dl>';
}

function numbers(cell: CellSummary): string {
  const rows: [string, Stat, (x: number) => string, string?][] = [
    ['Validation loss', cell.stats.val_loss, (x) => num(x, 4), 'val_loss'],
    ['Validation accuracy', cell.stats.val_acc, pct, 'val_acc'],
    ['Best validation loss during training', cell.stats.best_val_loss, (x) => num(x, 4), 'best_val_loss'],
    ['Training loss (no penalty)', cell.stats.loss, (x) => num(x, 4)],
    ['Training accuracy', cell.stats.acc, pct],
    ['Gap: val − train loss', cell.stats.gap_loss, (x) => num(x, 4), 'gap_loss'],
    ['Gap: train − val accuracy', cell.stats.gap_acc, pct, 'gap_acc'],
    ['Kept epoch', cell.stats.bestEpoch, int],
    ['Stopped epoch', cell.stats.stoppedEpoch, int],
    ['Seconds of training per trial', cell.stats.seconds, (x) => num(x, 3)],
  ];
  const effect = cell.effect;
  const signed = (st: Stat, f: (x: number) => string) => (st.mean > 0 ? '+' : '') + withCi(st, f);
  const body = rows.map(([name, st, f, key]) => {
    const delta = effect ? `<td>${key && effect[key] ? signed(effect[key], f) : ''}</td>` : '';
    return `<tr><td>${name}</td><td title="${esc(ciTitle(st))}">${withCi(st, f)}</td>${delta}</tr>`;
  }).join('');
  const bv = cell.biasVariance;
  const split = bv?.dataVariance !== undefined ? ` (data ${num(bv.dataVariance)}, seed ${num(bv.seedVariance)})` : '';
  return '<h2>Numbers at the kept weights</h2>'
    + `<p class="muted">Mean over the cell's finished trials ± the half-width of the 95% confidence interval; the last column is the seed-paired difference to the no-remedy cell.</p>`
    + `<table class="cell-stats"><thead><tr><th>Metric</th><th>Mean ± 95% CI</th>${effect ? '<th>Δ vs no remedy</th>' : ''}</tr></thead><tbody>${body}</tbody></table>`
    + (bv?.mse ? `<p class="muted">Bias-variance (squared loss): bias² ${num(bv.mse.bias)}, variance ${num(bv.mse.variance)}${split}; 0-1 loss: bias ${num(bv.zeroOne?.bias)}, variance ${num(bv.zeroOne?.variance)}.</p>` : '');
}

/** This cell's augmentation on sample images, its confusion matrix and its gallery, for image data. */
function imagePanels(s: SweepSummary, cell: CellSummary): string {
  const images = isImageData(s) ? s.images : undefined;
  const augmented = images?.augmented?.[cell.axes.augmentation];
  const out: string[] = [];
  if (augmented && images?.samples) {
    const heads = images.samples.map((x) => `<th>${esc(s.data.classes[x.label] ?? `label ${x.label}`)}</th>`).join('');
    const row = (name: string, pixels: number[][]) => `<tr><td>${esc(name)}</td>${pixels.map((px) => `<td>${image(px, images.width, images.height)}</td>`).join('')}</tr>`;
    out.push(`<h2>Augmented training images</h2><table class="samples"><thead><tr><th></th>${heads}</tr></thead>`
      + `<tbody>${row('original', images.samples.map((x) => x.pixels))}${row(cell.axes.augmentation, augmented)}</tbody></table>`);
  }
  if (cell.confusion) {
    out.push('<h2>Confusion matrix</h2><p class="muted">Validation predictions summed over the cell\'s seeds: rows are the true class, columns the predicted one.</p>'
      + `<figure class="confusion" data-cell="${cell.cellId}">${confusion(cell.confusion, s.data.classes)}</figure>`);
  }
  if (cell.mistakes && images?.gallery) {
    out.push('<h2>Most confidently wrong</h2><p class="muted">The validation images this cell gets wrong with the highest probability, averaged over its seeds: true class → predicted class (probability).</p>'
      + `<section class="gallery-cell" data-cell="${cell.cellId}">${gallery(cell.mistakes, images, s.data.classes)}</section>`);
  }
  return out.join('');
}

/** Trials a cell page lists in seed order; beyond them only those that failed or diverged (up to as many again). */
export const LISTED_TRIALS = 250;

function trials(cell: CellSummary): string {
  const first = cell.trials.slice(0, LISTED_TRIALS);
  const troubled = cell.trials.slice(LISTED_TRIALS).filter((t) => t.status !== 'ok').slice(0, LISTED_TRIALS);
  const listed = [...first, ...troubled];
  const rows = listed.map((t) => `<tr id="${trialAnchor(t.trialId)}">`
    + `<td>seed ${t.seed}${t.replicate !== null ? `, bootstrap ${t.replicate}` : ''}</td>`
    + `<td class="${t.status === 'ok' ? '' : 'verdict-failed'}"${t.error ? ` title="${esc(t.error)}"` : ''}>${t.status}${t.error ? `: ${esc(t.error)}` : ''}</td>`
    + `<td>${num(t.final.val_loss, 4)}</td><td>${pct(t.final.val_acc)}</td><td>${num(t.final.loss, 4)}</td><td>${num(t.best.val_loss, 4)}</td>`
    + `<td>${t.bestEpoch}</td><td>${t.stoppedEpoch}</td><td>${esc(`${t.engine}, ${t.backend}`)}</td><td>${seconds(t.seconds)}</td><td><code>${t.trialId}</code></td></tr>`).join('');
  const note = listed.length < cell.trials.length
    ? `<p class="muted trials-note">${listed.length} of the cell's ${cell.trials.length} stored trials: the first ${first.length} by seed${troubled.length ? `, then ${troubled.length} that failed or diverged` : ''}. <code>fitgrid export</code> writes every trial and epoch as a table.</p>`
    : '';
  return `<h2>Trials</h2>${note}<div class="scroll"><table class="trials"><thead><tr><th>Seed</th><th>Status</th><th>Val loss</th><th>Val acc</th><th>Train loss</th><th>Best val loss</th><th>Kept epoch</th><th>Stopped epoch</th><th>Ran on</th><th>Time</th><th>Trial id</th></tr></thead>`
    + `<tbody>${rows}</tbody></table></div>`;
}
