import type { Trial } from '../../runner/records/config.ts';
import type { Manifest } from '../../runner/records/manifest.ts';
import type { TrainPack } from '../../runner/train/engine.ts';
import { RESULT_FORMAT, type TrialResult, type TrialStatus } from '../../runner/records/result.ts';

/** A manifest of `packs` packs × `perPack` trials whose configs are never looked at by the fakes below. */
export function fakeManifest(packs: number, perPack: number, sweep = 'fake', formatVersion = 1): Manifest {
  const trials: Trial[] = [];
  for (let p = 0; p < packs; p++)
    for (let i = 0; i < perPack; i++)
      trials.push({ trialId: `t${p}-${i}`, cellId: `c${i}`, seed: p, replicate: null, config: { data: { kind: 'moons' }, train: { engine: 'layers', epochs: 10 } } as unknown as Trial['config'] });
  return {
    fitgridVersion: '0.0.0-test', formatVersion, sweep, createdAt: '2026-01-01T00:00:00Z',
    grid: { file: '/nowhere/grid.yaml', name: sweep, data: { kind: 'moons' } } as unknown as Manifest['grid'],
    gridSource: 'name: fake', dataFiles: {}, trials,
    packs: Array.from({ length: packs }, (_, p) => ({ index: p, trialIds: trials.slice(p * perPack, (p + 1) * perPack).map((t) => t.trialId) })),
  };
}

export function fakeResult(trial: Trial, sweep: string, status: TrialStatus = 'ok'): TrialResult {
  return {
    formatVersion: RESULT_FORMAT, fitgridVersion: '0.0.0-test', trialId: trial.trialId, cellId: trial.cellId, sweep,
    config: trial.config, seed: trial.seed, replicate: trial.replicate, status, engine: 'layers', backend: 'cpu', device: 'cpu',
    seconds: 0.01, finishedAt: '2026-01-01T00:00:00Z', history: { loss: [1], val_loss: [1], acc: [0.5], val_acc: [0.5] },
    stoppedEpoch: 1, bestEpoch: 1, final: { loss: 1, acc: 0.5, val_loss: 1, val_acc: 0.5 }, valProba: [], valLabels: [],
    ...(status === 'ok' ? {} : { error: 'loss became NaN at epoch 1' }),
  };
}

/** A trainer that reports each trial through onResult; trials whose id is in `diverge` diverge. */
export function fakeTrainer(diverge: string[] = []): TrainPack & { calls: string[][] } {
  const calls: string[][] = [];
  const train = (async (trials, _data, options) => {
    calls.push(trials.map((t) => t.trialId));
    options.onProgress?.({ epoch: 1, epochs: 1, trialsDone: 0, trials: trials.length });
    const results = [];
    for (const t of trials) {
      const r = fakeResult(t, options.sweep, diverge.includes(t.trialId) ? 'diverged' : 'ok');
      await options.onResult?.(r);
      results.push(r);
    }
    return results;
  }) as TrainPack & { calls: string[][] };
  train.calls = calls;
  return train;
}

export const fakeData = async () => ({ featureNames: ['x0', 'x1'], classNames: ['0', '1'], inputShape: [2], train: { x: [], y: [] }, val: { x: [], y: [] } });
