import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type { CnnModel, MlpModel, Trial } from '../../runner/records/config.ts';
import type { Dataset } from '../../runner/data/types.ts';
import type { TrainOptions } from '../../runner/train/engine.ts';
import { initBackend } from '../../runner/train/backend.ts';
import { chooseEngine, trainPack } from '../../runner/train/train-pack.ts';
import { trainTrialLayers } from '../../runner/train/layers/train.ts';
import { moons, stripes, trial } from './fixtures.ts';

// A packed engine that finishes the pack's first trial, then breaks; a fused module without its export.
vi.mock('../../runner/train/packed/train.ts', () => ({
  packedEngine: {
    name: 'packed',
    supports: () => null,
    trainPack: async (trials: Trial[], data: Dataset, options: TrainOptions) => {
      const first = await trainTrialLayers(trials[0], data, { sweep: options.sweep });
      await options.onResult?.({ ...first, engine: 'packed' });
      throw new Error('out of packed memory');
    },
  },
}));
vi.mock('../../runner/train/fused/index.ts', () => ({}));

const mlp: MlpModel = { kind: 'mlp', hidden: [8], activation: 'relu' };
const cnn: CnnModel = { kind: 'cnn', blocks: [{ filters: 2, kernel: 3, pool: 2 }], dense: [4], activation: 'relu' };

beforeAll(async () => {
  process.env.FITGRID_BACKEND ??= 'wasm';
  await initBackend();
});
afterEach(() => vi.restoreAllMocks());

describe('chooseEngine', () => {
  test('auto picks fused for MLPs on wasm and cpu, packed on tensorflow, layers for CNNs', () => {
    expect(chooseEngine('auto', mlp, 'wasm')).toBe('fused');
    expect(chooseEngine(undefined, mlp, 'cpu')).toBe('fused');
    expect(chooseEngine('auto', mlp, 'tensorflow')).toBe('packed');
    expect(chooseEngine('auto', cnn, 'tensorflow')).toBe('layers');
  });

  test('honours an explicit engine, except packed or fused for a CNN', () => {
    expect(chooseEngine('layers', mlp, 'wasm')).toBe('layers');
    expect(chooseEngine('packed', mlp, 'wasm')).toBe('packed');
    expect(chooseEngine('fused', cnn, 'wasm')).toBe('layers');
  });
});

describe('trainPack', () => {
  test('hands the trials an engine left unfinished to layers, saying so once, without repeating finished ones', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const trials = [trial({ epochs: 3, model: mlp }), trial({ epochs: 3, model: mlp, seed: 1 })];
    const stored: string[] = [];
    const results = await trainPack(trials, moons(), { sweep: 's', engine: 'packed', onResult: (r) => void stored.push(`${r.engine}:${r.seed}`) });
    expect(results.map((r) => [r.engine, r.status, r.trialId])).toEqual([['packed', 'ok', trials[0].trialId], ['layers', 'ok', trials[1].trialId]]);
    expect(stored).toEqual(['packed:0', 'layers:1']);
    const lines = stderr.mock.calls.map((c) => String(c[0]));
    expect(lines.filter((l) => l.includes('packed engine failed'))).toHaveLength(1);
    expect(lines[0]).toMatch(/out of packed memory/);
  });

  test('uses layers when the chosen engine module cannot provide it, and records that engine', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const results = await trainPack([trial({ epochs: 2, model: mlp })], moons(), { sweep: 's', engine: 'fused' });
    expect(results[0].engine).toBe('layers');
    expect(results[0].status).toBe('ok');
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/fused engine is unavailable/);
  });

  test('trains CNN packs with layers whatever the grid asks', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const t = trial({ epochs: 2, model: cnn });
    t.config.train.engine = 'packed';
    const [r] = await trainPack([t], stripes(), { sweep: 's' });
    expect(r.engine).toBe('layers');
    expect(r.status).toBe('ok');
    expect(stderr).not.toHaveBeenCalled();
  });

  test('lets a failure to keep a result propagate instead of retraining', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const sink = vi.fn(() => { throw new Error('store is read-only'); });
    await expect(trainPack([trial({ epochs: 2, model: mlp })], moons(), { sweep: 's', engine: 'packed', onResult: sink })).rejects.toThrow('store is read-only');
    expect(sink).toHaveBeenCalledTimes(1);
    expect(stderr).not.toHaveBeenCalled();
  });

  test('returns nothing for an empty pack', async () => {
    expect(await trainPack([], moons(), { sweep: 's' })).toEqual([]);
  });
});
