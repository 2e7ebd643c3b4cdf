/**
 * Checks of a grid that need its data files' contents: idx files (format, counts, labels
 * against `classNames`, subset sizes) and CNNs against the image size they read. Run by
 * `validate`, `run` and `launch` before anything trains, so a bad file exits 2 at once.
 */
import { readFile } from 'node:fs/promises';
import { dataFilePath } from '../grid/data-files.ts';
import { cnnShrinks } from '../grid/schema.ts';
import type { Grid, IdxData, Trial } from '../records/config.ts';
import { UserError } from '../errors.ts';
import { checkIdx } from './idx-dataset.ts';
import { readIdxFiles } from './load.ts';

export async function checkGridData(grid: Grid, trials: readonly Trial[]): Promise<void> {
  const sections = new Map<string, { data: IdxData; models: Trial['config']['model'][] }>();
  for (const { config } of trials) {
    if (config.data.kind !== 'idx') continue;
    const key = JSON.stringify(config.data);
    const entry = sections.get(key) ?? { data: config.data, models: [] };
    entry.models.push(config.model);
    sections.set(key, entry);
  }
  for (const { data, models } of sections.values()) {
    const { bytes, places } = await readIdxFiles(data, async (f, field) => {
      const file = dataFilePath(grid, f);
      const read = await readFile(file).catch((e: NodeJS.ErrnoException) => {
        throw new UserError(`Cannot read data file (${e.code === 'ENOENT' ? 'no such file' : e.code ?? e.message})`, { file, field });
      });
      return { bytes: read, file };
    });
    const checked = checkIdx(data, bytes, places);
    const { height, width } = checked.train.images;
    const sizes = [
      [data.trainSize, checked.train.labels.length, 'data.trainSize'],
      [data.val?.size ?? null, checked.val?.labels.length ?? 0, 'data.val.size'],
    ] as const;
    for (const [asked, have, field] of sizes) {
      if (asked !== null && asked > have) throw new UserError(`Expected \`${field.slice(5)}\` at most the file's ${have} images, got ${asked}`, { file: grid.file, field });
    }
    for (const model of new Set(models)) {
      const shrunk = cnnShrinks(model, height, width);
      if (shrunk) throw new UserError(shrunk, { file: grid.file, field: 'model.blocks' });
    }
  }
}
