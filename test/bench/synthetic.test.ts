import { mkdtemp, rm } from 'node:fs/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadGrid } from '../../runner/grid/load.ts';
import { loadDataset } from '../../runner/data/load.ts';
import { syntheticData, syntheticResult, syntheticTrials } from '../../runner/bench/synthetic.ts';
import { openStore } from '../../runner/store/open.ts';
import { manifestKey, trialKey, trialsPrefix } from '../../runner/store/keys.ts';
import { getTrialResult } from '../../runner/store/results.ts';
import { UserError } from '../../runner/errors.ts';
import type { Manifest } from '../../runner/records/manifest.ts';

// The Astro build has its own tests; here the report's summary must read every synthetic result.
vi.mock('../../runner/report/site-build.ts', () => ({
  buildSite: async (_summary: unknown, out: string) => {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'index.html'), '<h1>site</h1>');
    return join(out, 'index.html');
  },
}));

const dirs: string[] = [];
const tempStore = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fitgrid-synth-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const quiet = () => vi.spyOn(process.stdout, 'write').mockImplementation(() => true);

describe('syntheticTrials', () => {
  it('takes whole seeds over every cell and cuts the last one short for --trials', async () => {
    const grid = await loadGrid('grids/moons-scale.yaml');
    const { trials } = syntheticTrials(grid, { trials: 1000 });
    expect(trials).toHaveLength(1000);
    expect(new Set(trials.slice(0, 960).map((t) => t.cellId)).size).toBe(480);
    expect(trials.slice(0, 480).every((t) => t.seed === 0)).toBe(true);
    expect(trials.slice(960).every((t) => t.seed === 2)).toBe(true);
  });

  it('uses the number of seeds --seeds asks for', async () => {
    const grid = await loadGrid('grids/smoke.yaml');
    expect(syntheticTrials(grid).trials).toHaveLength(8);
    const { trials, grid: scaled } = syntheticTrials(grid, { seeds: 5 });
    expect(trials).toHaveLength(20);
    expect(scaled.seeds).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('syntheticResult', () => {
  it('overfits without remedies and stays flat with a strong L2 penalty, and is the same every time', async () => {
    const grid = await loadGrid('grids/moons-scale.yaml');
    const trials = syntheticTrials(grid, { seeds: 1 }).trials;
    const synth = syntheticData(await loadDataset(grid.data, { baseDir: 'grids', dataFiles: {} }));
    const pick = (l2: number) => trials.find((t) => t.config.l2 === l2 && t.config.dropout === 0 && !t.config.augmentation && t.config.patience === null)!;
    const rates = { failed: 0, diverged: 0 };
    const bare = syntheticResult(pick(0), synth, { sweep: 'x', rates });
    const l2 = syntheticResult(pick(0.01), synth, { sweep: 'x', rates });
    const rise = (h: number[]) => h.at(-1)! / Math.min(...h);
    expect(rise(bare.history.val_loss) - 1).toBeGreaterThan(3 * (rise(l2.history.val_loss) - 1));
    expect(bare.final.loss).toBeLessThan(l2.final.loss);
    expect(bare.final.val_loss).toBeGreaterThan(l2.final.val_loss);
    expect(bare.surface?.values).toHaveLength(80 * 80);
    expect(bare.valProba).toHaveLength(200);
    expect(bare.history.val_loss.at(bare.bestEpoch - 1)).toBeCloseTo(bare.final.val_loss, 6);
    expect(syntheticResult(pick(0), synth, { sweep: 'x', rates }).history).toEqual(bare.history);
  });

  it('replays patience from the same curve, as the engines do', async () => {
    const grid = await loadGrid('grids/moons-scale.yaml');
    const trials = syntheticTrials(grid, { seeds: 1 }).trials;
    const synth = syntheticData(await loadDataset(grid.data, { baseDir: 'grids', dataFiles: {} }));
    const same = trials.filter((t) => t.config.l2 === 0 && t.config.dropout === 0 && !t.config.augmentation);
    const [full, early] = [null, 20].map((p) => syntheticResult(same.find((t) => t.config.patience === p)!, synth, { sweep: 'x', rates: { failed: 0, diverged: 0 } }));
    expect(early.stoppedEpoch).toBeLessThan(full.stoppedEpoch);
    expect(early.history.val_loss.length).toBe(early.stoppedEpoch);
    // same training, so the curves are proportional up to the stop (each is scaled to its own kept model)
    const ratio = full.history.val_loss[5] / early.history.val_loss[5];
    expect(full.history.val_loss[early.stoppedEpoch - 1] / early.history.val_loss[early.stoppedEpoch - 1]).toBeCloseTo(ratio, 6);
  });
});

describe('fitgrid synth', () => {
  it('writes the manifest and the requested number of results, which fitgrid report reads', async () => {
    const { synthesize: synth } = await import('../../runner/bench/synth.ts');
    const { report } = await import('../../runner/commands/report.ts');
    const dir = await tempStore();
    const write = quiet();
    try {
      const summary = await synth({ grid: 'grids/moons-scale.yaml', store: dir, trials: 40, failed: 0.2, diverged: 0.1, });
      expect(summary.trials).toBe(40);
      expect(summary.statuses.ok + summary.statuses.failed + summary.statuses.diverged).toBe(40);
      expect(summary.statuses.failed).toBeGreaterThan(0);
      expect(summary.statuses.diverged).toBeGreaterThan(0);
      const store = await openStore(dir);
      const manifest = JSON.parse(new TextDecoder().decode(await store.get(manifestKey('moons-scale')))) as Manifest;
      expect(manifest.trials).toHaveLength(40);
      expect(manifest.packs.flatMap((p) => p.trialIds).sort()).toEqual(manifest.trials.map((t) => t.trialId).sort());
      expect(await store.list(trialsPrefix)).toHaveLength(40);
      const diverged = [];
      for (const t of manifest.trials) {
        const r = (await getTrialResult(store, t.trialId))!;
        expect(r.cellId).toBe(t.cellId);
        if (r.status === 'diverged') diverged.push(r);
        if (r.status === 'ok') expect(r.history.loss).toHaveLength(r.stoppedEpoch);
      }
      expect(diverged[0].error).toMatch(/loss became NaN at epoch/);
      const { summary: reported } = await report({ sweep: 'moons-scale', store: dir });
      expect(reported.counts).toMatchObject({ trials: 40, ok: summary.statuses.ok, failed: summary.statuses.failed, diverged: summary.statuses.diverged, missing: 0 });
    } finally {
      write.mockRestore();
    }
  });

  it('writes the same results on worker threads as on the main thread', async () => {
    const { synthesize: synth } = await import('../../runner/bench/synth.ts');
    const [one, two] = [await tempStore(), await tempStore()];
    const write = quiet();
    try {
      // 160 trials are three batches: two threads share them
      const options = { grid: 'grids/smoke.yaml', seeds: 40, };
      const threaded = await synth({ ...options, store: two, threads: 2 });
      const single = await synth({ ...options, store: one, threads: 1 });
      expect(threaded.statuses).toEqual(single.statuses);
      const [a, b] = [await openStore(one), await openStore(two)];
      const keys = await a.list(trialsPrefix);
      expect(keys).toHaveLength(160);
      expect(await b.list(trialsPrefix)).toEqual(keys);
      const text = async (store: typeof a, key: string) => new TextDecoder().decode(await store.get(key)).replace(/"finishedAt":"[^"]*"/, '');
      for (const key of keys) expect(await text(b, key)).toBe(await text(a, key));
    } finally {
      write.mockRestore();
    }
  });

  it('refuses a store that holds trained results', async () => {
    const { synthesize: synth } = await import('../../runner/bench/synth.ts');
    const dir = await tempStore();
    await (await openStore(dir)).put(trialKey('0123456789abcdef'), '{}');
    await expect(synth({ grid: 'grids/smoke.yaml', store: dir, })).rejects.toThrow(UserError);
    await expect(synth({ grid: 'grids/smoke.yaml', store: dir, })).rejects.toThrow(/already holds trained results/);
  });
});
