import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('fitgrid bench --report', () => {
  it('synthesises N trials, measures the summary in a child with its peak RSS and reads results back from S3', async () => {
    const store = await mkdtemp(join(tmpdir(), 'fitgrid-bench-report-'));
    dirs.push(store);
    // the site build (Astro) is left out to keep the suite fast; the summary is what grows with N
    const run = await cli(['bench', '--report', '12', '--grid', 'grids/smoke.yaml', '--summary-only', '--s3', '6', '--store', store, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const figures = JSON.parse(run.stdout);
    expect(figures).toMatchObject({ trials: 12, cells: 4 });
    expect(figures.site).toBeUndefined();
    expect(figures.summary.peakRssMB).toBeGreaterThan(30);
    expect(figures.summary.wallSeconds).toBeGreaterThanOrEqual(figures.summary.seconds);
    const summary = JSON.parse(await readFile(join(store, 'sweeps/smoke/summary.json'), 'utf8'));
    expect(summary.counts.trials).toBe(12);
    expect(figures.summary.summaryMB).toBeCloseTo((await readFile(join(store, 'sweeps/smoke/summary.json'))).length / 1024 / 1024, 1);
    expect(figures.summaryCached.peakRssMB).toBeGreaterThan(30);
    expect(figures.s3).toMatchObject({ results: 6 });
    expect(figures.s3.peakRssMB).toBeGreaterThan(30);
  });
});
