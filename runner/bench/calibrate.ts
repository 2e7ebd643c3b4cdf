import { formatBench, runBench, type BenchReport } from './engines.ts';
import { CALIBRATION_RUNS, calibrationFromBench, describeMachine, writeCalibration } from './calibration.ts';
import { userCalibration } from '../exec/batch/costs.ts';

/**
 * `fitgrid bench --calibrate [file]`: runs the bench CALIBRATION_RUNS times on this machine and
 * writes the engines' CPU seconds per GFLOP (median and spread) for launch's and plan's estimates.
 */
export async function calibrate(options: { quick?: boolean; epochs?: number; calibrate?: boolean | string }): Promise<BenchReport> {
  const file = typeof options.calibrate === 'string' ? options.calibrate : userCalibration;
  const log = (line: string) => void process.stderr.write(`${line}\n`);
  const reports: BenchReport[] = [];
  for (let run = 1; run <= CALIBRATION_RUNS; run++) {
    log(`calibration run ${run} of ${CALIBRATION_RUNS}`);
    reports.push(await runBench({ quick: options.quick, epochs: options.epochs, log }));
  }
  const argv = ['fitgrid bench --calibrate', ...(typeof options.calibrate === 'string' ? [options.calibrate] : []), ...(options.quick ? ['--quick'] : []), ...(options.epochs ? ['--epochs', String(options.epochs)] : [])];
  const calibration = calibrationFromBench(reports, { machine: describeMachine(), date: new Date().toISOString().slice(0, 10), command: argv.join(' ') });
  await writeCalibration(calibration, file);
  process.stdout.write(formatBench(reports.at(-1)!));
  for (const [engine, figure] of Object.entries(calibration.engines))
    process.stdout.write(`  ${engine}: ${figure.cpuSecondsPerGflop.toFixed(3)} CPU s/GFLOP (runs ${figure.spread[0].toFixed(3)}–${figure.spread[1].toFixed(3)})\n`);
  process.stdout.write(`calibration written to ${file}\n`);
  return reports.at(-1)!;
}
