import { readFile } from 'node:fs/promises';
import type { Grid, Trial } from '../records/config.ts';
import type { Manifest, Pack } from '../records/manifest.ts';
import type { Store } from '../store/store.ts';
import { dataKey, trialIdFromKey, trialsPrefix } from '../store/keys.ts';
import { UserError, firstLine } from '../errors.ts';
import { writeManifest, type ManifestWrite } from '../store/manifest.ts';

export interface Prepared {
  manifest: Manifest;
  /** What happened to the stored manifest; 'dry-run' when asked not to write. */
  manifestWrite: ManifestWrite | 'dry-run';
  /** Trial ids of this sweep already in the store. */
  stored: Set<string>;
  /** Packs with at least one trial missing, in index order. */
  missingPacks: number[];
  /** Dry runs only: why the store could not be read (everything is then taken as missing). */
  storeUnreadable?: string;
}

export interface PrepareOptions {
  write?: boolean;
  workers?: number;
  /** Packs other than the local ones (launch sizes them for its queues). */
  packs?: (grid: Grid, trials: Trial[]) => Promise<Pack[]>;
  /** `--data-root`: folders data files may lie in, besides the grid's own. */
  dataRoots?: string[];
}

/** Grid file → manifest (written to the store) → what is left to train. Shared by `run` and `launch`. */
export async function prepareSweep(gridPath: string, store: Store, packSize?: number, options: PrepareOptions = {}): Promise<Prepared> {
  const [{ loadGrid }, { expandGrid }, plan, { readDataFiles, storedDataFiles }, { checkGridData }] = await Promise.all([
    import('../grid/load.ts'), import('../grid/expand.ts'), import('../grid/plan.ts'), import('../grid/data-files.ts'), import('../data/check-grid.ts'),
  ]);
  const grid = await loadGrid(gridPath, { dataRoots: options.dataRoots ?? [] });
  const source = await readFile(grid.file, 'utf8');
  const trials = expandGrid(grid);
  await checkGridData(grid, trials);
  const packs = options.packs
    ? await options.packs(grid, trials)
    : plan.planPacks(trials, { packSize: packSize ?? plan.defaultPackSize(trials.length, options.workers) });
  let dataFiles: Record<string, string>;
  try {
    dataFiles = await readDataFiles(grid, trials);
  } catch (error) {
    throw new UserError(`cannot read the data file: ${(error as Error).message}`, { file: grid.file, field: 'data.path' });
  }
  // The manifest carries the data files, so a worker anywhere trains on the same bytes.
  const manifest = plan.buildManifest(grid, source, trials, packs, dataFiles);
  // Large files go into the store once, by hash; the manifest only names their keys.
  const largeFiles = await storedDataFiles(grid, trials);
  if (largeFiles.size) manifest.dataKeys = Object.fromEntries([...largeFiles.keys()].map((sha) => [sha, dataKey(sha)]));
  let manifestWrite: Prepared['manifestWrite'] = 'dry-run';
  try {
    if (options.write ?? true) {
      for (const [sha, file] of largeFiles) {
        if (!(await store.exists(dataKey(sha)))) await store.put(dataKey(sha), await readFile(file), { ifAbsent: true, contentType: 'application/octet-stream' });
      }
      manifestWrite = await writeManifest(store, manifest);
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot write to the store ${store.url}: ${firstLine(error)}`);
  }
  const ids = new Set(trials.map((t) => t.trialId));
  let keys: string[] = [];
  let storeUnreadable: string | undefined;
  try {
    keys = await store.list(trialsPrefix);
  } catch (error) {
    // A dry run still shows its plan when the store cannot be read (offline, no credentials).
    if (manifestWrite !== 'dry-run') throw error;
    storeUnreadable = firstLine(error);
  }
  const stored = new Set(keys.map(trialIdFromKey).filter((id): id is string => id !== undefined && ids.has(id)));
  const missingPacks = packs.filter((p) => p.trialIds.some((id) => !stored.has(id))).map((p) => p.index);
  return { manifest, manifestWrite, stored, missingPacks, ...(storeUnreadable ? { storeUnreadable } : {}) };
}
