import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadGrid } from '../../runner/grid/load.ts';
import { DEFAULT_VERDICT } from '../../runner/grid/schema.ts';
import { gridFile, gridText, loadError } from './helpers.ts';

describe('loadGrid bad input: one line with file:line and field, exit code 2', () => {
  const cases: [string, Record<number, string>, string[], number, string, string][] = [
    ['a wrong type', { 4: 'train: { epochs: five }' }, [], 4, 'train.epochs', 'Expected `epochs` to be an integer ≥ 1, got "five"'],
    ['a section of the wrong type', { 3: 'model: [8]' }, [], 3, 'model', 'Expected `model` to be a mapping with a `kind` (one of `mlp`, `cnn`), got [8]'],
    ['an unknown field with a close name', { 3: 'model: { kind: mlp, hiden: [8] }' }, [], 3, 'model.hiden', 'Unknown field `hiden`; did you mean `hidden`?'],
    ['an unknown field in snake_case', { 4: 'train: { epochs: 5, batch_size: 8 }' }, [], 4, 'train.batch_size', 'Unknown field `batch_size`; did you mean `batchSize`?'],
    ['an unknown field rather than the missing one it replaces', { 2: 'data: { kind: moons, split: { trian: 20 } }' }, [], 2, 'data.split.trian', 'Unknown field `trian`; did you mean `train`?'],
    ['a CNN on points', { 3: 'model: { kind: cnn }' }, [], 3, 'model.kind', 'A `cnn` needs image data (`digits`, `images` or `idx`), not `moons`'],
    ['an include that puts a CNN on points', {}, ['include:', '  - model: { kind: cnn }'], 12, 'include[0].model.kind', 'A `cnn` needs image data (`digits`, `images` or `idx`), not `moons`'],
    ['an unknown field with no close name', {}, ['colour: blue'], 11, 'colour', 'Unknown field `colour`'],
    ['an unknown data kind', { 2: 'data: { kind: moon }' }, [], 2, 'data.kind', 'Expected `kind` to be one of `moons`, `circles`, `csv`, `digits`, `images`, `idx`, got "moon"'],
    ['a negative L2', { 6: '  l2: [0, -0.01]' }, [], 6, 'grid.l2[1]', 'Expected `l2` to be a number ≥ 0 (an L2 coefficient), got -0.01'],
    ['a dropout of 1', { 7: '  dropout: [0, 1]' }, [], 7, 'grid.dropout[1]', 'Expected `dropout` to be a dropout rate from 0 up to (not including) 1, got 1'],
    ['a negative dropout', { 7: '  dropout: [0, -0.1]' }, [], 7, 'grid.dropout[1]', 'Expected `dropout` to be a dropout rate from 0 up to (not including) 1, got -0.1'],
    ['a dropout of 1 inside a per-layer list', { 3: 'model: { kind: mlp, hidden: [8, 8] }', 7: '  dropout: [0, [0.5, 1.5]]' }, [], 7, 'grid.dropout[1][1]', 'Expected `dropout` to be a dropout rate from 0 up to (not including) 1, got 1.5'],
    ['a per-layer dropout list of the wrong length', { 7: '  dropout: [0, [0.5, 0.2]]' }, [], 7, 'grid.dropout[1]', 'Expected `dropout` to have one rate per hidden layer (1), got 2'],
    ['an empty axis', { 6: '  l2: []' }, [], 6, 'grid.l2', 'Expected `l2` to be a non-empty list of L2 coefficients, got []'],
    ['duplicate values on an axis', { 6: '  l2: [0, 0.01, 0.01]' }, [], 6, 'grid.l2[2]', 'Duplicate value on axis `l2`: 0.01 (same as `grid.l2[1]`)'],
    ['augmentations equal once canonical', { 8: '  augmentation: [{ jitter: 0.05 }, { rotation: 0, jitter: 0.05 }]' }, [], 8, 'grid.augmentation[1]', 'Duplicate value on axis `augmentation`: {"rotation":0,"jitter":0.05} (same as `grid.augmentation[0]`)'],
    ['`none` and null on the augmentation axis', { 8: '  augmentation: [none, null]' }, [], 8, 'grid.augmentation[1]', 'Duplicate value on axis `augmentation`: null (same as `grid.augmentation[0]`)'],
    ['an image augmentation on points', { 8: '  augmentation: [none, { shift: 0.1 }]' }, [], 8, 'grid.augmentation[1].shift', '`shift` augments images; `moons` data takes jitter, rotation and scale'],
    ['an include naming an unknown axis', {}, ['include:', '  - lr: 0.1'], 12, 'include[0].lr', 'Unknown field `lr`; did you mean `l2`?'],
    ['an exclude naming an unknown field of a section', {}, ['exclude:', '  - model: { hiden: [3] }'], 12, 'exclude[0].model.hiden', 'Unknown field `hiden`; did you mean `hidden`?'],
    ['an include with a value of the wrong type', {}, ['include:', '  - train: { epochs: -3 }'], 12, 'include[0].train.epochs', 'Expected `epochs` to be an integer ≥ 1, got -3'],
    ['an include whose dropout list does not fit its model', {}, ['include:', '  - model: { hidden: [8, 4] }', '    dropout: [0.5]'], 13, 'include[0].dropout', 'Expected `dropout` to have one rate per hidden layer (2), got 1'],
    ['seeds < 1', { 10: 'seeds: 0' }, [], 10, 'seeds', 'Expected `seeds` to be an integer ≥ 1 (that many seeds from 0) or a non-empty list of distinct integers ≥ 0, got 0'],
    ['a seed listed twice', { 10: 'seeds: [1, 2, 1]' }, [], 10, 'seeds[2]', 'Duplicate seed 1 (same as `seeds[0]`)'],
    ['a name with capitals', { 1: 'name: Moons_1' }, [], 1, 'name', 'Expected `name` to be a sweep name of lowercase letters, digits and dashes, got "Moons_1"'],
    ['a missing required field', { 4: 'train: { batchSize: 8 }' }, [], 4, 'train.epochs', 'Missing required field `epochs`: expected an integer ≥ 1'],
    ['a first-N split as large as the data', { 2: 'data: { kind: moons, samples: 40, split: { train: 40 } }' }, [], 2, 'data.split.train', 'Expected `train` to be less than `samples` (40), got 40'],
  ];
  test.each(cases)('%s', async (_, replace, extra, line, field, message) => {
    const file = gridFile(replace, extra);
    const error = await loadError(file);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`${file}:${line}: field \`${field}\`: ${message}`);
    expect(error.message).not.toContain('\n');
  });

  test('a missing grid file names the file', async () => {
    const error = await loadError('no/such/grid.yaml');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('no/such/grid.yaml: Cannot read grid file (no such file)');
  });

  test('YAML that does not parse names its line', async () => {
    const file = gridFile({ 3: 'model: { kind: mlp' });
    const error = await loadError(file);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: YAML does not parse: Flow map`));
    expect(error.message).not.toContain('\n');
  });

  test('a key given twice is a YAML error on its second line', async () => {
    const error = await loadError(gridFile({}, ['name: u']));
    expect(error.message).toMatch(/:11: YAML does not parse: Map keys must be unique$/);
  });

  test('a csv path that does not exist names the data path field', async () => {
    const file = gridFile({ 2: 'data: { kind: csv, path: nope.csv, label: y }' });
    const error = await loadError(file);
    expect(error.message).toBe(`${file}:2: field \`data.path\`: Cannot read data file ${path.join(path.dirname(file), 'nope.csv')} (no such file)`);
  });
});

describe('loadGrid', () => {
  test('fills the defaults: Keras Adam, a shuffled split, the verdict thresholds, one value per absent axis', async () => {
    const grid = await loadGrid(gridText('name: d\ndata: { kind: circles }\nmodel: { kind: mlp }\ntrain: { epochs: 3 }\n'));
    expect(grid.data).toEqual({ kind: 'circles', samples: 100, noise: 0, factor: 0.8, randomState: 0, shuffle: true, split: { kind: 'fraction', trainFraction: 0.75, stratify: true, seed: 0 } });
    expect(grid.model).toEqual({ kind: 'mlp', hidden: [64], activation: 'relu' });
    expect(grid.train).toEqual({
      epochs: 3, batchSize: 32, shuffle: true, minDelta: 0, restoreBest: true, engine: 'auto',
      optimizer: { kind: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    });
    expect(grid.axes).toEqual({ l2: [0], dropout: [0], augmentation: [null], patience: [null] });
    expect(grid.seeds).toEqual([0]);
    expect(grid.bootstrap).toBe(0);
    expect(grid.verdict).toEqual(DEFAULT_VERDICT);
    expect(grid.description).toBe('');
  });

  test('normalises axis values: `none` is null, off augmentation options are dropped, seeds: N counts from 0', async () => {
    const grid = await loadGrid(gridFile({ 8: '  augmentation: [none, { jitter: 0.05, rotation: 0, flip: false }]', 10: 'seeds: 3' }));
    expect(grid.axes.augmentation).toEqual([null, { jitter: 0.05 }]);
    expect(grid.seeds).toEqual([0, 1, 2]);
    expect(grid.data.split).toEqual({ kind: 'first', train: 20 });
  });

  test('accepts a list of distinct seeds as given', async () => {
    const grid = await loadGrid(gridFile({ 10: 'seeds: [7, 3]' }));
    expect(grid.seeds).toEqual([7, 3]);
  });

  test('fills a CNN with blocks that fit 8×8 digits, and checks per-layer dropout over blocks then dense layers', async () => {
    const grid = await loadGrid(gridText('name: c\ndata: { kind: digits, trainSize: 300 }\nmodel: { kind: cnn }\ntrain: { epochs: 2 }\ngrid: { dropout: [[0.1, 0.2, 0.3]] }\n'));
    expect(grid.model).toEqual({ kind: 'cnn', blocks: [{ filters: 16, kernel: 3, pool: 2 }, { filters: 32, kernel: 3, pool: 2 }], dense: [64], activation: 'relu' });
    expect(grid.data).toEqual({ kind: 'digits', trainSize: 300, classes: null, split: { kind: 'fraction', trainFraction: 0.75, stratify: true, seed: 0 } });
  });

  test('resolves a csv path next to the grid file and fills the sha256 of its bytes', async () => {
    const file = path.resolve('test/fixtures/grids/csv-points.yaml');
    const grid = await loadGrid(path.relative(process.cwd(), file));
    const bytes = readFileSync(path.resolve('test/fixtures/grids/points.csv'));
    expect(grid.file).toBe(file);
    expect(grid.data).toMatchObject({ kind: 'csv', path: 'points.csv', label: 'label', standardize: false });
    expect(grid.data.kind === 'csv' && grid.data.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  test('keeps whole, merged sections in includes and partial ones in excludes', async () => {
    const grid = await loadGrid(gridFile({}, [
      'include:',
      '  - { model: { hidden: [16, 8] }, dropout: [0.5, 0.25], train: { epochs: 9 } }',
      'exclude:',
      '  - { model: { hidden: [8] }, augmentation: none }',
    ]));
    expect(grid.include).toEqual([{
      model: { kind: 'mlp', hidden: [16, 8], activation: 'relu' },
      dropout: [0.5, 0.25],
      train: { ...grid.train, epochs: 9 },
    }]);
    expect(grid.exclude).toEqual([{ model: { hidden: [8] }, augmentation: null }]);
  });

  test('loads every bundled grid file', async () => {
    for (const name of ['seed-article', 'moons-sweep', 'smoke', 'digits-augment']) {
      const grid = await loadGrid(`grids/${name}.yaml`);
      expect(grid.name).toBe(name);
      expect(grid.description.length).toBeGreaterThan(40);
    }
  });
});
