import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { data } from '../../runner/commands/data.ts';
import { main } from '../../runner/main.ts';

const fixture = JSON.parse(await readFile(new URL('../fixtures/data/make_moons_n100_noise0.2_rs1.json', import.meta.url), 'utf8')) as { X: number[][]; y: number[] };
const tail = `
model: { kind: mlp, hidden: [4], activation: relu }
train: { epochs: 1, batchSize: 32, optimizer: { kind: adam, learningRate: 0.001 } }
seeds: 1
`;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fitgrid-data-cmd-'));
  await writeFile(path.join(dir, 'moons.yaml'), `name: m\ndata: { kind: moons, samples: 100, noise: 0.2, randomState: 1, split: { train: 30 } }${tail}`);
  await writeFile(path.join(dir, 'bad.csv'), 'a,b,label\n1,2,x\n3,n/a,y\n');
  await writeFile(path.join(dir, 'bad.yaml'), `name: b\ndata: { kind: csv, path: bad.csv, label: label }${tail}`);
  await writeFile(path.join(dir, 'quoted.csv'), 'size,"weight, kg",label\n1,2,"big, red"\n3,4,small\n5,6,small\n7,8,"big, red"\n');
  await writeFile(path.join(dir, 'quoted.yaml'), `name: q\ndata: { kind: csv, path: quoted.csv, label: label, split: { train: 2 } }${tail}`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const parse = (csv: string) => csv.trimEnd().split('\n').map((line) => line.split(','));

describe('fitgrid data', () => {
  it('writes make_moons exactly as scikit-learn, train rows first, with full precision', async () => {
    const out = path.join(dir, 'moons.csv');
    await data({ grid: path.join(dir, 'moons.yaml'), out });
    const [header, ...rows] = parse(await readFile(out, 'utf8'));
    expect(header).toEqual(['x0', 'x1', 'label', 'split']);
    expect(rows).toHaveLength(100);
    rows.forEach(([x0, x1, label, split], i) => {
      expect(Math.abs(Number(x0) - fixture.X[i][0])).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(Number(x1) - fixture.X[i][1])).toBeLessThanOrEqual(1e-12);
      expect(label).toBe(String(fixture.y[i]));
      expect(split).toBe(i < 30 ? 'train' : 'val');
    });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes to standard output without --out', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const csv = await data({ grid: path.join(dir, 'moons.yaml') });
    expect(write).toHaveBeenCalledWith(csv);
  });

  it('quotes names and labels that hold commas', async () => {
    const csv = await data({ grid: path.join(dir, 'quoted.yaml'), out: path.join(dir, 'quoted-out.csv') });
    expect(csv.split('\n').slice(0, 2)).toEqual(['size,"weight, kg",label,split', '1,2,"big, red",train']);
  });

  it('exits 2 with one line naming the file, row and column of a non-numeric cell', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await main(['node', 'fitgrid', 'data', path.join(dir, 'bad.yaml')]);
    expect(code).toBe(2);
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(String(stderr.mock.calls[0][0])).toBe(`fitgrid: ${path.join(dir, 'bad.csv')}: row 3: column "b": Expected a number, got text\n`);
  });
});
