import type { Grid, Trial } from './config.ts';
import { RecordError } from './record-error.ts';

/** Trials that train together: same data, architecture, epochs and batch size. */
export interface Pack {
  index: number;
  trialIds: string[];
}

export interface Manifest {
  fitgridVersion: string;
  formatVersion: number;
  sweep: string;
  createdAt: string;
  /** The grid as loaded (absolute file path included for provenance). */
  grid: Grid;
  /** Grid file text, so that a report or a cloud worker never needs the original file. */
  gridSource: string;
  /** For csv/images data: the file's bytes (base64), so workers elsewhere train on the same data. */
  dataFiles: Record<string, string>;
  /** For idx data: sha256 → the store key the file was stored under once (too large to copy into every manifest). */
  dataKeys?: Record<string, string>;
  trials: Trial[];
  packs: Pack[];
}

/**
 * The one reader of a stored manifest: JSON with a sweep name, trials and packs. `format`, when
 * given, is the only format accepted (workers train trials of their own format only); readers
 * that only look, such as the report and `pull`, accept any.
 */
export function parseManifest(bytes: Uint8Array | string, where: string, format?: number): Manifest {
  let value: Partial<Manifest>;
  try {
    // Every trial of a cell has the cell's config: one shared copy per cell keeps a manifest of
    // 100,000 trials to its cells' worth of configs (parsed copies die young, as they are parsed).
    const configs = new Map<string, unknown>();
    value = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes), function (this: unknown, _key, v: { cellId?: unknown; config?: unknown } | null) {
      if (Array.isArray(this) && v && typeof v.cellId === 'string' && v.config !== undefined) {
        const shared = configs.get(v.cellId);
        if (shared === undefined) configs.set(v.cellId, v.config);
        else v.config = shared;
      }
      return v;
    }) as Partial<Manifest>;
  } catch {
    throw new RecordError('not valid JSON; delete it and run the grid again (stored trials are kept)', where);
  }
  if (!value || typeof value !== 'object' || typeof value.sweep !== 'string' || !Array.isArray(value.trials) || !Array.isArray(value.packs)) {
    throw new RecordError('not a fitgrid manifest (no sweep, trials and packs)', where);
  }
  const manifest = value as Manifest;
  if (format !== undefined) checkManifestFormat(manifest, format, where);
  return manifest;
}

export function checkManifestFormat(found: Manifest, expected: number, where: string): void {
  if (found.formatVersion !== expected) {
    throw new RecordError(
      `written by fitgrid ${found.fitgridVersion ?? '?'} (manifest format ${found.formatVersion}); ` +
        `this fitgrid reads format ${expected}. Use that fitgrid version, or another sweep name.`,
      where,
    );
  }
}
