import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageSamples } from '../../runner/analysis/image-samples.ts';
import { buildSummary, summarize } from '../../runner/analysis/summary.ts';
import { loadGrid } from '../../runner/grid/load.ts';
import { expandGrid } from '../../runner/grid/expand.ts';
import { buildManifest, planPacks } from '../../runner/grid/plan.ts';
import { readDataFiles } from '../../runner/grid/data-files.ts';
import { loadDataset } from '../../runner/data/load.ts';
import type { Manifest } from '../../runner/records/manifest.ts';
import { manifestKey } from '../../runner/store/keys.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

let tmp: string;

beforeAll(async () => { tmp = await mkdtemp(path.join(tmpdir(), 'fitgrid-image-samples-')); });
afterAll(async () => { await rm(tmp, { recursive: true, force: true }); });

/** A manifest as `fitgrid run` writes it, from a grid file written into the temp folder. */
async function manifestOf(name: string, yaml: string): Promise<Manifest> {
  const file = path.join(tmp, `${name}.yaml`);
  await writeFile(file, yaml);
  const grid = await loadGrid(file);
  const trials = expandGrid(grid);
  return buildManifest(grid, yaml, trials, planPacks(trials), await readDataFiles(grid, trials));
}

async function summaryOf(manifest: Manifest) {
  const store = new MemoryStore();
  store.putJson(manifestKey(manifest.sweep), manifest);
  return buildSummary(store, manifest.sweep);
}

const digitsGrid = `
name: digits-samples
data: { kind: digits, trainSize: 60, classes: [0, 1, 2], split: { trainFraction: 0.75, stratify: true, seed: 0 } }
model: { kind: cnn }
train: { epochs: 2 }
grid:
  augmentation: [none, { shift: 0.1, rotation: 10 }]
seeds: 1
`;

const inUnitRange = (pixels: number[]) => pixels.every((v) => v >= 0 && v <= 1);

describe('image samples in the summary', () => {
  it('puts one 8×8 training image per kept digit class, pixels in [0, 1], into a digits summary', async () => {
    const manifest = await manifestOf('digits', digitsGrid);
    const images = (await summaryOf(manifest)).images!;
    expect(images).toMatchObject({ width: 8, height: 8, channels: 1 });
    expect(images.samples!.map((s) => s.label)).toEqual([0, 1, 2]);
    const data = await loadDataset(manifest.grid.data, { baseDir: tmp });
    for (const s of images.samples!) {
      expect(s.pixels).toHaveLength(64);
      expect(inUnitRange(s.pixels)).toBe(true);
      // a real training image of that class, not a made-up one
      const match = data.train.x.findIndex((x) => x.every((v, i) => Math.abs(v - s.pixels[i]) < 1e-3));
      expect(data.train.y[match]).toBe(s.label);
    }
  });

  it('draws four augmented versions per sample for each augmentation that is not none, all different from the originals', async () => {
    const summary = await summaryOf(await manifestOf('digits', digitsGrid));
    const images = summary.images!;
    const keys = Object.keys(images.augmented!);
    // named as the augmentation axis is everywhere else in the report
    expect(summary.axes.augmentation).toEqual(['none', 'rotation 10, shift 0.1']);
    expect(keys).toEqual([1, 2, 3, 4].map((d) => `rotation 10, shift 0.1 · ${d}`));
    for (const versions of Object.values(images.augmented!)) {
      expect(versions).toHaveLength(3);
      versions.forEach((px, k) => {
        expect(px).toHaveLength(64);
        expect(inUnitRange(px)).toBe(true);
        expect(px).not.toEqual(images.samples![k].pixels);
      });
    }
    // each draw is a new transform, not the same picture four times
    expect(images.augmented![keys[0]]).not.toEqual(images.augmented![keys[1]]);
  });

  it('gives the same pictures every time the report is rebuilt', async () => {
    const manifest = await manifestOf('digits', digitsGrid);
    expect((await summaryOf(manifest)).images).toEqual((await summaryOf(manifest)).images);
  });

  it('leaves the augmented versions out when the grid has no augmentation', async () => {
    const manifest = await manifestOf('digits-plain', digitsGrid.replace('[none, { shift: 0.1, rotation: 10 }]', '[none]'));
    const images = (await summaryOf(manifest)).images;
    expect(images!.samples).toHaveLength(3);
    expect(images!.augmented).toBeUndefined();
  });

  it('reads a user image CSV from the manifest copy when the file beside the grid is gone', async () => {
    const header = [...Array.from({ length: 16 }, (_, i) => `p${i}`), 'label'].join(',');
    // 3×3 bright squares at one of two corners of a 4×4 image, labelled by the corner
    const row = (corner: number, k: number) => [
      ...Array.from({ length: 16 }, (_, i) => {
        const [r, c] = [Math.floor(i / 4), i % 4];
        const inside = corner === 0 ? r < 3 && c < 3 : r > 0 && c > 0;
        return inside ? 200 + k : 0;
      }),
      corner === 0 ? 'top' : 'bottom',
    ].join(',');
    const csv = [header, ...Array.from({ length: 12 }, (_, k) => row(k % 2, k))].join('\n');
    await writeFile(path.join(tmp, 'squares.csv'), csv);
    const manifest = await manifestOf('squares', `
name: squares
data: { kind: images, path: squares.csv, label: label, width: 4, height: 4, split: { train: 8 } }
model: { kind: cnn, blocks: [{ filters: 4, kernel: 3, pool: 2 }], dense: [8] }
train: { epochs: 2 }
grid:
  augmentation: [none, { flip: true, shift: 0.25 }]
seeds: 1
`);
    await unlink(path.join(tmp, 'squares.csv'));
    const images = ((await summaryOf(manifest)).images)!;
    expect(images).toMatchObject({ width: 4, height: 4, channels: 1 });
    // classes are indexed in sorted label order: 0 = "bottom", 1 = "top"
    expect(images.samples!.map((s) => s.label)).toEqual([0, 1]);
    expect(images.samples![1].pixels.slice(0, 4)).toEqual([0.784, 0.784, 0.784, 0]);
    expect(Object.keys(images.augmented!)).toHaveLength(4);
  });

  it('is absent from the summary of 2-D moons data', async () => {
    const manifest = await manifestOf('moons', `
name: moons
data: { kind: moons, samples: 40, split: { train: 20 } }
model: { kind: mlp, hidden: [8] }
train: { epochs: 2 }
grid:
  augmentation: [none, { jitter: 0.1 }]
seeds: 1
`);
    expect((await summaryOf(manifest)).images).toBeUndefined();
    expect((await summaryOf(manifest)).images).toBeUndefined();
  });
});

describe('imageSamples', () => {
  it('keeps big images under the pixel budget with fewer draws, then fewer samples', () => {
    const [height, width, channels] = [50, 50, 3];
    const x = Array.from({ length: 20 }, (_, i) => Array.from({ length: height * width * channels }, (_, j) => ((i * 7 + j) % 11) / 10));
    const data = { inputShape: [height, width, channels], train: { x, y: x.map((_, i) => i % 10) } };
    const images = imageSamples(data, [null, { shift: 0.1 }, { zoom: 0.2 }], { budget: 60_000 });
    const pictures = images.samples!.length * (1 + Object.keys(images.augmented!).length);
    expect(pictures * height * width * channels).toBeLessThanOrEqual(60_000);
    expect(images.samples!.length).toBeGreaterThan(0);
    // one draw of each augmentation survives
    expect(Object.keys(images.augmented!)).toEqual(['shift 0.1 · 1', 'zoom 0.2 · 1']);
  });

  it('is passed through summarize unchanged, which stays free of I/O', async () => {
    const manifest = await manifestOf('digits', digitsGrid);
    const images = imageSamples({ inputShape: [1, 2, 1], train: { x: [[0, 1]], y: [0] } }, [null]);
    expect(summarize(manifest, [], images).images).toEqual({ width: 2, height: 1, channels: 1, samples: [{ label: 0, pixels: [0, 1] }] });
    expect(summarize(manifest, []).images).toBeUndefined();
  });
});

describe('buildSummary data facts', () => {
  it('reports a CSV sweep\'s real feature count, class names and split sizes, read from the manifest\'s copy of the data', async () => {
    await writeFile(path.join(tmp, 'species.csv'), ['a,b,c,species', ...Array.from({ length: 12 }, (_, i) => `${i},${i % 5},${i * 0.5},${['setosa', 'virginica', 'versicolor'][i % 3]}`)].join('\n'));
    const manifest = await manifestOf('species', `
name: species
data: { kind: csv, path: species.csv, label: species, split: { trainFraction: 0.75, seed: 1 } }
model: { kind: mlp, hidden: [4] }
train: { epochs: 2 }
seeds: 1
`);
    await unlink(path.join(tmp, 'species.csv'));
    const summary = await summaryOf(manifest);
    expect(summary.data.features).toBe(3);
    expect(summary.data.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(summary.data.train + summary.data.val).toBe(12);
    expect(summary.data.train).toBe(9);
  });
});
