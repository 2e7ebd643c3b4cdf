import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ASSUMED, calibrationFromBench, cpuSecondsPerGflop } from '../../../runner/bench/calibration.ts';
import { loadCalibration, loadPrices, queueCost, withPriceOverrides, type Calibration } from '../../../runner/exec/batch/costs.ts';
import { UserError } from '../../../runner/errors.ts';
import type { BenchReport, WayFigures } from '../../../runner/bench/engines.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fitgrid-costs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const way = (cpuMsPerTrialEpoch: number): WayFigures => ({ trials: 216, trainings: 72, seconds: 1, msPerTrialEpoch: 1, trialsPerSecond: 1, cpuMsPerTrialEpoch, gflops: 1 });
const report = (fused: number): BenchReport => ({
  backend: 'wasm', device: 'wasm simd', epochs: 200, K: 216, mflopPerEpoch: 0.5,
  ways: { layers: way(3), packed: way(0.1), replay: way(0.1), fused: way(fused) },
  speedups: { packedVsLayers: 1, replayVsLayers: 1, fusedVsLayers: 1 },
});
const calibration: Calibration = { machine: 'm', date: '2026-12-03', command: 'c', backend: 'wasm', engines: { fused: { cpuSecondsPerGflop: 0.2, spread: [0.2, 0.2], runs: 1 } }, assumed: ASSUMED };

describe('calibrationFromBench', () => {
  it('turns CPU time per trial-epoch into CPU seconds per GFLOP of training work', () => {
    // 0.03 ms per trial-epoch × 216 trials / 72 trainings = 0.09 ms per training-epoch of 0.5 MFLOP.
    expect(cpuSecondsPerGflop(way(0.03), 0.5)).toBeCloseTo(0.18, 10);
  });

  it('keeps the median of the runs and their spread, with the machine, date and command', () => {
    const c = calibrationFromBench([report(0.03), report(0.05), report(0.04)], { machine: 'here', date: '2026-12-03', command: 'fitgrid bench --calibrate' });
    expect(c.engines.fused).toEqual({ cpuSecondsPerGflop: expect.closeTo(0.24, 10), spread: [expect.closeTo(0.18, 10), expect.closeTo(0.3, 10)], runs: 3 });
    expect(c.engines.layers.runs).toBe(3);
    expect(c).toMatchObject({ machine: 'here', date: '2026-12-03', command: 'fitgrid bench --calibrate', assumed: ASSUMED });
  });
});

describe('loadCalibration', () => {
  it('reads the bundled calibration, which names its machine, date and command', async () => {
    const { calibration: c, file } = await loadCalibration(undefined, {});
    expect(file).toMatch(/runner\/exec\/batch\/calibration\.json$/);
    expect(c.engines.fused.cpuSecondsPerGflop).toBeGreaterThan(0);
    expect(c.engines.fused.spread[0]).toBeLessThanOrEqual(c.engines.fused.spread[1]);
    expect(c.date).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(c.command).toMatch(/^fitgrid bench --calibrate/);
  });

  it('takes FITGRID_CALIBRATION, and refuses a file without the fused figure in one line', async () => {
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(calibration));
    expect((await loadCalibration(undefined, { FITGRID_CALIBRATION: good })).file).toBe(good);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ engines: {} }));
    const error = await loadCalibration(bad).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/bad\.json: field `engines\.fused`: Expected the calibration file to have engines\.fused\.cpuSecondsPerGflop/);
  });
});

describe('prices', () => {
  it('come from a table that names its region, date and sources', async () => {
    const prices = await loadPrices();
    expect(prices.region).toBe('us-east-1');
    expect(prices.retrieved).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(prices.fargate.vcpuHour).toBeGreaterThan(0);
    expect(prices.gpuInstanceHour['g4dn.xlarge']).toBeGreaterThan(0);
  });

  it('take --price as a GPU-hour price or as named overrides, and refuse anything else', async () => {
    const prices = await loadPrices();
    expect(withPriceOverrides(prices, '1.5', 'g4dn.xlarge').gpuInstanceHour['g4dn.xlarge']).toBe(1.5);
    const named = withPriceOverrides(prices, 'vcpu-hour=0.1,gb-hour=0.01,gpu-hour=2', 'g5.xlarge');
    expect([named.fargate.vcpuHour, named.fargate.gbHour, named.gpuInstanceHour['g5.xlarge']]).toEqual([0.1, 0.01, 2]);
    expect(prices.fargate.vcpuHour).not.toBe(0.1);
    expect(() => withPriceOverrides(prices, 'cheap', 'g4dn.xlarge')).toThrow(/Expected `--price` to be a number or gpu-hour=N/);
    expect(() => withPriceOverrides(prices, 'tpu-hour=1', 'g4dn.xlarge')).toThrow(/keys gpu-hour, vcpu-hour or gb-hour, got tpu-hour/);
  });
});

describe('queueCost', () => {
  const prices = { region: 'r', retrieved: 'd', fargate: { vcpuHour: 0.04, gbHour: 0.004, ephemeralGbHourAbove20: 0, spotDiscountUpTo: 0.7 }, publicIpv4Hour: 0.005, gpuInstanceHour: { 'g4dn.xlarge': 0.5 } };

  it('bills Fargate children for vCPUs, memory and a public address, start-up included', () => {
    const c = queueCost({ placement: 'cpu', children: 2, trainingSeconds: 3600 - 120, vcpus: 4, memoryMiB: 8192, gpuInstanceType: 'g4dn.xlarge' }, calibration, prices);
    expect(c.vcpuHours).toBeCloseTo(4); // one hour of children, start-up (2 × 60 s) included, on 4 vCPUs
    expect(c.usd).toBeCloseTo(4 * 0.04 + 8 * 0.004 + 0.005);
    expect(c.gpuHours).toBe(0);
  });

  it('bills GPU children by the instance-hour', () => {
    const c = queueCost({ placement: 'gpu', children: 1, trainingSeconds: 3600 - 180, vcpus: 4, memoryMiB: 8192, gpuInstanceType: 'g4dn.xlarge' }, calibration, prices);
    expect(c.gpuHours).toBeCloseTo(1);
    expect(c.usd).toBeCloseTo(0.5);
    expect(() => queueCost({ placement: 'gpu', children: 1, trainingSeconds: 1, vcpus: 4, memoryMiB: 8192, gpuInstanceType: 'p5.48xlarge' }, calibration, prices)).toThrow(/no price for p5\.48xlarge/);
  });
});
