import { formatBench, runBench, type BenchReport } from '../train/bench.ts';

export interface BenchCommandOptions {
  quick?: boolean;
  json?: boolean;
  epochs?: number;
}

/** `fitgrid bench`: prints the engines' per trial-epoch times and speedups (or one JSON object with --json). */
export async function bench(options: BenchCommandOptions): Promise<BenchReport> {
  const report = await runBench({
    quick: options.quick,
    epochs: options.epochs,
    log: options.json ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatBench(report));
  return report;
}
