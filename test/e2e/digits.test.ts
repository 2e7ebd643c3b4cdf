import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, trialFiles } from '../helpers/cli.ts';
import { readTrialResult } from '../../runner/records/result-codec.ts';

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// grids/digits-augment.yaml in small: the same CNN and axes, 60 digits of three classes, 3 epochs.
const grid = `
name: digits-small
data:
  kind: digits
  trainSize: 60
  classes: [0, 1, 2]
  split: { trainFraction: 0.75, stratify: true, seed: 0 }
model:
  kind: cnn
  blocks:
    - { filters: 16, kernel: 3, pool: 2 }
    - { filters: 32, kernel: 3, pool: 2 }
  dense: [64]
train:
  epochs: 3
  batchSize: 32
  optimizer: { kind: adam, learningRate: 0.003 }
grid:
  l2: [0, 0.001]
  dropout: [0.3]
  augmentation:
    - none
    - { shift: 0.1, rotation: 10 }
seeds: 1
`;

describe('fitgrid run on digits', () => {
  it('trains every CNN trial of a small digits grid with the conv engine (auto) and stores complete results', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fitgrid-digits-'));
    const file = path.join(dir, 'digits-small.yaml');
    await writeFile(file, grid);
    const store = path.join(dir, 'store');
    const run = await cli(['run', file, '--store', store]);
    expect(run.stderr).not.toMatch(/this is a bug/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/done: 4 trained, 0 skipped \(already stored\), 0 failed, 0 diverged of 4 trials/);

    const results = [...(await trialFiles(store)).values()].map((text) => readTrialResult(text));
    expect(results).toHaveLength(4);
    const manifest = JSON.parse(await readFile(path.join(store, 'sweeps/digits-small/manifest.json'), 'utf8'));
    expect(results.map((r) => r.trialId).sort()).toEqual(manifest.trials.map((t: { trialId: string }) => t.trialId).sort());
    const augmentations = new Set(results.map((r) => JSON.stringify(r.config.augmentation)));
    expect(augmentations.size).toBe(2);
    for (const r of results) {
      expect(r.status).toBe('ok');
      expect(r.engine).toBe('conv');
      expect(r.config.model.kind).toBe('cnn');
      for (const series of Object.values(r.history)) expect(series).toHaveLength(3);
      expect(r.stoppedEpoch).toBe(3);
      // Validation digits of the three kept classes, each with a probability per class.
      expect(r.valLabels.length).toBeGreaterThan(100);
      expect(new Set(r.valLabels)).toEqual(new Set([0, 1, 2]));
      expect(r.valProba).toHaveLength(r.valLabels.length);
      for (const p of r.valProba) {
        expect(p).toHaveLength(3);
        expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-4);
      }
      expect(Number.isFinite(r.final.val_loss)).toBe(true);
      expect(r.surface).toBeUndefined();
    }
  });
});
