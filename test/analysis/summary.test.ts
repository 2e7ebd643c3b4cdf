import { describe as group, expect, it } from 'vitest';
import { buildSummary, MIN_CURVE_POINTS, summarize, writeSummary } from '../../runner/analysis/summary.ts';
import { curves, MAX_CURVE_POINTS, meanHistory } from '../../runner/analysis/curves.ts';
import { encodeTrialResult, readTrialResult } from '../../runner/records/result-codec.ts';
import { downsampleIndices } from '../../runner/analysis/downsample.ts';
import { manifestKey, summaryKey, trialKey } from '../../runner/store/keys.ts';
import type { SweepSummary } from '../../runner/records/summary.ts';
import { UserError } from '../../runner/errors.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { makeGrid, makeManifest, makeResult, makeTrial } from '../fixtures/summary/make.ts';
import { generateImageSweep, generateSweep } from '../fixtures/summary/generate.ts';

/**
 * Written by hand: the no-remedy cell (two ok seeds, one of them overfitting), a dropout cell
 * whose seed 1 failed, and an early-stopping cell with nothing stored yet.
 */
function handMadeStore() {
  const grid = makeGrid({ axes: { l2: [0], dropout: [0, 0.5], augmentation: [null], patience: [null, 2] } });
  const base = { l2: 0, dropout: 0, augmentation: null, patience: null };
  const drop = { l2: 0, dropout: 0.5, augmentation: null, patience: null };
  const early = { l2: 0, dropout: 0, augmentation: null, patience: 2 };
  // listed out of grid order on purpose: cells come out in axis order
  const trials = [makeTrial(grid, drop, 0), makeTrial(grid, drop, 1), makeTrial(grid, base, 0), makeTrial(grid, base, 1), makeTrial(grid, early, 0)];
  const store = new MemoryStore();
  store.putJson(manifestKey('fixture'), makeManifest(grid, trials));
  const put = (r: ReturnType<typeof makeResult>) => store.putJson(trialKey(r.trialId), r);
  put(makeResult(trials[0], { loss: [0.9, 0.6, 0.5, 0.45], val_loss: [0.8, 0.6, 0.55, 0.5], acc: [0.5, 0.7, 0.8, 0.8], val_acc: [0.5, 0.6, 0.7, 0.75] },
    { seconds: 3, finishedAt: '2026-11-28T10:00:20.000Z' }));
  put(makeResult(trials[1], { loss: [], val_loss: [], acc: [], val_acc: [] }, {
    status: 'failed', error: 'boom', stoppedEpoch: 0, bestEpoch: 0, final: { loss: NaN, acc: NaN, val_loss: NaN, val_acc: NaN },
  }));
  // seed 0 overfits: val_loss bottoms out at epoch 2 then rises
  put(makeResult(trials[2], { loss: [0.8, 0.4, 0.2, 0.1], val_loss: [0.7, 0.5, 0.6, 0.9], acc: [0.6, 0.8, 0.9, 1.0], val_acc: [0.55, 0.7, 0.65, 0.6] },
    { seconds: 2, finishedAt: '2026-11-28T10:00:10.000Z', backend: 'wasm' }));
  put(makeResult(trials[3], { loss: [0.8, 0.5, 0.3, 0.2], val_loss: [0.7, 0.6, 0.65, 0.7], acc: [0.6, 0.7, 0.8, 0.9], val_acc: [0.5, 0.6, 0.6, 0.55] },
    { seconds: 4, finishedAt: '2026-11-28T10:00:12.000Z' }));
  return { store, trials };
}

group('downsampling', () => {
  it('keeps every point of a short curve', () => {
    expect(downsampleIndices(5, [2])).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps at most 500 points of a long curve, with the first, last, minimum and best epoch', () => {
    const idx = downsampleIndices(4000, [1237, 2999]);
    expect(idx.length).toBeLessThanOrEqual(500);
    expect(idx).toEqual([...new Set(idx)].sort((a, b) => a - b));
    for (const i of [0, 3999, 1237, 2999]) expect(idx).toContain(i);
  });

  it('downsamples a history by its own minimum of val_loss and best epoch', () => {
    const n = 1200;
    const val = Array.from({ length: n }, (_, i) => Math.abs(i - 777) / n + 0.1);
    const c = curves({ loss: val, val_loss: val, acc: val, val_acc: val }, 1000);
    expect(c.epoch.length).toBeLessThanOrEqual(500);
    expect(c.epoch).toContain(778);
    expect(c.epoch).toContain(1001);
    expect(c.epoch[0]).toBe(1);
    expect(c.epoch.at(-1)).toBe(n);
    expect(Math.min(...c.val_loss)).toBe(0.1);
  });

  it('averages histories epoch by epoch over the trials still running', () => {
    const m = meanHistory([
      { loss: [1, 2, 3], val_loss: [1, 2, 3], acc: [0, 0, 0], val_acc: [0, 0, 0] },
      { loss: [3], val_loss: [5], acc: [1], val_acc: [1] },
    ]);
    expect(m.loss).toEqual([2, 2, 3]);
    expect(m.val_loss).toEqual([3, 2, 3]);
    expect(m.acc).toEqual([0.5, 0, 0]);
  });
});

group('buildSummary', () => {
  let summary: SweepSummary;
  it('reads the manifest and every stored result into cells in grid order', async () => {
    summary = await buildSummary(handMadeStore().store, 'fixture');
    expect(summary.sweep).toBe('fixture');
    expect(summary.cells.map((c) => c.label)).toEqual([
      'l2 0 · dropout 0 · none · no early stopping',
      'l2 0 · dropout 0 · none · patience 2',
      'l2 0 · dropout 0.5 · none · no early stopping',
    ]);
    expect(summary.counts).toEqual({ trials: 5, cells: 3, ok: 3, diverged: 0, failed: 1, missing: 1 });
    expect(summary.cells[1].counts).toEqual({ ok: 0, diverged: 0, failed: 0, missing: 1 });
    expect(summary.cells[2].counts).toEqual({ ok: 1, diverged: 0, failed: 1, missing: 0 });
  });

  it('computes per-cell statistics over the ok seeds only', () => {
    const base = summary.cells[0].stats;
    expect(base.val_loss.mean).toBeCloseTo(0.8, 12);
    expect(base.val_loss.sd).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(base.loss.mean).toBeCloseTo(0.15, 12);
    expect(base.gap_loss.mean).toBeCloseTo(0.65, 12); // (0.9−0.1 + 0.7−0.2) / 2
    expect(base.gap_acc.mean).toBeCloseTo(0.375, 12); // (1−0.6 + 0.9−0.55) / 2
    expect(base.best_val_loss.mean).toBeCloseTo(0.55, 12); // min 0.5 and min 0.6
    expect(base.best_val_acc.mean).toBeCloseTo(0.65, 12); // 0.7 at epoch 2, 0.6 at epoch 2
    expect(base.stoppedEpoch).toEqual({ n: 2, mean: 4, sd: 0, ci: [4, 4] });
    expect(base.seconds.ci[1]).toBeCloseTo(3 + 12.706204736, 9); // seconds 2 and 4: sd √2, half-width t·√2/√2
    const drop = summary.cells[2].stats;
    expect(drop.val_loss).toEqual({ n: 1, mean: 0.5, sd: 0, ci: [0.5, 0.5] });
    expect(summary.cells[1].stats.val_loss.n).toBe(0);
  });

  it('keeps each trial with its best values and curves, failed ones with their error', () => {
    const [s0] = summary.cells[0].trials;
    expect(s0.best).toEqual({ val_loss: 0.5, val_acc: 0.7 });
    expect(s0.curves?.epoch).toEqual([1, 2, 3, 4]);
    expect(s0.curves?.val_loss).toEqual([0.7, 0.5, 0.6, 0.9]);
    const failed = summary.cells[2].trials.find((t) => t.status === 'failed');
    expect(failed?.error).toBe('boom');
    expect(failed?.curves).toBeUndefined(); // nothing draws a failed trial's curves
    expect(summary.cells[0].meanCurves?.val_loss.map((x) => +x.toFixed(12))).toEqual([0.7, 0.55, 0.625, 0.8]);
  });

  it('names the baseline and the remedy that lowered validation loss most', () => {
    expect(summary.baselineCellId).toBe(summary.cells[0].cellId);
    expect(summary.bestRemedy?.cellId).toBe(summary.cells[2].cellId);
    expect(summary.bestRemedy?.text).toBe('dropout 0.5 helped most: mean validation loss 0.500 against 0.800 without any remedy (-37.5%).');
  });

  it('does not credit a remedy with a change under 1% of the validation loss', () => {
    const grid = makeGrid({ axes: { l2: [0, 0.01], dropout: [0], augmentation: [null], patience: [null] }, seeds: [0] });
    const trials = [makeTrial(grid, { l2: 0, dropout: 0, augmentation: null, patience: null }, 0), makeTrial(grid, { l2: 0.01, dropout: 0, augmentation: null, patience: null }, 0)];
    const h = (v: number) => ({ loss: [0.4], val_loss: [v], acc: [0.8], val_acc: [0.7] });
    const s = summarize(makeManifest(grid, trials), [makeResult(trials[0], h(0.5)), makeResult(trials[1], h(0.498))]);
    expect(s.bestRemedy?.cellId).toBe(trials[1].cellId);
    expect(s.bestRemedy?.text).toBe('No remedy lowered the mean validation loss by 1% or more against the cell without remedies (0.500); the lowest was L2 0.01 at 0.498.');
  });

  it('records backends, engines, train and wall seconds', () => {
    expect(summary.backends).toEqual(['cpu', 'wasm']);
    expect(summary.engines).toEqual(['layers']);
    expect(summary.trainSeconds).toBe(3 + 1 + 2 + 4);
    // first start: 10:00:10 − 2 s = 10:00:08; last finish 10:00:20
    expect(summary.wallSeconds).toBe(12);
    // the split's sizes come from the data themselves (100 moons, the first 30 train), not from the results
    expect(summary.data).toMatchObject({ kind: 'moons', features: 2, classes: ['0', '1'], train: 30, val: 70 });
  });

  it('writes summary.json into the store', async () => {
    const { store } = handMadeStore();
    await writeSummary(store, 'fixture');
    const stored = JSON.parse(new TextDecoder().decode(await store.get(summaryKey('fixture'))));
    expect(stored.cells).toHaveLength(3);
    expect(stored.cells[1].stats.val_loss.mean).toBeNull();
  });

  it('reads results in the compact encoding and the plain JSON alike, to the same summary', async () => {
    const { store, trials } = handMadeStore();
    const stored = trials.slice(0, 4).map((t) => readTrialResult(encodeTrialResult(readTrialResult(store.objects.get(trialKey(t.trialId))!))));
    // the same float32 values as plain JSON, then encoded
    for (const r of stored) store.putJson(trialKey(r.trialId), r);
    const plain = await buildSummary(store, 'fixture');
    for (const r of stored) store.objects.set(trialKey(r.trialId), new TextEncoder().encode(encodeTrialResult(r)));
    expect(JSON.parse(new TextDecoder().decode(store.objects.get(trialKey(trials[0].trialId)))).encoding).toBe(2);
    const compact = await buildSummary(store, 'fixture');
    expect({ ...compact, generatedAt: '' }).toEqual({ ...plain, generatedAt: '' });
  });

  it('skips a truncated or unknown-format result, names it and counts it as missing', async () => {
    const { store, trials } = handMadeStore();
    const key = trialKey(trials[2].trialId);
    store.objects.set(key, store.objects.get(key)!.subarray(0, 100));
    store.putJson(trialKey(trials[3].trialId), { encoding: 7 });
    const named: string[] = [];
    const s = await buildSummary(store, 'fixture', { onUnreadable: (k, reason) => named.push(`${k}: ${reason}`) });
    expect(s.counts).toEqual({ trials: 5, cells: 3, ok: 1, diverged: 0, failed: 1, missing: 3 });
    expect(s.cells[0].counts).toEqual({ ok: 0, diverged: 0, failed: 0, missing: 2 });
    expect(s.unreadable?.count).toBe(2);
    expect(s.unreadable?.examples.map((e) => e.key).sort()).toEqual([key, trialKey(trials[3].trialId)].sort());
    expect(named.sort()).toEqual([`${key}: not complete JSON (100 bytes; truncated?)`, `${trialKey(trials[3].trialId)}: unknown encoding 7 (this fitgrid reads 1 to 2; a newer fitgrid wrote it?)`].sort());
  });

  it('skips a result whose stored points are damaged, names it, and draws the next trial\'s points', async () => {
    const { store, trials } = handMadeStore();
    const point = (i: number): [number, number, number] => [i / 10, -i / 10, i % 2];
    const points = { train: [point(1), point(2)], val: [point(3)] };
    for (const t of [trials[2], trials[3]]) {
      const r = readTrialResult(store.objects.get(trialKey(t.trialId))!);
      store.objects.set(trialKey(t.trialId), new TextEncoder().encode(encodeTrialResult({ ...r, points })));
    }
    const key = trialKey(trials[2].trialId);
    const damaged = JSON.parse(new TextDecoder().decode(store.objects.get(key)));
    damaged.points.train.data = 'AAAA';
    store.putJson(key, damaged);
    const named: string[] = [];
    const s = await buildSummary(store, 'fixture', { onUnreadable: (k, reason) => named.push(`${k}: ${reason}`) });
    expect(named).toEqual([`${key}: points: array of shape [2, 3] holds 3 bytes, expected 24`]);
    expect(s.unreadable).toEqual({ count: 1, examples: [{ key, reason: 'points: array of shape [2, 3] holds 3 bytes, expected 24' }] });
    const base = s.cells[0];
    expect(base.counts).toEqual({ ok: 1, diverged: 0, failed: 0, missing: 1 });
    expect(base.trials.map((t) => t.trialId)).toEqual([trials[3].trialId]);
    expect(s.points ?? base.points).toEqual(points);
  });

  it('draws each trial with fewer curve points as the sweep grows', () => {
    const grid = makeGrid({ axes: { l2: [0], dropout: [0], augmentation: [null], patience: [null] }, seeds: [0] });
    const trials = [makeTrial(grid, { l2: 0, dropout: 0, augmentation: null, patience: null }, 0)];
    const long = Array.from({ length: 3000 }, (_, i) => 1 / (i + 1));
    const result = makeResult(trials[0], { loss: long, val_loss: long, acc: long, val_acc: long });
    const few = summarize(makeManifest(grid, trials), [result]).cells[0].trials[0].curves?.epoch.length;
    expect(few).toBeLessThanOrEqual(MAX_CURVE_POINTS);
    expect(few).toBeGreaterThan(MAX_CURVE_POINTS - 5);
    // the same trial in a manifest of 100,000 trials in 5,000 cells (the others not stored yet)
    const many = { ...makeManifest(grid, trials), trials: [...trials, ...Array.from({ length: 99_999 }, (_, i) => ({ ...trials[0], trialId: `x${i}`, cellId: `c${i % 5000}` }))] };
    const points = summarize(many, [result]).cells[0].trials[0].curves?.epoch.length;
    expect(points).toBeLessThanOrEqual(MIN_CURVE_POINTS);
    expect(points).toBeGreaterThan(MIN_CURVE_POINTS - 5);
  });

  it('keeps the curves of only the first finished seeds of each cell once the sweep has many cells', () => {
    // 3,000 cells of 4 seeds: the curve budget leaves each cell the curves of one finished trial
    const l2 = Array.from({ length: 3000 }, (_, i) => i / 1000);
    const grid = makeGrid({ axes: { l2, dropout: [0], augmentation: [null], patience: [null] }, seeds: [0, 1, 2, 3] });
    const trials = l2.flatMap((v) => [0, 1, 2, 3].map((seed) => makeTrial(grid, { l2: v, dropout: 0, augmentation: null, patience: null }, seed)));
    const h = (v: number) => ({ loss: [0.9, v], val_loss: [0.8, v + 0.1], acc: [0.5, 0.8], val_acc: [0.5, 0.7] });
    const results = trials.map((t, i) => (i >= 4 ? undefined : i === 0
      ? makeResult(t, { loss: [], val_loss: [], acc: [], val_acc: [] }, { status: 'failed', error: 'boom', stoppedEpoch: 0, bestEpoch: 0, final: { loss: NaN, acc: NaN, val_loss: NaN, val_acc: NaN } })
      : makeResult(t, h(0.1 * i))));
    const cell = summarize(makeManifest(grid, trials), results).cells[0];
    // seed 0 failed: seed 1 is the first finished one and the only one with curves
    expect(cell.trials.map((t) => [t.seed, t.curves !== undefined])).toEqual([[0, false], [1, true], [2, false], [3, false]]);
    // the mean is still over every finished seed
    expect(cell.meanCurves?.loss[1]).toBeCloseTo(0.2, 12);
  });

  it('keeps the curves of at most 20 seeds of a cell, however few cells the sweep has', () => {
    const seeds = Array.from({ length: 30 }, (_, i) => i);
    const grid = makeGrid({ axes: { l2: [0], dropout: [0], augmentation: [null], patience: [null] }, seeds });
    const trials = seeds.map((seed) => makeTrial(grid, { l2: 0, dropout: 0, augmentation: null, patience: null }, seed));
    const results = trials.map((t) => makeResult(t, { loss: [0.9, 0.5], val_loss: [0.8, 0.6], acc: [0.5, 0.8], val_acc: [0.5, 0.7] }));
    const cell = summarize(makeManifest(grid, trials), results).cells[0];
    expect(cell.trials.map((t) => t.curves !== undefined)).toEqual(seeds.map((i) => i < 20));
  });

  it('gives the same cells whatever order the stored results arrive in', async () => {
    for (const sweep of [generateSweep({ name: 'shuffled' }), generateImageSweep()]) {
      const store = new MemoryStore();
      store.putJson(manifestKey(sweep.manifest.sweep), sweep.manifest);
      for (const r of sweep.results) store.putJson(trialKey(r.trialId), r);
      // each read answers after a pseudo-random delay, so results complete out of the manifest's order
      let state = 7;
      const get = store.get.bind(store);
      const order: string[] = [];
      store.get = async (key: string) => {
        state = (state * 1103515245 + 12345) % 2 ** 31;
        await new Promise((resolve) => setTimeout(resolve, state % 7));
        if (key.startsWith('trials/')) order.push(key);
        return get(key);
      };
      const built = await buildSummary(store, sweep.manifest.sweep, { cache: false });
      const inOrder = sweep.manifest.trials.map((t) => trialKey(t.trialId)).filter((k) => order.includes(k));
      expect(order).not.toEqual(inOrder);
      expect(built.cells).toEqual(summarize(sweep.manifest, sweep.results).cells);
    }
  });

  it('takes unchanged cells from the cache of the last report and re-reads only cells with new trials', async () => {
    const { store, trials } = handMadeStore();
    const fresh = await buildSummary(store, 'fixture', { cache: false });
    expect([...store.objects.keys()].some((k) => k.includes('/cache/'))).toBe(false);
    await buildSummary(store, 'fixture');
    const cached = [...store.objects.keys()].filter((k) => k.startsWith('sweeps/fixture/cache/cells/'));
    expect(cached).toHaveLength(2); // the third cell has no stored trial yet
    const reads: string[] = [];
    const get = store.get.bind(store);
    store.get = async (key: string) => { reads.push(key); return get(key); };
    const again = await buildSummary(store, 'fixture');
    expect(reads.filter((k) => k.startsWith('trials/'))).toEqual([]);
    expect({ ...again, generatedAt: '' }).toEqual({ ...fresh, generatedAt: '' });
    // a new trial in the early-stopping cell: only that cell's trials are read
    store.putJson(trialKey(trials[4].trialId), makeResult(trials[4], { loss: [0.8, 0.5, 0.4, 0.4], val_loss: [0.7, 0.55, 0.6, 0.6], acc: [0.6, 0.7, 0.8, 0.8], val_acc: [0.5, 0.6, 0.6, 0.6] }));
    reads.length = 0;
    const grown = await buildSummary(store, 'fixture');
    expect(reads.filter((k) => k.startsWith('trials/'))).toEqual([trialKey(trials[4].trialId)]);
    expect(grown.counts.ok).toBe(fresh.counts.ok + 1);
    expect({ ...grown, generatedAt: '' }).toEqual({ ...(await buildSummary(store, 'fixture', { cache: false })), generatedAt: '' });
  });

  it('reads a cached cell again when one of its results was written again since (here: truncated), and names it', async () => {
    const { store, trials } = handMadeStore();
    await buildSummary(store, 'fixture');
    const key = trialKey(trials[2].trialId);
    store.objects.set(key, store.objects.get(key)!.slice(0, 100));
    const reads: string[] = [];
    const named: string[] = [];
    const get = store.get.bind(store);
    store.get = async (k: string) => { reads.push(k); return get(k); };
    const again = await buildSummary(store, 'fixture', { onUnreadable: (k) => named.push(k) });
    // only the damaged result's cell is read again, and the damage is reported, not hidden by the cache
    expect(reads.filter((k) => k.startsWith('trials/')).sort()).toEqual([key, trialKey(trials[3].trialId)].sort());
    expect(named).toEqual([key]);
    expect(again.unreadable?.count).toBe(1);
    expect(again.cells[0].counts.missing).toBe(1);
  });

  it('throws a UserError for a sweep that is not in the store', async () => {
    await expect(buildSummary(new MemoryStore(), 'nope')).rejects.toThrow(UserError);
  });
});
