import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { terminal, type Output } from './output.ts';

export interface DataOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  grid: string;
  /** Output file; standard output when absent. */
  out?: string;
  /** `--data-root`: folders data files may lie in. */
  dataRoot?: string[];
}

/**
 * `fitgrid data`: writes the grid's dataset as CSV (features, label, split: training rows
 * first, then validation rows, each in dataset order), exactly the numbers trials train on
 * before augmentation. The file appears whole or not at all. Returns the CSV text.
 */
export async function data(options: DataOptions): Promise<string> {
  const output = options.output ?? terminal;
  const { loadGrid } = await import('../grid/load.ts');
  const { loadDataset } = await import('../data/load.ts');
  const { datasetToCsv } = await import('../data/to-csv.ts');
  const grid = await loadGrid(options.grid, { dataRoots: options.dataRoot ?? [] });
  const csv = datasetToCsv(await loadDataset(grid.data, { baseDir: path.dirname(grid.file) }));
  if (options.out === undefined) output.print(csv);
  else await writeAtomically(options.out, csv);
  return csv;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new UserError(`Cannot write the data file: ${(error as Error).message}`, { file });
  }
}
