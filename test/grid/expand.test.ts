import { describe, expect, test } from 'vitest';
import { countCells, expandGrid, matchesPartial } from '../../runner/grid/expand.ts';
import { loadGrid } from '../../runner/grid/load.ts';
import { gridFile } from './helpers.ts';

describe('expandGrid', () => {
  test('moons-sweep is 216 trials in 72 cells, each cell once per seed', async () => {
    const trials = expandGrid(await loadGrid('grids/moons-sweep.yaml'));
    expect(trials).toHaveLength(216);
    expect(countCells(trials)).toBe(72);
    expect(new Set(trials.map((t) => t.trialId)).size).toBe(216);
    expect(trials.filter((t) => t.cellId === trials[0].cellId).map((t) => t.seed)).toEqual([0, 1, 2]);
    expect(trials.every((t) => t.replicate === null)).toBe(true);
  });

  test('orders the product l2 outermost and patience innermost, seeds within a cell', async () => {
    const trials = expandGrid(await loadGrid(gridFile()));
    expect(trials.map((t) => [t.config.l2, t.config.dropout, t.config.patience, t.seed])).toEqual([
      [0, 0, null, 0], [0, 0, null, 1], [0, 0, 3, 0], [0, 0, 3, 1],
      [0, 0.5, null, 0], [0, 0.5, null, 1], [0, 0.5, 3, 0], [0, 0.5, 3, 1],
      [0.01, 0, null, 0], [0.01, 0, null, 1], [0.01, 0, 3, 0], [0.01, 0, 3, 1],
      [0.01, 0.5, null, 0], [0.01, 0.5, null, 1], [0.01, 0.5, 3, 0], [0.01, 0.5, 3, 1],
    ]);
  });

  test('seed-article adds its three experiments through include over the one-cell base', async () => {
    const trials = expandGrid(await loadGrid('grids/seed-article.yaml'));
    expect(trials).toHaveLength(20);
    expect(countCells(trials)).toBe(4);
    const cells = [...new Map(trials.map((t) => [t.cellId, t.config])).values()];
    expect(cells.map((c) => [c.model.kind === 'mlp' && c.model.hidden, c.l2, c.dropout, c.patience, c.train.epochs])).toEqual([
      [[500], 0, 0, null, 4000],
      [[500], 0.001, 0, null, 4000],
      [[500, 128], 0, [0.5, 0.25], null, 500],
      [[128], 0, 0, 200, 2000],
    ]);
    expect(cells.every((c) => c.train.optimizer.learningRate === 0.001 && c.train.batchSize === 32 && c.data.kind === 'moons')).toBe(true);
  });

  test('exclude drops the trials that match every field it names', async () => {
    const trials = expandGrid(await loadGrid(gridFile({}, ['exclude:', '  - { l2: 0.01, patience: 3 }'])));
    expect(trials).toHaveLength(12);
    expect(trials.some((t) => t.config.l2 === 0.01 && t.config.patience === 3)).toBe(false);
  });

  test('exclude matches sections by deep subset and lists by equality', async () => {
    const all = expandGrid(await loadGrid(gridFile({}, ['exclude:', '  - { model: { hidden: [8] }, data: { split: { train: 20 } } }'])));
    expect(all).toHaveLength(0);
    const none = expandGrid(await loadGrid(gridFile({}, ['exclude:', '  - { model: { hidden: [8, 8] } }'])));
    expect(none).toHaveLength(16);
  });

  test('include fills axes it does not name with their first value and survives exclude', async () => {
    const trials = expandGrid(await loadGrid(gridFile({}, ['exclude:', '  - { l2: 0 }', 'include:', '  - { patience: 7, train: { epochs: 9 } }'])));
    expect(trials).toHaveLength(10);
    const included = trials.filter((t) => t.config.patience === 7);
    expect(included.map((t) => [t.config.l2, t.config.dropout, t.config.augmentation, t.config.train.epochs, t.seed])).toEqual([
      [0, 0, null, 9, 0], [0, 0, null, 9, 1],
    ]);
  });

  test('an include equal to a cell of the product adds no trial', async () => {
    const trials = expandGrid(await loadGrid(gridFile({}, ['include:', '  - { l2: 0.01, dropout: 0.5, patience: 3 }'])));
    expect(trials).toHaveLength(16);
  });

  test('bootstrap multiplies every seed by its replicates 0..B-1', async () => {
    const trials = expandGrid(await loadGrid(gridFile({}, ['bootstrap: 3'])));
    expect(trials).toHaveLength(48);
    expect(countCells(trials)).toBe(8);
    expect(trials.slice(0, 6).map((t) => [t.seed, t.replicate])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
  });

  test('matchesPartial compares nested mappings by subset and other values by equality', () => {
    const config = { model: { kind: 'mlp', hidden: [8, 4] }, l2: 0, augmentation: null };
    expect(matchesPartial(config, { model: { hidden: [8, 4] } })).toBe(true);
    expect(matchesPartial(config, { model: { hidden: [8] } })).toBe(false);
    expect(matchesPartial(config, { augmentation: null, l2: 0 })).toBe(true);
    expect(matchesPartial(config, { augmentation: { jitter: 0.1 } })).toBe(false);
  });
});
