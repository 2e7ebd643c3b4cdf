import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { dataRoots, resolveDataFile } from './data-roots.ts';
import type { DataSpec, Grid, Trial } from './types.ts';

/** Where a csv/images data spec's file is: its `path` is relative to the grid file. */
export const dataFilePath = (grid: Pick<Grid, 'file'>, data: DataSpec & { path: string }) =>
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
