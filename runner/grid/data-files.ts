import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { dataRoots, resolveDataFile } from './data-roots.ts';
import type { Grid, Trial } from '../records/config.ts';

/** Where a data file is (a csv/images spec, or one file of an idx spec): its `path` is relative to the grid file. */
export const dataFilePath = (grid: Pick<Grid, 'file'>, data: { path: string }) =>
  path.resolve(path.dirname(grid.file), data.path);

/** The bytes of every data file the trials use, base64, keyed by sha256 (Manifest.dataFiles). */
export async function readDataFiles(grid: Grid, trials: Trial[]): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const { config: { data } } of trials) {
    if ((data.kind === 'csv' || data.kind === 'images') && !(data.sha256 in files)) {
      const found = await resolveDataFile(data.path, grid.file, grid.dataRoots ?? dataRoots(grid.file));
      if ('problem' in found) throw new UserError(found.problem, { file: grid.file, field: 'data.path' });
      files[data.sha256] = (await readFile(found.file)).toString('base64');
    }
  }
  return files;
}

/**
 * The idx files the trials use, by sha256 → absolute path: stored once under the store's
 * data/<sha256> key and referenced from the manifest (Manifest.dataKeys), never copied into it.
 */
export async function storedDataFiles(grid: Grid, trials: Trial[]): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const { config: { data } } of trials) {
    if (data.kind !== 'idx') continue;
    for (const f of [data.images, data.labels, ...(data.val ? [data.val.images, data.val.labels] : [])]) {
      if (files.has(f.sha256)) continue;
      const found = await resolveDataFile(f.path, grid.file, grid.dataRoots ?? dataRoots(grid.file));
      if ('problem' in found) throw new UserError(found.problem, { file: grid.file, field: 'data' });
      files.set(f.sha256, found.file);
    }
  }
  return files;
}
