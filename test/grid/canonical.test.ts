import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { canonicalJson, cellId, trialId } from '../../runner/grid/canonical.ts';
import { expandGrid } from '../../runner/grid/expand.ts';
import { loadGrid } from '../../runner/grid/load.ts';
import type { TrialConfig } from '../../runner/records/config.ts';
import { gridText, tempDir } from './helpers.ts';

const ids = async (text: string) => expandGrid(await loadGrid(gridText(text))).map((t) => t.trialId).sort();

const SWEEP = `name: ids
data: { kind: moons, samples: 40, noise: 0.1, randomState: 3, split: { train: 20 } }
model: { kind: mlp, hidden: [8], activation: tanh }
train: { epochs: 5, optimizer: { kind: adam, learningRate: 0.01 } }
grid:
  l2: [0, 0.01]
  augmentation: [none, { jitter: 0.05, rotation: 5 }]
  patience: [null, 3]
seeds: 2
`;

describe('canonicalJson', () => {
  test('sorts keys at every depth and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: null }], c: undefined } })).toBe('{"a":{"d":[1,{"y":null,"z":0}]},"b":1}');
  });

  test('refuses numbers that have no JSON form', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/NaN/);
  });
});

describe('trial and cell ids', () => {
  test('reordering keys in the YAML changes no id', async () => {
    const reordered = `seeds: 2
grid:
  patience: [null, 3]
  augmentation: [none, { rotation: 5, jitter: 0.05 }]
  l2: [0, 0.01]
train: { optimizer: { learningRate: 0.01, kind: adam }, epochs: 5 }
model: { activation: tanh, hidden: [8], kind: mlp }
data: { split: { train: 20 }, randomState: 3, noise: 0.1, samples: 40, kind: moons }
name: ids
`;
    expect(await ids(reordered)).toEqual(await ids(SWEEP));
  });

  test('reordering the values of an axis changes no id', async () => {
    const swapped = SWEEP.replace('l2: [0, 0.01]', 'l2: [0.01, 0]').replace('patience: [null, 3]', 'patience: [3, null]');
    expect(await ids(swapped)).toEqual(await ids(SWEEP));
  });

  test('spelling out a default changes no id', async () => {
    const explicit = SWEEP.replace('epochs: 5,', 'epochs: 5, batchSize: 32, shuffle: true,').replace('seeds: 2', 'seeds: [0, 1]');
    expect(await ids(explicit)).toEqual(await ids(SWEEP));
  });

  test('changing any value of a config changes the trial and cell ids', async () => {
    const [trial] = expandGrid(await loadGrid(gridText(SWEEP)));
    const base = trial.config;
    // Every leaf of the config, changed one at a time.
    const leaves: (string | number)[][] = [];
    const walk = (v: unknown, at: (string | number)[]) => {
      if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...at, Array.isArray(v) ? Number(k) : k]);
      else leaves.push(at);
    };
    walk(base, []);
    expect(leaves.length).toBeGreaterThan(20);
    for (const leaf of leaves) {
      const changed = structuredClone(base) as unknown as Record<string | number, unknown>;
      let parent = changed;
      for (const seg of leaf.slice(0, -1)) parent = parent[seg] as Record<string | number, unknown>;
      const key = leaf.at(-1)!;
      const v = parent[key];
      parent[key] = typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : typeof v === 'string' ? `${v}x` : 1;
      const config = changed as unknown as TrialConfig;
      expect(cellId(config), leaf.join('.')).not.toBe(trial.cellId);
      expect(trialId(config, trial.seed, trial.replicate), leaf.join('.')).not.toBe(trial.trialId);
    }
  });

  test('seed and replicate change the trial id but not the cell id', async () => {
    const [trial] = expandGrid(await loadGrid(gridText(SWEEP)));
    const { config, seed } = trial;
    expect(trialId(config, seed, null)).toBe(trial.trialId);
    expect(cellId(config)).toBe(trial.cellId);
    expect(new Set([trialId(config, seed, null), trialId(config, seed + 1, null), trialId(config, seed, 0), trialId(config, seed, 1)]).size).toBe(4);
  });

  test('ids are 16 hex digits', async () => {
    const [trial] = expandGrid(await loadGrid(gridText(SWEEP)));
    expect(trial.trialId).toMatch(/^[0-9a-f]{16}$/);
    expect(trial.cellId).toMatch(/^[0-9a-f]{16}$/);
  });

  test('csv data: the same bytes anywhere give the same ids, other bytes other ids', async () => {
    const here = path.resolve('test/fixtures/grids');
    const [a, b] = [tempDir(), tempDir()];
    cpSync(path.join(here, 'csv-points.yaml'), path.join(a, 'grid.yaml'));
    cpSync(path.join(here, 'points.csv'), path.join(a, 'points.csv'));
    // Elsewhere, under another name, same bytes.
    writeFileSync(path.join(b, 'grid.yaml'), readFileSync(path.join(here, 'csv-points.yaml'), 'utf8').replace('path: points.csv', 'path: data/other-name.csv'));
    cpSync(path.join(here, 'points.csv'), path.join(b, 'data', 'other-name.csv'));
    const idsOf = async (dir: string) => expandGrid(await loadGrid(path.join(dir, 'grid.yaml'))).map((t) => t.trialId);
    expect(await idsOf(b)).toEqual(await idsOf(a));
    writeFileSync(path.join(b, 'data', 'other-name.csv'), 'x0,x1,label\n0.1,0.2,a\n0.3,-0.1,b\n1.5,0.7,b\n');
    expect(await idsOf(b)).not.toEqual(await idsOf(a));
  });
});
