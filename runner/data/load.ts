/**
 * `loadDataset`: the one entry point from a grid's data spec to the numbers trials train on.
 * Files come from disk or, on a worker elsewhere, from the manifest's base64 copies; either way
 * their sha256 must still be the one the grid was loaded with, so trial ids never lie.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataSpec, IdxData } from '../records/config.ts';
import { UserError } from '../errors.ts';
import { encodeLabels, parseTable } from './csv.ts';
import { assemble } from './dataset.ts';
import { loadDigits, loadImageCsv } from './digits.ts';
import { loadIdx, type IdxBytes, type IdxPlaces } from './idx-dataset.ts';
import { makeCircles, makeMoons } from './synthetic.ts';
import type { Dataset } from './types.ts';

export interface LoadOptions {
  /** The folder csv/images paths are relative to (the grid file's). */
  baseDir: string;
  /** File contents (base64) by sha256, as carried in a sweep manifest; preferred over the disk. */
  dataFiles?: Record<string, string>;
  /** Large files stored once by hash (Manifest.dataKeys): their bytes, or undefined when not stored. */
  storedData?: (sha256: string) => Promise<Uint8Array | undefined>;
}

/** The dataset a grid's `data` section describes, split into train and val. */
export async function loadDataset(spec: DataSpec, options: LoadOptions): Promise<Dataset> {
  switch (spec.kind) {
    case 'moons':
    case 'circles': {
      if (spec.randomState > 0xffffffff) {
        throw new UserError(`Expected \`randomState\` to be an integer from 0 to 2**32 - 1 (numpy's limit), got ${spec.randomState}`, { field: 'data.randomState' });
      }
      const { X, y } = spec.kind === 'moons' ? makeMoons(spec) : makeCircles(spec);
      const rows = { x: X, y, featureNames: ['x0', 'x1'], classNames: ['0', '1'], inputShape: [2] };
      return assemble(rows, { split: spec.split });
    }
    case 'csv': {
      const { text, file } = await dataText(spec, options);
      const table = parseTable(text, spec.label, file);
      const { y, classNames } = encodeLabels(table.labels, { file, column: spec.label });
      const rows = { x: table.x, y, featureNames: table.featureNames, classNames, inputShape: [table.featureNames.length] };
      return assemble(rows, { split: spec.split, standardize: spec.standardize, place: { file } });
    }
    case 'digits':
      return loadDigits(spec);
    case 'images': {
      const { text, file } = await dataText(spec, options);
      return loadImageCsv(text, spec, file);
    }
    case 'idx':
      return loadIdxFiles(spec, options);
  }
}

/** The fields of an idx section that name files, as IdxBytes keys and grid fields. */
export const IDX_FILES = [
  ['images', 'data.images'], ['labels', 'data.labels'], ['valImages', 'data.val.images'], ['valLabels', 'data.val.labels'],
] as const;

/** An idx section's files by IdxBytes key (the val pair only when the section has one). */
export function idxFiles(spec: IdxData): Partial<Record<keyof IdxBytes, { path: string; sha256: string }>> {
  return { images: spec.images, labels: spec.labels, ...(spec.val ? { valImages: spec.val.images, valLabels: spec.val.labels } : {}) };
}

async function loadIdxFiles(spec: IdxData, options: LoadOptions): Promise<Dataset> {
  const { bytes, places } = await readIdxFiles(spec, (f, field) => dataBytes(f, field, options));
  return loadIdx(spec, bytes, places);
}

/** Every file of an idx section through `read`, with where each came from, for messages. */
export async function readIdxFiles(spec: IdxData, read: (f: { path: string; sha256: string }, field: string) => Promise<{ bytes: Uint8Array; file: string }>):
  Promise<{ bytes: IdxBytes; places: IdxPlaces }> {
  const bytes: Partial<IdxBytes> = {};
  const places: Partial<IdxPlaces> = {};
  const files = idxFiles(spec);
  for (const [key, field] of IDX_FILES) {
    const f = files[key];
    if (!f) continue;
    const got = await read(f, field);
    bytes[key] = got.bytes;
    places[key] = { file: got.file, field };
  }
  return { bytes: bytes as IdxBytes, places: places as IdxPlaces };
}

/** A data file's text, from the manifest copy when there is one, checked against the grid's hash. */
async function dataText(spec: { path: string; sha256: string }, options: LoadOptions): Promise<{ text: string; file: string }> {
  const { bytes, file } = await dataBytes(spec, 'data.path', options);
  return { text: Buffer.from(bytes).toString('utf8'), file };
}

/** A data file's bytes: the manifest copy, else the store's, else the disk's; checked against the grid's hash. */
async function dataBytes(spec: { path: string; sha256: string }, field: string, { baseDir, dataFiles = {}, storedData }: LoadOptions): Promise<{ bytes: Uint8Array; file: string }> {
  const file = path.resolve(baseDir, spec.path);
  let bytes: Uint8Array | undefined;
  const carried = dataFiles[spec.sha256];
  if (carried !== undefined) bytes = Buffer.from(carried, 'base64');
  else bytes = await storedData?.(spec.sha256);
  if (bytes === undefined) {
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new UserError(`Cannot read the data file: ${(error as Error).message}`, { file, field });
    }
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== spec.sha256) {
    throw new UserError(`The data file changed since the grid was loaded (sha256 ${sha256.slice(0, 12)}…, expected ${spec.sha256.slice(0, 12)}…); load the grid again`, { file });
  }
  return { bytes, file };
}
