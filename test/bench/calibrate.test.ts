import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { BenchReport, WayFigures } from '../../runner/bench/engines.ts';
import { main } from '../../runner/main.ts';
import { loadCalibration } from '../../runner/exec/batch/costs.ts';

// The bench itself is measured by its own test; here three runs of it are stand-ins, so the
// calibration's arithmetic and the file it writes can be checked exactly.
const way = (cpuMsPerTrialEpoch: number): WayFigures => ({ trials: 216, trainings: 72, seconds: 1, msPerTrialEpoch: 1, trialsPerSecond: 1, cpuMsPerTrialEpoch, gflops: 1 });
const fused = [0.03, 0.05, 0.04];
let run = 0;
vi.mock('../../runner/bench/engines.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runner/bench/engines.ts')>()),
  runBench: async (): Promise<BenchReport> => ({
    backend: 'wasm', device: 'wasm simd (test)', epochs: 2, K: 54, mflopPerEpoch: 0.5,
    ways: { layers: way(3), packed: way(0.1), replay: way(0.1), fused: way(fused[run++ % 3]) },
    speedups: { packedVsLayers: 1, replayVsLayers: 1, fusedVsLayers: 1 },
  }),
}));

const dir = mkdtempSync(path.join(tmpdir(), 'fitgrid-calibrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fitgrid bench --calibrate', () => {
  it('runs the bench three times and writes a calibration, with its machine, date and command, that launch can load', async () => {
    const file = path.join(dir, 'mine.json');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const log = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await main(['node', 'fitgrid', 'bench', '--calibrate', file, '--quick']);
    } finally {
      write.mockRestore();
      log.mockRestore();
    }
    expect(code).toBe(0);
    expect(run).toBe(3);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written.command).toBe(`fitgrid bench --calibrate ${file} --quick`);
    expect(written.date).toBe(new Date().toISOString().slice(0, 10));
    expect(written.machine).toMatch(/logical cores/);
    expect(written.backend).toBe('wasm simd (test)');
    // 0.04 ms per trial-epoch × 216 / 72 = 0.12 ms per training-epoch of 0.5 MFLOP: 0.24 s per GFLOP.
    expect(written.engines.fused.cpuSecondsPerGflop).toBeCloseTo(0.24, 10);
    expect(written.engines.fused.spread).toEqual([expect.closeTo(0.18, 10), expect.closeTo(0.3, 10)]);
    expect((await loadCalibration(file)).calibration.engines.fused.runs).toBe(3);
  });
});
