import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CsvData } from '../../runner/records/config.ts';
import { loadDataset } from '../../runner/data/load.ts';
import { makeCircles, makeMoons } from '../../runner/data/synthetic.ts';

const text = 'x,y,cls\n1,10,b\n2,20,a\n3,30,b\n4,40,a\n100,1000,b\n';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fitgrid-data-'));
  await writeFile(path.join(dir, 'd.csv'), text);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const csv: CsvData = { kind: 'csv', path: 'd.csv', sha256: sha256(text), label: 'cls', standardize: true, split: { kind: 'first', train: 4 } };

describe('loadDataset', () => {
  it('gives moons as sklearn makes them, first N rows training', async () => {
    const d = await loadDataset({ kind: 'moons', samples: 20, noise: 0.1, randomState: 2, shuffle: true, split: { kind: 'first', train: 15 } }, { baseDir: dir });
    const { X, y } = makeMoons({ samples: 20, noise: 0.1, randomState: 2 });
    expect(d.train.x).toEqual(X.slice(0, 15));
    expect(d.val.y).toEqual(y.slice(15));
    expect(d).toMatchObject({ featureNames: ['x0', 'x1'], classNames: ['0', '1'], inputShape: [2] });
  });

  it('refuses a randomState numpy would refuse, naming the field', async () => {
    await expect(loadDataset({ kind: 'moons', samples: 20, noise: 0.1, randomState: 2 ** 32, shuffle: true, split: { kind: 'first', train: 15 } }, { baseDir: dir }))
      .rejects.toThrow(/field `data.randomState`/);
  });

  it('gives circles with their factor', async () => {
    const d = await loadDataset({ kind: 'circles', samples: 10, noise: 0, factor: 0.3, randomState: 0, shuffle: false, split: { kind: 'first', train: 5 } }, { baseDir: dir });
    expect(d.val.x).toEqual(makeCircles({ samples: 10, noise: 0, factor: 0.3, randomState: 0, shuffle: false }).X.slice(5));
  });

  it('standardises a CSV with the training rows statistics only', async () => {
    const d = await loadDataset(csv, { baseDir: dir });
    expect(d.classNames).toEqual(['a', 'b']);
    expect(d.train.y).toEqual([1, 0, 1, 0]);
    const mean = (j: number) => d.train.x.reduce((s, r) => s + r[j], 0) / 4;
    expect(mean(0)).toBeCloseTo(0, 12);
    expect(d.val.x[0][0]).toBeCloseTo((100 - 2.5) / Math.sqrt(1.25), 12);
  });

  it('reads the manifest copy of a file instead of the disk', async () => {
    const d = await loadDataset({ ...csv, path: 'gone.csv' }, { baseDir: dir, dataFiles: { [csv.sha256]: Buffer.from(text).toString('base64') } });
    expect(d.train.x).toHaveLength(4);
  });

  it('refuses a file whose content changed since the grid was loaded', async () => {
    await expect(loadDataset({ ...csv, sha256: sha256('other') }, { baseDir: dir })).rejects.toThrow(/d\.csv: The data file changed since the grid was loaded/);
  });

  it('names a missing file in a UserError', async () => {
    await expect(loadDataset({ ...csv, path: 'missing.csv' }, { baseDir: dir })).rejects.toMatchObject({ name: 'UserError', place: { field: 'data.path' } });
  });
});
