import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type { MlpModel } from '../../runner/records/config.ts';
import { initBackend } from '../../runner/train/backend.ts';
import { trainPack } from '../../runner/train/train-pack.ts';
import { fusedEngine } from '../../runner/train/fused/index.ts';
import { moons, trial } from './fixtures.ts';

// The fused kernel keeps at most 15 hidden layers: a deeper MLP is a trial it does not support.
const shallow: MlpModel = { kind: 'mlp', hidden: [4], activation: 'relu' };
const deep: MlpModel = { kind: 'mlp', hidden: Array.from({ length: 16 }, () => 2), activation: 'relu' };

beforeAll(async () => {
  process.env.FITGRID_BACKEND ??= 'wasm';
  await initBackend();
});
afterEach(() => vi.restoreAllMocks());

describe('trainPack and the engines’ supports', () => {
  test('gives the trials fused does not support to layers before training, saying why once, never that fused failed', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const data = moons();
    const trials = [trial({ epochs: 2, model: shallow }), trial({ epochs: 2, model: deep }), trial({ epochs: 2, model: deep, seed: 1 })];
    expect(trials.map((t) => fusedEngine.supports(t, data))).toEqual([null, 'the fused kernel takes at most 15 hidden layers', 'the fused kernel takes at most 15 hidden layers']);
    const results = await trainPack(trials, data, { sweep: 's', engine: 'fused' });
    expect(results.map((r) => [r.trialId, r.engine, r.status])).toEqual([
      [trials[0].trialId, 'fused', 'ok'], [trials[1].trialId, 'layers', 'ok'], [trials[2].trialId, 'layers', 'ok'],
    ]);
    const lines = stderr.mock.calls.map((c) => String(c[0]));
    expect(lines).toEqual(['fitgrid: the fused kernel takes at most 15 hidden layers; training those trials with layers\n']);
  });
});
