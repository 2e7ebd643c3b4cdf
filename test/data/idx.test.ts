import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../runner/errors.ts';
import { encodeIdx, parseIdx } from '../../runner/data/idx.ts';
import { loadDataset } from '../../runner/data/load.ts';
import { checkGridData } from '../../runner/data/check-grid.ts';
import { expandGrid } from '../../runner/grid/expand.ts';
import { loadGrid } from '../../runner/grid/load.ts';
import { trialId } from '../../runner/grid/canonical.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fitgrid-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** n images of h×w whose pixel values encode (image, pixel), and labels cycling over `classes`. */
function writeSet(name: string, n: number, h: number, w: number, classes: number, gzip: boolean) {
  const pixels = Array.from({ length: n * h * w }, (_, k) => (k * 7) % 256);
  const images = encodeIdx([n, h, w], pixels);
  const labels = encodeIdx([n], Array.from({ length: n }, (_, i) => i % classes));
  writeFileSync(path.join(dir, `${name}-images`), gzip ? gzipSync(images) : images);
  writeFileSync(path.join(dir, `${name}-labels`), gzip ? gzipSync(labels) : labels);
  return pixels;
}

let grids = 0;
function grid(data: string, model = '{ kind: cnn, blocks: [{ filters: 4 }], dense: [8] }'): string {
  const file = path.join(dir, `g${grids++}.yaml`);
  writeFileSync(file, `name: idx\ndata: ${data}\nmodel: ${model}\ntrain: { epochs: 1 }\n`);
  return file;
}

async function failure(f: () => Promise<unknown>): Promise<UserError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

const load = async (file: string) => {
  const g = await loadGrid(file);
  await checkGridData(g, expandGrid(g));
  return { grid: g, data: await loadDataset(g.data, { baseDir: dir }) };
};

const trainPixels = writeSet('train', 40, 6, 5, 4, true);
const valPixels = writeSet('test', 12, 6, 5, 4, false);

describe('parseIdx', () => {
  it('reads type, dimensions and values of raw and gzip files alike, told apart by content', () => {
    const raw = encodeIdx([2, 3], [1, 2, 3, 4, 5, 6]);
    for (const bytes of [raw, gzipSync(raw)]) {
      const a = parseIdx(bytes);
      expect(a.typeName).toBe('uint8');
      expect(a.dims).toEqual([2, 3]);
      expect(Array.from(a.bytes)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('rejects a bad magic, a truncated file and trailing bytes', () => {
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4]))).toThrow(/not an IDX file: expected the magic bytes 00 00 <type> <dims>, got 01 02 03 04/);
    expect(() => parseIdx(encodeIdx([2, 3], [1, 2, 3, 4, 5, 6]).subarray(0, 14))).toThrow(/truncated: dimensions 2×3 of uint8 need 6 data bytes, the file has 2/);
    expect(() => parseIdx(Uint8Array.from([...encodeIdx([2], [1, 2]), 9]))).toThrow(/1 bytes after the 2 uint8 values/);
  });
});

describe('idx data', () => {
  it('splits the training file, scales pixels into [0, 1] and takes the shape from the header', async () => {
    const { data } = await load(grid(`{ kind: idx, images: train-images, labels: train-labels, split: { train: 30 } }`));
    expect(data.inputShape).toEqual([6, 5, 1]);
    expect(data.classNames).toEqual(['0', '1', '2', '3']);
    expect(data.train.x).toHaveLength(30);
    expect(data.val.x).toHaveLength(10);
    expect(data.train.x[1]).toEqual(trainPixels.slice(30, 60).map((v) => v / 255));
    expect(data.val.y).toEqual(Array.from({ length: 10 }, (_, i) => (30 + i) % 4));
  });

  it('validates on the val file pair, with class names and stratified subsets of both', async () => {
    const { data } = await load(grid(`{ kind: idx, images: train-images, labels: train-labels, trainSize: 8, classNames: [a, b, c, d], val: { images: test-images, labels: test-labels, size: 4 } }`));
    expect(data.classNames).toEqual(['a', 'b', 'c', 'd']);
    expect(data.train.x).toHaveLength(8);
    expect([...data.train.y].sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect([...data.val.y].sort()).toEqual([0, 1, 2, 3]);
    // each kept validation image is one of the file's, with its own label
    data.val.x.forEach((img, i) => {
      const k = Array.from({ length: 12 }, (_, j) => j).find((j) => valPixels[j * 30] === Math.round(img[0] * 255))!;
      expect(img).toEqual(valPixels.slice(k * 30, k * 30 + 30).map((v) => v / 255));
      expect(data.val.y[i]).toBe(k % 4);
    });
  });

  it('enters trial ids by content, not by path', async () => {
    writeSet('copy', 40, 6, 5, 4, true);
    const a = expandGrid(await loadGrid(grid(`{ kind: idx, images: train-images, labels: train-labels }`)))[0];
    const b = expandGrid(await loadGrid(grid(`{ kind: idx, images: copy-images, labels: copy-labels }`)))[0];
    expect(a.trialId).toBe(b.trialId);
    const other = structuredClone(a.config);
    if (other.data.kind === 'idx') other.data.labels.sha256 = 'f'.repeat(64);
    expect(trialId(other, a.seed, a.replicate)).not.toBe(a.trialId);
  });

  it('names the file and field of a non-image file, mismatched counts and labels outside classNames', async () => {
    const e1 = await failure(() => load(grid(`{ kind: idx, images: train-labels, labels: train-labels }`)));
    expect(e1.message).toMatch(/train-labels: field `data.images`: Expected images, dimensions \(count, height, width\[, channels\]\); this IDX file has 1 \(40\)/);
    writeFileSync(path.join(dir, 'short-labels'), encodeIdx([39], Array.from({ length: 39 }, () => 0)));
    const e2 = await failure(() => load(grid(`{ kind: idx, images: train-images, labels: short-labels }`)));
    expect(e2.message).toMatch(/short-labels: field `data.labels`: 39 labels for the 40 images of .*train-images/);
    const e3 = await failure(() => load(grid(`{ kind: idx, images: train-images, labels: train-labels, classNames: [a, b, c] }`)));
    expect(e3.message).toMatch(/train-labels: field `data.labels`: label 3 at item 3 is outside `classNames` \(3 names, labels 0–2\)/);
    writeFileSync(path.join(dir, 'bad-images'), Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]));
    const e4 = await failure(() => load(grid(`{ kind: idx, images: bad-images, labels: train-labels }`)));
    expect(e4.message).toMatch(/bad-images: field `data.images`: not an IDX file/);
    writeFileSync(path.join(dir, 'cut-images'), encodeIdx([40, 6, 5], trainPixels).subarray(0, 500));
    const e5 = await failure(() => load(grid(`{ kind: idx, images: cut-images, labels: train-labels }`)));
    expect(e5.message).toMatch(/cut-images: field `data.images`: truncated/);
  });

  it('refuses a missing file, split with val, and a CNN whose pooling leaves less than 1×1', async () => {
    const e1 = await failure(() => load(grid(`{ kind: idx, images: nothing-here, labels: train-labels }`)));
    expect(e1.message).toMatch(/field `data.images`: Cannot read data file .*nothing-here \(no such file\)/);
    const e2 = await failure(() => load(grid(`{ kind: idx, images: train-images, labels: train-labels, split: { train: 3 }, val: { images: test-images, labels: test-labels } }`)));
    expect(e2.message).toMatch(/field `data.split`: `split` and `val` exclude each other/);
    const e3 = await failure(() => load(grid(`{ kind: idx, images: train-images, labels: train-labels }`, '{ kind: cnn, blocks: [{ filters: 4 }, { filters: 4 }, { filters: 4 }] }')));
    expect(e3.message).toMatch(/field `model.blocks`: Expected the conv blocks to leave at least 1×1 pixel of a 6×5 image; pooling by 2 in block 3 leaves 0×0/);
  });
});
