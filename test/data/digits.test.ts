import { describe, expect, it } from 'vitest';
import { UserError } from '../../runner/errors.ts';
import { keepClasses, loadDigits, loadImageCsv, pixelNames, readDigits } from '../../runner/data/digits.ts';

const split = { kind: 'fraction', trainFraction: 0.75, stratify: true, seed: 0 } as const;

describe('readDigits', () => {
  it('loads 1,797 images of 8×8 pixels in [0, 1] with 10 classes', async () => {
    const rows = await readDigits();
    expect(rows.x).toHaveLength(1797);
    expect(rows.x.every((img) => img.length === 64)).toBe(true);
    const pixels = rows.x.flat();
    expect(Math.min(...pixels)).toBe(0);
    expect(Math.max(...pixels)).toBe(1);
    expect(new Set(rows.y).size).toBe(10);
    expect(rows.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(rows.inputShape).toEqual([8, 8, 1]);
    expect(rows.featureNames.slice(0, 2)).toEqual(['p0_0', 'p0_1']);
  });
});

describe('loadDigits', () => {
  it('splits stratified three quarters to train and subsets the training part by class', async () => {
    const full = await loadDigits({ trainSize: null, classes: null, split });
    expect(full.train.x.length + full.val.x.length).toBe(1797);
    expect(full.train.x.length).toBe(Math.round(0.75 * 1797));
    const small = await loadDigits({ trainSize: 100, classes: null, split });
    expect(small.train.y).toHaveLength(100);
    for (let c = 0; c < 10; c++) expect(small.train.y.filter((y) => y === c).length).toBe(10);
    expect(small.val).toEqual(full.val);
  });

  it('keeps only the asked classes, relabelled 0..K-1 with their names', async () => {
    const d = await loadDigits({ trainSize: null, classes: [8, 3], split });
    expect(d.classNames).toEqual(['3', '8']);
    expect(new Set([...d.train.y, ...d.val.y])).toEqual(new Set([0, 1]));
  });

  it('refuses a trainSize larger than the training part', async () => {
    await expect(loadDigits({ trainSize: 5000, classes: null, split })).rejects.toThrow(/field `data.trainSize`/);
  });
});

describe('keepClasses', () => {
  it('relabels in ascending class order', () => {
    const rows = { x: [[0], [1], [2]], y: [2, 0, 1], featureNames: ['a'], classNames: ['a', 'b', 'c'], inputShape: [1] };
    expect(keepClasses(rows, [2, 0])).toMatchObject({ x: [[0], [1]], y: [1, 0], classNames: ['a', 'c'] });
  });
});

describe('loadImageCsv', () => {
  const spec = { label: 'digit', width: 2, height: 1, channels: 3, scale: 255, trainSize: null, split: { kind: 'first', train: 2 } } as const;
  const header = 'r0,g0,b0,r1,g1,b1,digit';

  it('scales pixels and names them row_col_channel with shape [height, width, channels]', () => {
    const d = loadImageCsv(`${header}\n255,0,0,0,0,51,a\n0,0,0,0,0,0,b\n0,255,0,0,0,0,a\n`, spec, 'img.csv');
    expect(d.inputShape).toEqual([1, 2, 3]);
    expect(d.featureNames).toEqual(pixelNames(1, 2, 3));
    expect(d.featureNames[5]).toBe('p0_1_2');
    expect(d.train.x[0]).toEqual([1, 0, 0, 0, 0, 0.2]);
    expect(d.classNames).toEqual(['a', 'b']);
    expect(d.val.y).toEqual([0]);
  });

  it('says how many pixel columns width × height × channels needs when the count differs', () => {
    expect(() => loadImageCsv('a,b,digit\n1,2,x\n3,4,y\n', spec, 'img.csv')).toThrow(UserError);
    expect(() => loadImageCsv('a,b,digit\n1,2,x\n3,4,y\n', spec, 'img.csv')).toThrow(/Expected 6 pixel columns .*width 2 × height 1 × channels 3.*got 2/);
  });

  it('names the row and column of a pixel above scale', () => {
    expect(() => loadImageCsv(`${header}\n0,0,0,0,0,0,a\n0,300,0,0,0,0,b\n`, spec, 'img.csv')).toThrow(/img\.csv: row 3: column "g0"/);
  });
});
