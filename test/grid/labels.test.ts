import { describe, expect, it } from 'vitest';
import { loadGrid } from '../../runner/grid/load.ts';
import { expandGrid } from '../../runner/grid/expand.ts';
import { setupDifferences } from '../../runner/grid/labels.ts';

describe('setupDifferences', () => {
  it('names the model and epochs of the seed article\'s include cells, which the remedy axes alone do not tell apart', async () => {
    const trials = expandGrid(await loadGrid('grids/seed-article.yaml'));
    const cells = [...new Map(trials.map((t) => [t.cellId, t.config])).values()];
    const labels = setupDifferences(cells);
    expect(labels).toEqual([
      'MLP [500] relu · 4000 epochs',
      'MLP [500] relu · 4000 epochs',
      'MLP [500, 128] relu · 500 epochs',
      'MLP [128] relu · 2000 epochs',
    ]);
  });

  it('adds nothing when every cell shares the model and the training', async () => {
    const trials = expandGrid(await loadGrid('grids/moons-sweep.yaml'));
    const cells = [...new Map(trials.map((t) => [t.cellId, t.config])).values()];
    expect(new Set(setupDifferences(cells))).toEqual(new Set(['']));
  });
});
