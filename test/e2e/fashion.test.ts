import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, root, trialFiles } from '../helpers/cli.ts';
import { readTrialResult } from '../../runner/records/result-codec.ts';

/**
 * Fashion-MNIST end to end, from Debian's `dataset-fashion-mnist` (.ci/run installs it). Where
 * the package is missing the same grid must fail cleanly (exit 2, the missing file named), and
 * in CI (CI=true) a missing package fails the suite: the real run must never go unexercised there.
 */
const FILES = '/usr/share/datasets/fashion-mnist';
const GRID = path.join(root, 'test/fixtures/grids/fashion-short.yaml');
const present = existsSync(path.join(FILES, 'train-images-idx3-ubyte.gz'));

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('fitgrid run on Fashion-MNIST', () => {
  it('is installed wherever CI runs', () => {
    expect(present || process.env.CI !== 'true').toBe(true);
  });

  it(present ? 'trains the short Fashion-MNIST grid from the gzip IDX files and stores complete results' : 'names the missing Fashion-MNIST file and exits 2', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fitgrid-fashion-'));
    const store = path.join(dir, 'store');
    const run = await cli(['run', GRID, '--store', store]);
    if (!present) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/train-images-idx3-ubyte\.gz.*no such file/);
      return;
    }
    expect(run.stderr).not.toMatch(/this is a bug/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/done: 4 trained, 0 skipped \(already stored\), 0 failed, 0 diverged of 4 trials/);
    const manifest = JSON.parse(await readFile(path.join(store, 'sweeps/fashion-short/manifest.json'), 'utf8'));
    // four files stored once by hash, none copied into the manifest
    expect(Object.keys(manifest.dataKeys)).toHaveLength(4);
    expect(manifest.dataFiles).toEqual({});
    const results = [...(await trialFiles(store)).values()].map((text) => readTrialResult(text));
    expect(results).toHaveLength(4);
    for (const r of results) {
      expect(r.status).toBe('ok');
      for (const series of Object.values(r.history)) expect(series).toHaveLength(3);
      expect(r.valLabels).toHaveLength(100);
      expect(new Set(r.valLabels).size).toBe(10);
      for (const p of r.valProba) expect(p).toHaveLength(10);
      // ten balanced classes: three epochs on 100 images already beat chance (0.1) clearly
      expect(r.final.val_acc).toBeGreaterThan(0.3);
    }
  });
});
