import { describe, expect, it } from 'vitest';
import { loadDigits } from '../../runner/data/digits.ts';
import { formatCnnBench, timeConv, type CnnBenchReport } from '../../runner/bench/cnn.ts';

describe('fitgrid bench --cnn', () => {
  it('times the conv engine in CPU milliseconds per epoch on a workload', async () => {
    const data = await loadDigits({ trainSize: 40, classes: [0, 1, 2], split: { kind: 'first', train: 100 } });
    const ms = timeConv({ name: 'digits', description: 'small', data: { ...data, val: { x: data.val.x.slice(0, 30), y: data.val.y.slice(0, 30) } }, learningRate: 3e-3, dense: 8 }, 2, true);
    expect(Number.isFinite(ms)).toBe(true);
    expect(ms).toBeGreaterThan(0);
  });

  it('prints each workload and variant with both times and PyTorch\'s time over fitgrid\'s, or a dash without PyTorch', () => {
    const report: CnnBenchReport = {
      epochs: 5,
      pytorch: { source: 'quoted', detail: 'quoted' },
      rows: [
        { workload: 'digits', variant: 'plain', fitgridMs: 10, pytorchMs: 25, ratio: 2.5 },
        { workload: 'fashion', variant: 'augmented', fitgridMs: 400, pytorchMs: null, ratio: null },
      ],
    };
    const lines = formatCnnBench(report).trim().split('\n');
    expect(lines[0]).toMatch(/CPU ms per epoch \(mean of 5 after a warm-up; one thread each; quoted\)/);
    expect(lines[2]).toMatch(/^digits\s+no remedy\s+10\.0\s+25\.0\s+2\.50×$/);
    expect(lines[3]).toMatch(/^fashion\s+dropout 0\.3 \+ augmentation\s+400\.0\s+—\s+—$/);
  });
});
