import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../runner/data/idx.ts';
import { loadDataset } from '../../runner/data/load.ts';
import { prepareSweep } from '../../runner/exec/prepare.ts';
import { openStore } from '../../runner/store/open.ts';
import { dataKey } from '../../runner/store/keys.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fitgrid-idx-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('idx files in a sweep', () => {
  it('are stored once by hash and referenced from the manifest, and workers read them from the store', async () => {
    const images = encodeIdx([20, 4, 4], Array.from({ length: 320 }, (_, k) => k % 256));
    const labels = encodeIdx([20], Array.from({ length: 20 }, (_, i) => i % 2));
    writeFileSync(path.join(dir, 'images.idx'), images);
    writeFileSync(path.join(dir, 'labels.idx'), labels);
    const grid = path.join(dir, 'g.yaml');
    writeFileSync(grid, 'name: idx-store\ndata: { kind: idx, images: images.idx, labels: labels.idx, split: { train: 10 } }\n' +
      'model: { kind: cnn, blocks: [{ filters: 4 }], dense: [4] }\ntrain: { epochs: 1 }\n');
    const store = await openStore(path.join(dir, 'store'));
    const { manifest } = await prepareSweep(grid, store);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(manifest.dataFiles).toEqual({});
    expect(manifest.dataKeys).toEqual({ [sha(images)]: dataKey(sha(images)), [sha(labels)]: dataKey(sha(labels)) });
    expect(await store.get(dataKey(sha(images)))).toEqual(new Uint8Array(images));
    // the grid's folder is gone on a Batch worker: the store's copy is what it trains on
    unlinkSync(path.join(dir, 'images.idx'));
    unlinkSync(path.join(dir, 'labels.idx'));
    const data = await loadDataset(manifest.grid.data, { baseDir: dir, dataFiles: {}, storedData: (s) => store.get(manifest.dataKeys![s]) });
    expect(data.train.x).toHaveLength(10);
    expect(data.train.x[0].slice(0, 3)).toEqual([0, 1 / 255, 2 / 255]);
  });
});
