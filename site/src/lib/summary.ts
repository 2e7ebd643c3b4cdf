import { readFileSync } from 'node:fs';
import type { CellSummary, SweepSummary } from '../../../runner/records/summary.ts';

export type { CellSummary, SweepSummary, Stat, CurveSeries, TrialSummary } from '../../../runner/records/summary.ts';

// The build glue defines this per build (vite `define`), so concurrent builds never share it.
declare const __FITGRID_SUMMARY__: string;

/**
 * Summaries by the path a build renders, shared on globalThis: the pages Astro compiles and the
 * build glue that writes the cell pages are two module instances in one process, and a summary
 * of thousands of cells is parsed once for both (see provideSummary).
 */
const loaded: Map<string, SweepSummary> = ((globalThis as { fitgridSummaries?: Map<string, SweepSummary> }).fitgridSummaries ??= new Map());

/** The summary.json this build renders; the site reads nothing else. */
export function summary(): SweepSummary {
  // FITGRID_SUMMARY lets `npx astro dev` in site/ preview any summary.json while editing pages
  const path = typeof __FITGRID_SUMMARY__ === 'string' ? __FITGRID_SUMMARY__ : process.env.FITGRID_SUMMARY;
  if (!path) throw new Error('no summary.json to render: build through buildSite() or set FITGRID_SUMMARY');
  return loadSummary(path);
}

/** The summary at `path`, parsed on first use and shared until releaseSummary(path). */
export function loadSummary(path: string): SweepSummary {
  let s = loaded.get(path);
  if (!s) loaded.set(path, (s = JSON.parse(readFileSync(path, 'utf8')) as SweepSummary));
  return s;
}

/** Gives the pages of the build that renders `path` this summary (no file needed), until releaseSummary(path). */
export function provideSummary(path: string, s: SweepSummary): void {
  loaded.set(path, s);
}

export function releaseSummary(path: string): void {
  loaded.delete(path);
}

export const hasBiasVariance = (s: SweepSummary) => s.cells.some((c) => c.biasVariance);
export const hasVerdicts = (s: SweepSummary) => s.cells.some((c) => c.verdict);
export const isImageData = (s: SweepSummary) => s.data.inputShape.length === 3;

/** Short names for the cell axes, e.g. the baseline reads "no remedy (baseline)". */
export function cellTitle(s: SweepSummary, c: CellSummary): string {
  return c.cellId === s.baselineCellId ? `${c.label} — no remedy (baseline)` : c.label;
}

/** A cell's own page (seeds, boundary, confusion, trials), relative to the site's root. */
export const cellHref = (cellId: string) => `cells/${cellId}.html`;
export const trialAnchor = (trialId: string) => `trial-${trialId}`;
export const cellAnchor = (cellId: string) => `cell-${cellId}`;

/** Up to this many cells, the curves and boundaries pages show every cell, as small multiples. */
export const ALL_CELLS_UP_TO = 24;
/** Beyond it, they show the baseline and the best cells by validation loss, this many in all. */
const FEATURED_CELLS = 12;

/**
 * The cells a page of small multiples shows: all of a small sweep; for a large one the no-remedy
 * baseline and the best cells by mean validation loss (each cell has its own page for the rest).
 */
export function featuredCells(s: SweepSummary, keep: (c: CellSummary) => boolean = () => true): CellSummary[] {
  const cells = s.cells.filter(keep);
  if (cells.length <= ALL_CELLS_UP_TO) return cells;
  const loss = (c: CellSummary) => (Number.isFinite(c.stats.val_loss.mean) ? c.stats.val_loss.mean : Infinity);
  const best = [...cells].sort((a, b) => loss(a) - loss(b));
  const baseline = cells.find((c) => c.cellId === s.baselineCellId);
  const picked = [...(baseline ? [baseline] : []), ...best.filter((c) => c !== baseline).slice(0, FEATURED_CELLS - (baseline ? 1 : 0))];
  return picked;
}

/** The points a cell's boundary shows: its own (bootstrap) or the sweep's. */
export const pointsOf = (s: SweepSummary, c: CellSummary) => c.points ?? s.points;

/** Data for a client script inside <script type="application/json">: `<` can never close the tag. */
export const jsonForScript = (value: unknown) =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
