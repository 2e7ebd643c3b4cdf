import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorch, formatSuite, runSuite } from '../../runner/bench/suite.ts';
import { suiteWorkloads } from '../../runner/bench/workloads.ts';

// Timing figures are never asserted (speed belongs to `fitgrid bench`): these tests hold the
// suite's plumbing: both variants of each workload, PyTorch's side from a child or quoted, ratios.
const seedOnly = suiteWorkloads.filter((w) => w.name === 'seed');
let dir: string;
let fakePython: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fitgrid-suite-'));
  // stands in for a python with torch: answers the probe, then one line per workload it is sent
  fakePython = path.join(dir, 'python-fake');
  await writeFile(fakePython, [
    '#!/bin/sh',
    'if [ "$2" = "--probe" ]; then echo \'{"torch": "0.0-fake"}\'; exit 0; fi',
    'while read -r line; do echo \'{"cpuMs": 2.5, "wallMs": 3}\'; done',
  ].join('\n'));
  await chmod(fakePython, 0o755);
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('runSuite', () => {
  it('lists the seed, tabular and wide workloads, each with a PyTorch loop and a figure to quote', () => {
    expect(suiteWorkloads.map((w) => w.name)).toEqual(['seed', 'tabular', 'wide']);
    for (const w of suiteWorkloads) {
      expect(w.pytorch.kind).toBe('mlp');
      expect(w.measured.plain).toBeGreaterThan(0);
      expect(w.measured.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    const tabular = suiteWorkloads[1];
    expect(tabular.pytorch).toMatchObject({ layers: [30, 256, 256, 1], train: 170, val: 398, batch: 32 });
    expect(suiteWorkloads[2].pytorch).toMatchObject({ layers: [784, 512, 512, 10], train: 1000, batch: 32 });
  });

  it('times each workload without and with dropout beside the reference loop, and divides', async () => {
    const report = await runSuite({ quick: true, reps: 1, pythons: [fakePython], workloads: seedOnly });
    expect(report.pytorch).toEqual({ python: fakePython, torch: '0.0-fake' });
    expect(report.rows.map((r) => r.dropout)).toEqual([0, 0.5]);
    for (const row of report.rows) {
      expect(row.fitgrid.cpuMs).toBeGreaterThan(0);
      expect(row.fitgrid.gflops).toBeCloseTo(seedOnly[0].flopsPerEpoch / row.fitgrid.cpuMs / 1e6, 6);
      expect(row.pytorch).toMatchObject({ cpuMs: 2.5, wallMs: 3, source: 'measured' });
      expect(row.ratio).toBeCloseTo(2.5 / row.fitgrid.cpuMs, 9);
    }
    expect(formatSuite(report)).toContain('0.0-fake, one thread');
  });

  it('quotes the last measured PyTorch figures, with their date, when no python has torch', async () => {
    expect(findTorch([path.join(dir, 'no-such-python')])).toBeNull();
    const report = await runSuite({ quick: true, reps: 1, pythons: [path.join(dir, 'no-such-python')], workloads: seedOnly });
    expect(report.pytorch).toBeNull();
    const [plain, dropout] = report.rows;
    const { measured } = seedOnly[0];
    expect(plain.pytorch).toMatchObject({ cpuMs: measured.plain, source: 'quoted', date: measured.date });
    expect(dropout.pytorch).toMatchObject({ cpuMs: measured.dropout, source: 'quoted' });
    expect(plain.ratio).toBeCloseTo(measured.plain / plain.fitgrid.cpuMs, 9);
    const text = formatSuite(report);
    expect(text).toContain(`(${measured.date})`);
    expect(text).toMatch(/^ {2}seed +0 +[\d.]+ +[\d.]+ +[\d.]+ \(\d{4}-\d{2}-\d{2}\) +[\d.]+ +[\d.]+×$/m);
  });
});
