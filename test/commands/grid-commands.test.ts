import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { plan } from '../../runner/commands/plan.ts';
import { validate } from '../../runner/commands/validate.ts';
import { expandGrid } from '../../runner/grid/expand.ts';
import { loadGrid } from '../../runner/grid/load.ts';
import { openStore } from '../../runner/store/open.ts';
import { trialKey } from '../../runner/store/keys.ts';
import { gridFile, tempDir } from '../grid/helpers.ts';

/** Runs the real CLI entry, as a user would, and never throws on a non-zero exit. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', ['bin/fitgrid.js', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function captureStdout() {
  let text = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  return () => text;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fitgrid validate', () => {
  test('prints `ok: 216 trials in 72 cells` for moons-sweep and exits 0', async () => {
    const { code, stdout } = await cli('validate', 'grids/moons-sweep.yaml');
    expect(stdout).toBe('ok: 216 trials in 72 cells\n');
    expect(code).toBe(0);
  });

  test('prints one line naming file, line and field for an unknown field, and exits 2', async () => {
    const file = gridFile({ 3: 'model: { kind: mlp, hiden: [8] }' });
    const { code, stdout, stderr } = await cli('validate', file);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`fitgrid: ${file}:3: field \`model.hiden\`: Unknown field \`hiden\`; did you mean \`hidden\`?\n`);
  });

  test('a missing grid file is one line and exit code 2', async () => {
    const { code, stderr } = await cli('validate', 'grids/none-such.yaml');
    expect(code).toBe(2);
    expect(stderr).toBe('fitgrid: grids/none-such.yaml: Cannot read grid file (no such file)\n');
  });

  test('returns the counts it prints', async () => {
    const output = captureStdout();
    expect(await validate({ grid: 'grids/seed-article.yaml' })).toEqual({ trials: 20, cells: 4 });
    expect(output()).toBe('ok: 20 trials in 4 cells\n');
  });
});

describe('fitgrid plan', () => {
  test('counts stored trials and the trial-epochs left per cell and in total', async () => {
    const storeDir = tempDir();
    const grid = gridFile();
    const trials = expandGrid(await loadGrid(grid));
    const store = await openStore(storeDir);
    // Two trials of the first cell and one unrelated result are already stored.
    for (const id of [trials[0].trialId, trials[1].trialId, '0123456789abcdef']) await store.put(trialKey(id), '{}');

    const output = captureStdout();
    const result = await plan({ grid, store: storeDir, packSize: 4 });
    expect(result.totals).toEqual({ trials: 16, cells: 8, packs: 4, stored: 2, trialEpochsLeft: 70, epochsToTrain: 40 });
    expect(result.cells[0]).toMatchObject({ cellId: trials[0].cellId, trials: 2, stored: 2, epochsLeft: 0 });
    expect(result.cells[1]).toMatchObject({ trials: 2, stored: 0, epochsLeft: 10 });
    const lines = output().split('\n');
    expect(lines).toContain('cell              l2    dropout  augmentation  patience  trials  stored  trial-epochs left');
    expect(lines).toContain(`${trials[0].cellId}  0     0        none          -              2       2                  0`);
    expect(lines).toContain('total: 16 trials in 8 cells, 4 packs; 2 stored; 70 trial-epochs left (40 to train: patience values replay one run)');
  });

  test('shows what an include changes in the base sections', async () => {
    const output = captureStdout();
    await plan({ grid: 'grids/seed-article.yaml', store: tempDir() });
    expect(output()).toMatch(/ 0 +\[0\.5, 0\.25\] +none +- +model\.hidden=\[500,128\] train\.epochs=500 +5 +0 +2,500\n/);
  });
});
