import { describe, expect, test } from 'vitest';
import { expandGrid } from '../../runner/grid/expand.ts';
import { loadGrid } from '../../runner/grid/load.ts';
import { buildManifest, DEFAULT_PACK_SIZE, defaultPackSize, packKey, planPacks, replayKey, trialEpochs } from '../../runner/grid/plan.ts';
import type { Trial } from '../../runner/records/config.ts';
import type { Pack } from '../../runner/records/manifest.ts';
import { RESULT_FORMAT } from '../../runner/records/result.ts';
import { fitgridVersion } from '../../runner/version.ts';

const byId = (trials: Trial[]) => new Map(trials.map((t) => [t.trialId, t]));

/** Every trial in exactly one pack, packs indexed in order. */
function expectPartition(trials: Trial[], packs: Pack[]) {
  expect(packs.map((p) => p.index)).toEqual(packs.map((_, i) => i));
  const packed = packs.flatMap((p) => p.trialIds);
  expect(packed.sort()).toEqual(trials.map((t) => t.trialId).sort());
}

describe('planPacks', () => {
  test('keeps the patience values of one run in one pack and respects the pack size', async () => {
    const trials = expandGrid(await loadGrid('grids/moons-sweep.yaml'));
    const packs = planPacks(trials, { packSize: 10 });
    expectPartition(trials, packs);
    expect(Math.max(...packs.map((p) => p.trialIds.length))).toBeLessThanOrEqual(10);
    // 3 patience values per run: packs of 9, never 10.
    expect(packs.every((p) => p.trialIds.length === 9)).toBe(true);
    const packOf = new Map(packs.flatMap((p) => p.trialIds.map((id) => [id, p.index] as const)));
    const runs = new Map<string, Set<number>>();
    for (const t of trials) runs.set(replayKey(t), (runs.get(replayKey(t)) ?? new Set()).add(packOf.get(t.trialId)!));
    expect(runs.size).toBe(72);
    expect([...runs.values()].every((s) => s.size === 1)).toBe(true);
  });

  test('a run with more patience values than the pack size is a pack of its own', async () => {
    const trials = expandGrid(await loadGrid('grids/moons-sweep.yaml'));
    const packs = planPacks(trials, { packSize: 2 });
    expectPartition(trials, packs);
    expect(packs).toHaveLength(72);
    expect(packs.every((p) => p.trialIds.length === 3)).toBe(true);
  });

  test('never mixes trials of different models or training specs', async () => {
    const trials = expandGrid(await loadGrid('grids/seed-article.yaml'));
    const packs = planPacks(trials);
    expectPartition(trials, packs);
    const index = byId(trials);
    for (const pack of packs) expect(new Set(pack.trialIds.map((id) => packKey(index.get(id)!))).size).toBe(1);
    // Base and L2 share a model and spec; the dropout and early-stopping experiments do not.
    expect(packs.map((p) => p.trialIds.length)).toEqual([10, 5, 5]);
  });

  test('uses DEFAULT_PACK_SIZE when no size is given, in packs of even size', async () => {
    const trials = expandGrid(await loadGrid('grids/moons-sweep.yaml'));
    const packs = planPacks(trials);
    expect(packs.map((p) => p.trialIds.length)).toEqual(Array(Math.ceil(216 / DEFAULT_PACK_SIZE)).fill(216 / Math.ceil(216 / DEFAULT_PACK_SIZE)));
  });

  test('defaultPackSize makes at least one pack per worker, never more than DEFAULT_PACK_SIZE trials', () => {
    expect(defaultPackSize(48, 2)).toBe(24);
    expect(defaultPackSize(1000, 2)).toBe(DEFAULT_PACK_SIZE);
    expect(defaultPackSize(3, 8)).toBe(1);
    expect(defaultPackSize(0, 2)).toBe(1);
  });

  test('rejects a pack size below 1', () => {
    expect(() => planPacks([], { packSize: 0 })).toThrow('Expected `packSize` to be an integer from 1 and up, got 0');
  });
});

describe('trialEpochs and buildManifest', () => {
  test('a trial costs its full run, early stopping or not', async () => {
    const trials = expandGrid(await loadGrid('grids/seed-article.yaml'));
    expect([...new Set(trials.map(trialEpochs))]).toEqual([4000, 500, 2000]);
  });

  test('the manifest carries the grid, its source, trials, packs and versions', async () => {
    const grid = await loadGrid('grids/smoke.yaml');
    const trials = expandGrid(grid);
    const packs = planPacks(trials);
    const manifest = buildManifest(grid, 'source text', trials, packs, { abc: 'AAAA' });
    expect(manifest).toMatchObject({ fitgridVersion, formatVersion: RESULT_FORMAT, sweep: 'smoke', gridSource: 'source text', dataFiles: { abc: 'AAAA' } });
    expect(manifest.trials).toBe(trials);
    expect(manifest.packs).toBe(packs);
    expect(Date.parse(manifest.createdAt)).not.toBeNaN();
  });
});
