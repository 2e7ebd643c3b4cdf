import { readFileSync } from 'node:fs';
import type { CellSummary, SweepSummary } from '../../../runner/analysis/types.ts';

export type { CellSummary, SweepSummary, Stat, TrialSummary, CurveSeries } from '../../../runner/analysis/types.ts';

// The build glue defines this per build (vite `define`), so concurrent builds never share it.
declare const __FITGRID_SUMMARY__: string;

let cached: SweepSummary | undefined;

/** The summary.json this build renders; the site reads nothing else. */
export function summary(): SweepSummary {
  // FITGRID_SUMMARY lets `npx astro dev` in site/ preview any summary.json while editing pages
  const path = typeof __FITGRID_SUMMARY__ === 'string' ? __FITGRID_SUMMARY__ : process.env.FITGRID_SUMMARY;
  if (!path) throw new Error('no summary.json to render: build through buildSite() or set FITGRID_SUMMARY');
  cached ??= JSON.parse(readFileSync(path, 'utf8')) as SweepSummary;
  return cached;
}

export const hasBiasVariance = (s: SweepSummary) => s.cells.some((c) => c.biasVariance);
export const hasVerdicts = (s: SweepSummary) => s.cells.some((c) => c.verdict);
export const isImageData = (s: SweepSummary) => s.data.inputShape.length === 3;
export const hasSurfaces = (s: SweepSummary) => s.cells.some((c) => c.surface);

/** Short names for the cell axes, e.g. the baseline reads "no remedy (baseline)". */
export function cellTitle(s: SweepSummary, c: CellSummary): string {
  return c.cellId === s.baselineCellId ? `${c.label} — no remedy (baseline)` : c.label;
}

export const trialHref = (trialId: string) => `trials/${trialId}.html`;
export const cellAnchor = (cellId: string) => `cell-${cellId}`;

/** Data for a client script inside <script type="application/json">: `<` can never close the tag. */
export const jsonForScript = (value: unknown) =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
