import { formatBench, runBench, type BenchReport } from '../train/bench.ts';

export interface BenchCommandOptions {
  quick?: boolean;
  json?: boolean;
  epochs?: number;
  /** Measure the engines for cost estimates and write a calibration file (true: the default file). */
  calibrate?: boolean | string;
}

/** `fitgrid bench`: prints the engines' per trial-epoch times and speedups (or one JSON object with --json). */
export async function bench(options: BenchCommandOptions): Promise<BenchReport> {
  if (options.calibrate) return (await import('../exec/calibrate-command.ts')).calibrate(options);
  const report = await runBench({
    quick: options.quick,
    epochs: options.epochs,
    log: options.json ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatBench(report));
  return report;
}
