import os from 'node:os';
import { rename, writeFile } from 'node:fs/promises';
import type { BenchReport, WayFigures } from './engines.ts';
import { fitgridVersion } from '../version.ts';
import { userCalibration, type Calibration, type EngineCalibration } from '../exec/batch/costs.ts';

/** Runs of the bench a calibration takes: the machine may be shared, so the spread is kept beside the median. */
export const CALIBRATION_RUNS = 3;

/**
 * Assumptions until someone measures them: the packed engine's earlier GPU guess, a T4 step of
 * a small CNN, a CPU step for an engine without a figure, and container start (image pull, Node).
 */
export const ASSUMED: Calibration['assumed'] = {
  gpuPackedSecondsPerTrialEpoch: 0.0002,
  gpuLayersSecondsPerStep: 0.005,
  cpuSecondsPerStep: 0.05,
  childStartSeconds: { cpu: 60, gpu: 180 },
  note: 'not measured: no GPU and no AWS account were available where fitgrid was calibrated; replace with figures from a real run',
};

/** CPU seconds (all threads) per GFLOP of training work: steadier than wall time on a shared machine. */
export function cpuSecondsPerGflop(way: WayFigures, mflopPerEpoch: number): number {
  const cpuSecondsPerTrainingEpoch = (way.cpuMsPerTrialEpoch * way.trials) / way.trainings / 1000;
  return cpuSecondsPerTrainingEpoch / (mflopPerEpoch / 1000);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A calibration from several bench reports of one machine: per engine, the median and the spread. */
export function calibrationFromBench(reports: BenchReport[], meta: { machine: string; date: string; command: string; note?: string }): Calibration {
  const engines: Record<string, EngineCalibration> = {};
  for (const name of ['fused', 'layers'] as const) {
    const figures = reports.flatMap((r) => (r.ways[name] ? [cpuSecondsPerGflop(r.ways[name], r.mflopPerEpoch)] : []));
    if (figures.length === 0) continue;
    engines[name] = { cpuSecondsPerGflop: median(figures), spread: [Math.min(...figures), Math.max(...figures)], runs: figures.length };
  }
  return {
    machine: meta.machine,
    date: meta.date,
    command: meta.command,
    backend: reports[0]?.device ?? 'unknown',
    ...(meta.note ? { note: meta.note } : {}),
    engines,
    assumed: ASSUMED,
  };
}

/** This machine in words, for the calibration's `machine`. */
export function describeMachine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} logical cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${process.platform}/${process.arch}, Node ${process.versions.node}, fitgrid ${fitgridVersion}`;
}

/** Writes a calibration atomically (temporary file, then rename). */
export async function writeCalibration(calibration: Calibration, file = userCalibration): Promise<string> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(calibration, null, 2) + '\n');
  await rename(temporary, file);
  return file;
}
