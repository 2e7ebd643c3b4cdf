import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { estimateTrialMiB } from '../../runner/grid/limits.ts';
import { loadGrid } from '../../runner/grid/load.ts';
import { main } from '../../runner/main.ts';
import { gridFile, gridText } from './helpers.ts';

const ceiling = (field: string, name: string) =>
  new RegExp(`:\\d+: field \`${field.replace(/[[\].]/g, '\\$&')}\`: .* is [\\d,]+, above the ceiling of [\\d,]+; if the sweep is meant to be this large, raise it with \`limits: \\{ ${name}: N \\}\` in the grid file$`);

describe('size ceilings', () => {
  it.each([
    ['seeds', { 10: 'seeds: 1000000000' }, 'seeds'],
    ['bootstrap', { 10: 'bootstrap: 1000000000' }, 'bootstrap'],
    ['data.samples', { 2: 'data: { kind: moons, samples: 1000000000000, split: { train: 20 } }' }, 'samples'],
    ['model.hidden', { 3: 'model: { kind: mlp, hidden: [1000000000] }' }, 'units'],
    ['train.epochs', { 4: 'train: { epochs: 1000000000000 }' }, 'epochs'],
    ['model', { 3: 'model: { kind: mlp, hidden: [10000, 10000, 10000, 10000, 10000] }' }, 'memoryMiB'],
  ])('refuses `%s` above its ceiling in one line', async (field, replace, name) => {
    await expect(loadGrid(gridFile(replace))).rejects.toThrow(ceiling(field, name));
  });

  it('counts a million combinations without building them', async () => {
    const values = (f: (i: number) => number) => `[${Array.from({ length: 100 }, (_, i) => f(i)).join(', ')}]`;
    const file = gridFile({ 6: `  l2: ${values((i) => i / 1000)}`, 7: `  dropout: ${values((i) => i / 200)}`, 9: `  patience: ${values((i) => i)}` }, [], {});
    await expect(loadGrid(file)).rejects.toThrow(/field `grid`: The number of trials before exclude, \(1,000,000 axis combinations \+ 0 includes\) × 2 seeds, is 2,000,000, above the ceiling of 100,000/);
  });

  it('checks the sections an include brings', async () => {
    const file = gridFile({}, ['include:', '  - model: { hidden: [20000] }']);
    await expect(loadGrid(file)).rejects.toThrow(ceiling('include[0].model.hidden', 'units'));
  });

  it('lets a grid raise a ceiling in its `limits:` section, and only the one it names', async () => {
    const grid = await loadGrid(gridFile({ 10: 'seeds: 1500' }, ['limits: { seeds: 2000 }']));
    expect(grid.seeds).toHaveLength(1500);
    await expect(loadGrid(gridFile({ 10: 'seeds: 1500' }, ['limits: { bootstrap: 2000 }']))).rejects.toThrow(ceiling('seeds', 'seeds'));
    await expect(loadGrid(gridFile({}, ['limits: { trails: 5 }']))).rejects.toThrow(/field `limits.trails`: Unknown field `trails`; did you mean `trials`?/);
  });

  it('keeps every bundled grid under the default ceilings', async () => {
    for (const name of await readdir('grids')) await expect(loadGrid(path.join('grids', name)), name).resolves.toBeDefined();
  });

  it('estimates memory from the data, the weights four times over, a batch of activations and the history', () => {
    const train = { epochs: 4000, batchSize: 32 } as never;
    const data = { kind: 'moons', samples: 100 } as never;
    const small = estimateTrialMiB(data, { kind: 'mlp', hidden: [500], activation: 'relu' }, train);
    // 100 points × 3 × 8 B + (3·500 + 501) params × 16 B + 32 × 500 × 12 B + 4000 × 32 B
    expect(small * 1024 * 1024).toBeCloseTo(2400 + 2001 * 16 + 32 * 500 * 12 + 4000 * 32, 6);
    const big = estimateTrialMiB(data, { kind: 'mlp', hidden: [10000, 10000], activation: 'relu' }, train);
    expect(big).toBeGreaterThan(1500);
  });
});

describe('ceilings before anything runs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fitgrid-limits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['validate', 'plan', 'run', 'launch'])('`%s` exits 2 with one line and writes nothing', async (command) => {
    const file = gridText('name: huge\ndata: { kind: moons }\nmodel: { kind: mlp }\ntrain: { epochs: 5 }\nseeds: 1000000000\n');
    const store = path.join(dir, command);
    const extra = command === 'validate' ? [] : command === 'launch' ? ['--store', 's3://bucket/x', '--queue', 'q', '--job-definition', 'd', '--dry-run'] : ['--store', store];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'fitgrid', command, file, ...extra])).toBe(2);
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0][0])).toMatch(/field `seeds`: The number of seeds is 1,000,000,000, above the ceiling of 1,000/);
      expect(existsSync(store)).toBe(false);
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
  });
});
