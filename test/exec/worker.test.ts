import { describe, expect, it } from 'vitest';
import { runWorker } from '../../runner/exec/worker.ts';
import { writeManifest } from '../../runner/store/manifest.ts';
import { packListKey } from '../../runner/store/keys.ts';
import { NonRetriableError, UserError } from '../../runner/errors.ts';
import type { WorkerEvent } from '../../runner/records/events.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { fakeData, fakeManifest, fakeResult, fakeTrainer } from '../helpers/fake-sweep.ts';

async function setup(packs = 3, perPack = 2) {
  const store = new MemoryStore();
  const manifest = fakeManifest(packs, perPack);
  await writeManifest(store, manifest);
  return { store, manifest };
}
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe('runWorker', () => {
  it('trains the pack named by AWS_BATCH_JOB_ARRAY_INDEX and stores every trial', async () => {
    const { store } = await setup();
    const trainPack = fakeTrainer();
    const summary = await runWorker({ store, sweep: 'fake', env: { AWS_BATCH_JOB_ARRAY_INDEX: '1' }, trainPack, loadDataset: fakeData });
    expect(summary).toEqual({ pack: 1, trained: 2, skipped: 0, failed: 0 });
    expect(trainPack.calls).toEqual([['t1-0', 't1-1']]);
    expect(JSON.parse(text(store.objects.get('trials/t1-0.json'))).status).toBe('ok');
  });

  it('adds FITGRID_PACK_OFFSET to the array index', async () => {
    const { store } = await setup();
    const summary = await runWorker({ store, sweep: 'fake', env: { AWS_BATCH_JOB_ARRAY_INDEX: '0', FITGRID_PACK_OFFSET: '2' }, trainPack: fakeTrainer(), loadDataset: fakeData });
    expect(summary.pack).toBe(2);
  });

  it('maps the array index through the launch pack list when FITGRID_PACK_LIST is set', async () => {
    const { store } = await setup(5);
    store.putJson(packListKey('fake', 'abc'), { packs: [1, 4] });
    const summary = await runWorker({ store, sweep: 'fake', env: { AWS_BATCH_JOB_ARRAY_INDEX: '1', FITGRID_PACK_LIST: 'abc' }, trainPack: fakeTrainer(), loadDataset: fakeData });
    expect(summary.pack).toBe(4);
  });

  it('prefers --pack over the environment and defaults to pack 0', async () => {
    const { store } = await setup();
    expect((await runWorker({ store, sweep: 'fake', pack: 2, env: { AWS_BATCH_JOB_ARRAY_INDEX: '1' }, trainPack: fakeTrainer(), loadDataset: fakeData })).pack).toBe(2);
    expect((await runWorker({ store, sweep: 'fake', env: {}, trainPack: fakeTrainer(), loadDataset: fakeData })).pack).toBe(0);
  });

  it('rejects a pack out of range with the valid range', async () => {
    const { store } = await setup();
    await expect(runWorker({ store, sweep: 'fake', pack: 3, env: {}, trainPack: fakeTrainer(), loadDataset: fakeData }))
      .rejects.toThrow(/Expected `pack` to be an integer from 0 to 2 .*got 3/);
  });

  it('skips stored trials and never rewrites them', async () => {
    const { store, manifest } = await setup();
    const before = JSON.stringify({ ...fakeResult(manifest.trials[0], 'fake'), seconds: 42 });
    await store.put('trials/t0-0.json', before);
    const trainPack = fakeTrainer();
    const summary = await runWorker({ store, sweep: 'fake', env: {}, trainPack, loadDataset: fakeData });
    expect(summary).toEqual({ pack: 0, trained: 1, skipped: 1, failed: 0 });
    expect(trainPack.calls).toEqual([['t0-1']]);
    expect(text(store.objects.get('trials/t0-0.json'))).toBe(before);
  });

  it('neither loads data nor trains when the whole pack is stored', async () => {
    const { store, manifest } = await setup();
    for (const t of manifest.trials) await store.put(`trials/${t.trialId}.json`, '{}');
    const trainPack = fakeTrainer();
    const summary = await runWorker({ store, sweep: 'fake', env: {}, trainPack, loadDataset: () => { throw new Error('loaded'); } });
    expect(summary).toEqual({ pack: 0, trained: 0, skipped: 2, failed: 0 });
    expect(trainPack.calls).toEqual([]);
  });

  it('stores diverged trials as results and counts them as failed', async () => {
    const { store } = await setup();
    const summary = await runWorker({ store, sweep: 'fake', env: {}, trainPack: fakeTrainer(['t0-1']), loadDataset: fakeData });
    expect(summary.failed).toBe(1);
    expect(JSON.parse(text(store.objects.get('trials/t0-1.json'))).status).toBe('diverged');
  });

  it('stores every trial as failed, under the engine meant for it, when the trainer throws a NonRetriableError', async () => {
    const store = new MemoryStore();
    const manifest = fakeManifest(3, 2);
    for (const t of manifest.trials) t.config.model = { kind: 'mlp', hidden: [4], activation: 'relu' };
    await writeManifest(store, manifest);
    const summary = await runWorker({ store, sweep: 'fake', env: {}, engine: 'packed', trainPack: async () => { throw new NonRetriableError('bad config'); }, loadDataset: fakeData });
    expect(summary).toEqual({ pack: 0, trained: 2, skipped: 0, failed: 2 });
    expect(JSON.parse(text(store.objects.get('trials/t0-0.json')))).toMatchObject({ status: 'failed', error: 'bad config', engine: 'packed', backend: 'none', stoppedEpoch: 0 });
  });

  it('writes the pack log as JSON lines with the start, each trial and the end', async () => {
    const { store } = await setup();
    const events: WorkerEvent[] = [];
    await runWorker({ store, sweep: 'fake', env: {}, trainPack: fakeTrainer(), loadDataset: fakeData, emit: (e) => events.push(e) });
    const lines = text(store.objects.get('sweeps/fake/logs/pack-0.jsonl')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['start', 'trial', 'trial', 'end', 'progress']);
    expect(events.map((e) => e.event)).toEqual(['start', 'progress', 'trial', 'trial', 'end']);
  });

  it('rethrows an infrastructure failure after logging it in the pack log', async () => {
    const { store } = await setup();
    const trainPack = async () => { throw new Error('store unreachable'); };
    await expect(runWorker({ store, sweep: 'fake', env: {}, trainPack, loadDataset: fakeData })).rejects.toThrow('store unreachable');
    expect(text(store.objects.get('sweeps/fake/logs/pack-0.jsonl'))).toContain('"event":"error"');
  });

  it('says which sweep has no manifest', async () => {
    await expect(runWorker({ store: new MemoryStore(), sweep: 'nope', env: {} })).rejects.toThrow(UserError);
    await expect(runWorker({ store: new MemoryStore(), sweep: 'nope', env: {} })).rejects.toThrow(/no manifest for sweep "nope"/);
  });
});

describe('runWorker with a failing store', () => {
  it('fails even when the trainer swallows the failed write', async () => {
    const { store, manifest } = await setup(1, 2);
    const put = store.put.bind(store);
    store.put = async (key, body, options) => {
      if (key.startsWith('trials/')) throw new Error('connect ECONNREFUSED');
      return put(key, body, options);
    };
    const swallowing = async (trials: typeof manifest.trials, _d: unknown, options: Parameters<ReturnType<typeof fakeTrainer>>[2]) => {
      const results = trials.map((t) => fakeResult(t, 'fake'));
      for (const r of results) await Promise.resolve(options.onResult?.(r)).catch(() => {});
      return results;
    };
    await expect(runWorker({ store, sweep: 'fake', env: {}, trainPack: swallowing, loadDataset: fakeData })).rejects.toThrow('ECONNREFUSED');
  });
});

describe('the pack log', () => {
  it('keeps the lines of an earlier attempt when a retry rewrites it', async () => {
    const { store } = await setup(1, 2);
    const failing = async () => { throw new Error('Host EC2 terminated'); };
    await expect(runWorker({ store, sweep: 'fake', env: {}, trainPack: failing, loadDataset: fakeData })).rejects.toThrow();
    await runWorker({ store, sweep: 'fake', env: {}, trainPack: fakeTrainer(), loadDataset: fakeData });
    const events = text(store.objects.get('sweeps/fake/logs/pack-0.jsonl')).trim().split('\n').map((l) => JSON.parse(l).event);
    expect(events).toEqual(['start', 'error', 'start', 'trial', 'trial', 'end', 'progress']);
  });
});
