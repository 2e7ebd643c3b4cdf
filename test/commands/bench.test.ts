import { describe, expect, it, vi } from 'vitest';
import { bench } from '../../runner/commands/bench.ts';

describe('fitgrid bench', () => {
  it('prints one JSON object with every way, its figures and the speedups as positive numbers', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await bench({ quick: true, json: true, epochs: 2 });
    } finally {
      write.mockRestore();
    }
    const printed = write.mock.calls.map((c) => String(c[0])).join('');
    const report = JSON.parse(printed);
    expect(report.backend).toMatch(/^(wasm|cpu|tensorflow)$/);
    expect(report.epochs).toBe(2);
    expect(report.K).toBeGreaterThan(1);
    for (const way of ['layers', 'packed', 'replay']) {
      expect(report.ways[way].msPerTrialEpoch).toBeGreaterThan(0);
      expect(report.ways[way].trialsPerSecond).toBeGreaterThan(0);
    }
    expect(report.ways.replay.trainings * 3).toBe(report.ways.replay.trials);
    expect(report.speedups.packedVsLayers).toBeGreaterThan(0);
    expect(report.speedups.replayVsLayers).toBeGreaterThan(0);
    if (report.ways.fused) expect(report.speedups.fusedVsLayers).toBeGreaterThan(0);
  });
});
