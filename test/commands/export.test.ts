import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore } from '../../runner/store/open.ts';
import { manifestKey, trialKey } from '../../runner/store/keys.ts';
import { getTrialResult } from '../../runner/store/results.ts';
import { openTable } from '../../runner/report/table-files.ts';
import type { Manifest } from '../../runner/records/manifest.ts';
import type { TrialResult } from '../../runner/records/result.ts';
import { cli } from '../helpers/cli.ts';

// The files are written with hyparquet-writer and read back here with hyparquet (Parquet) and
// csv-parse (CSV): readers that share no code with the writers.
let dir: string;
let store: string;
let manifest: Manifest;
const results = new Map<string, TrialResult>();
let missingId: string;
let brokenId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fitgrid-export-'));
  store = join(dir, 'store');
  const { synthesize: synth } = await import('../../runner/bench/synth.ts');
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await synth({ grid: 'grids/moons-scale.yaml', store, trials: 24, failed: 0.25, diverged: 0.1, });
  } finally {
    write.mockRestore();
  }
  const s = await openStore(store);
  manifest = JSON.parse(new TextDecoder().decode(await s.get(manifestKey('moons-scale'))));
  for (const t of manifest.trials) results.set(t.trialId, (await getTrialResult(s, t.trialId))!);
  // one trial not stored yet, one stored object cut short
  missingId = manifest.trials[3].trialId;
  brokenId = manifest.trials[4].trialId;
  await rm(join(store, trialKey(missingId)));
  await writeFile(join(store, trialKey(brokenId)), '{"formatVersion": 1, "trialId": "');
  results.delete(missingId);
  results.delete(brokenId);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const quietly = async <T>(f: () => Promise<T>) => {
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await f();
  } finally {
    write.mockRestore();
  }
};
const readParquet = async (file: string) => {
  const bytes = await readFile(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { rows: (await parquetReadObjects({ file: buffer })) as Record<string, unknown>[], metadata: parquetMetadata(buffer) };
};
const finite = (x: number) => (Number.isFinite(x) ? x : null);

describe('fitgrid export', () => {
  it('writes one Parquet row per trial with every axis as a column and the stored values', async () => {
    const { exportSweep } = await import('../../runner/commands/export.ts');
    const out = join(dir, 'parquet');
    const summary = await quietly(() => exportSweep({ sweep: 'moons-scale', store, out }));
    const { rows, metadata } = await readParquet(join(out, 'trials.parquet'));
    expect(rows).toHaveLength(24);
    expect(Object.keys(rows[0])).toEqual([
      'sweep', 'trialId', 'cellId', 'l2', 'dropout', 'augmentation', 'augmentation_jitter', 'patience', 'model', 'epochs',
      'seed', 'replicate', 'status', 'error', 'engine', 'backend', 'device', 'seconds', 'stoppedEpoch', 'bestEpoch',
      'loss', 'acc', 'val_loss', 'val_acc',
    ]);
    expect(metadata.key_value_metadata).toContainEqual({ key: 'fitgrid.sweep', value: 'moons-scale' });
    expect(rows.map((r) => r.trialId)).toEqual(manifest.trials.map((t) => t.trialId));
    for (const [i, t] of manifest.trials.entries()) {
      const row = rows[i];
      expect(row).toMatchObject({ sweep: 'moons-scale', cellId: t.cellId, l2: t.config.l2, dropout: t.config.dropout, patience: t.config.patience, epochs: 300 });
      expect(row.seed).toBe(BigInt(t.seed));
      expect(row.augmentation_jitter).toBe(t.config.augmentation?.jitter ?? null);
      const r = results.get(t.trialId);
      if (!r) continue;
      expect(row).toMatchObject({
        status: r.status, error: r.error ?? null, engine: 'fused', backend: 'synthetic', seconds: r.seconds,
        stoppedEpoch: r.stoppedEpoch, bestEpoch: r.bestEpoch,
        loss: finite(r.final.loss), acc: finite(r.final.acc), val_loss: finite(r.final.val_loss), val_acc: finite(r.final.val_acc),
      });
    }
    const statuses = new Set(rows.map((r) => r.status));
    expect(statuses).toEqual(new Set(['ok', 'failed', 'diverged', 'missing', 'unreadable']));
    expect(rows[3]).toMatchObject({ status: 'missing', loss: null, engine: null });
    expect(rows[4]).toMatchObject({ status: 'unreadable' });
    expect(String(rows[4].error)).toContain(trialKey(brokenId));
    expect(summary.statuses.missing).toBe(1);
  });

  it('writes one Parquet row per epoch matching each stored history', async () => {
    const out = join(dir, 'parquet');
    const { rows } = await readParquet(join(out, 'epochs.parquet'));
    const stored = [...results.values()];
    expect(rows).toHaveLength(stored.reduce((n, r) => n + r.history.loss.length, 0));
    expect(Object.keys(rows[0])).toEqual(['trialId', 'epoch', 'loss', 'acc', 'val_loss', 'val_acc']);
    const r = stored.find((x) => x.status === 'ok')!;
    const mine = rows.filter((row) => row.trialId === r.trialId);
    expect(mine.map((row) => row.epoch)).toEqual(r.history.loss.map((_, e) => e + 1));
    expect(mine.map((row) => row.val_loss)).toEqual(r.history.val_loss);
    expect(mine.map((row) => row.acc)).toEqual(r.history.acc);
    const failed = stored.find((x) => x.status === 'failed')!;
    expect(rows.some((row) => row.trialId === failed.trialId)).toBe(false);
  });

  it('writes the same tables as CSV', async () => {
    const { exportSweep } = await import('../../runner/commands/export.ts');
    const out = join(dir, 'csv');
    await quietly(() => exportSweep({ sweep: 'moons-scale', store, out, format: 'csv' }));
    const trials = parse(await readFile(join(out, 'trials.csv')), { columns: true }) as Record<string, string>[];
    expect(trials).toHaveLength(24);
    for (const row of trials) {
      const r = results.get(row.trialId);
      if (!r) continue;
      expect(row.status).toBe(r.status);
      expect(row.val_loss).toBe(Number.isFinite(r.final.val_loss) ? String(r.final.val_loss) : '');
      expect(row.model).toBe('multilayer perceptron: hidden layers [64], relu');
    }
    const epochs = parse(await readFile(join(out, 'epochs.csv')), { columns: true, cast: true }) as Record<string, number | string>[];
    const r = [...results.values()].find((x) => x.status === 'ok')!;
    expect(epochs.filter((e) => e.trialId === r.trialId).map((e) => e.loss)).toEqual(r.history.loss);
  });

  it('fails with one line and exit 2 for an unknown sweep, an unwritable folder and an unknown format', async () => {
    const unknown = await cli(['export', 'nope', '--store', store, '--out', join(dir, 'x')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringContaining('no manifest for sweep "nope"')]);
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a folder');
    const unwritable = await cli(['export', 'moons-scale', '--store', store, '--out', join(file, 'out')]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^fitgrid: cannot write to --out .*a-file\/out \(ENOTDIR\)$/)]);
    const format = await cli(['export', 'moons-scale', '--store', store, '--out', join(dir, 'y'), '--format', 'xlsx']);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/xlsx/);
  });
});

describe('openTable', () => {
  it('writes Parquet in row groups of the given size and leaves no file when aborted', async () => {
    const file = join(dir, 'groups.parquet');
    const table = await openTable(file, 'parquet', [{ name: 'i', type: 'int32' }, { name: 'x', type: 'double' }], { rowGroupSize: 10 });
    for (let k = 0; k < 5; k++) await table.append(Array.from({ length: 7 }, (_, j) => [k * 7 + j, j === 3 ? null : j / 2]));
    await table.close();
    const { rows, metadata } = await readParquet(file);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([10, 10, 10, 5]);
    expect(rows.map((r) => r.i)).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(rows[3].x).toBeNull();

    const partial = join(dir, 'partial.csv');
    const aborted = await openTable(partial, 'csv', [{ name: 's', type: 'string' }]);
    await aborted.append([['a,"b"']]);
    await aborted.abort();
    await expect(readFile(partial)).rejects.toThrow(/ENOENT/);
  });
});
