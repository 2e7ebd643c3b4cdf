import { describe, expect, it, vi } from 'vitest';
import { main } from '../../runner/main.ts';

describe('fitgrid bench', () => {
  it('prints one JSON object with every way, its figures and the speedups as positive numbers', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let printed = '';
    let code: number;
    try {
      code = await main(['node', 'fitgrid', 'bench', '--quick', '--json', '--epochs', '2']);
      printed = write.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      write.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(printed);
    expect(report.backend).toMatch(/^(wasm|cpu|tensorflow)$/);
    expect(report.epochs).toBe(2);
    expect(report.K).toBeGreaterThan(1);
    // The seed workload: 2→500→1 on 30 training and 70 validation points: 30·3·2·1500 + 70·2·1500 + 14·2001 flops.
    expect(report.mflopPerEpoch).toBeCloseTo(0.508014, 9);
    for (const way of ['layers', 'packed', 'replay']) {
      expect(report.ways[way].msPerTrialEpoch).toBeGreaterThan(0);
      expect(report.ways[way].trialsPerSecond).toBeGreaterThan(0);
      expect(report.ways[way].gflops).toBeGreaterThan(0);
    }
    expect(report.ways.replay.trainings * 3).toBe(report.ways.replay.trials);
    expect(report.speedups.packedVsLayers).toBeGreaterThan(0);
    expect(report.speedups.replayVsLayers).toBeGreaterThan(0);
    if (report.ways.fused) expect(report.speedups.fusedVsLayers).toBeGreaterThan(0);
  });
});
