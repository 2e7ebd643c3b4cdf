import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { UserError } from '../../runner/errors.ts';
import { loadGrid } from '../../runner/grid/load.ts';

/** A small valid grid; tests swap one of its lines for a mistake, so line numbers are known. */
const BASE = [
  'name: t', //                                                                       1
  'data: { kind: moons, samples: 40, noise: 0.1, randomState: 3, split: { train: 20 } }', // 2
  'model: { kind: mlp, hidden: [8] }', //                                             3
  'train: { epochs: 5 }', //                                                          4
  'grid:', //                                                                         5
  '  l2: [0, 0.01]', //                                                               6
  '  dropout: [0, 0.5]', //                                                           7
  '  augmentation: [none]', //                                                        8
  '  patience: [null, 3]', //                                                         9
  'seeds: 2', //                                                                     10
];

const dir = mkdtempSync(path.join(tmpdir(), 'fitgrid-grid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

/** Writes a grid file (BASE with `lines` replaced: {1-based line: text}, plus extra lines) and returns its path. */
export function gridFile(replace: Record<number, string> = {}, extra: string[] = [], files: Record<string, string> = {}): string {
  const sub = path.join(dir, String(count++));
  const lines = BASE.map((l, i) => replace[i + 1] ?? l);
  writeFileSync(`${sub}.yaml`, [...lines, ...extra].join('\n') + '\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return `${sub}.yaml`;
}

/** Writes a whole grid file from text. */
export function gridText(text: string): string {
  const file = path.join(dir, `${count++}.yaml`);
  writeFileSync(file, text);
  return file;
}

export const tempDir = () => mkdtempSync(path.join(dir, 'd-'));

/** The UserError loadGrid throws for a file, or a failure if it loads. */
export async function loadError(file: string): Promise<UserError> {
  try {
    await loadGrid(file);
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error(`${file} loaded without error`);
}
