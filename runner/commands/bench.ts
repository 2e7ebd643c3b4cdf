import { formatBench, runBench, type BenchReport } from '../bench/engines.ts';
import type { SuiteReport } from '../bench/suite.ts';
import type { CnnBenchReport } from '../bench/cnn.ts';
import type { ReportBench } from '../bench/report.ts';
import { terminal, type Output } from './output.ts';

export interface BenchCommandOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  quick?: boolean;
  json?: boolean;
  epochs?: number;
  /** Measure the engines for cost estimates and write a calibration file (true: the default file). */
  calibrate?: boolean | string;
  suite?: boolean;
  /** The CNN workloads instead (runner/bench/cnn.ts). */
  cnn?: boolean;
  /** Benchmark the report path on this many synthetic trials instead of the engines. */
  report?: number;
  grid?: string;
  s3?: number;
  summaryOnly?: boolean;
  store?: string;
}

/** `fitgrid bench`: prints the engines' per trial-epoch times and speedups (or one JSON object with --json). */
export async function bench(options: BenchCommandOptions): Promise<BenchReport | SuiteReport | CnnBenchReport | ReportBench> {
  const output = options.output ?? terminal;
  // --json prints one object and nothing else
  const log = options.json ? undefined : (line: string) => output.note(line);
  if (options.report !== undefined) {
    const { benchReport, formatReportBench } = await import('../bench/report.ts');
    const figures = await benchReport({
      trials: options.report, grid: options.grid, s3: options.s3 ?? 10_000, summaryOnly: options.summaryOnly, store: options.store,
      log,
    });
    output.print(options.json ? `${JSON.stringify(figures)}\n` : formatReportBench(figures));
    return figures;
  }
  if (options.calibrate) return (await import('../bench/calibrate.ts')).calibrate(options);
  if (options.cnn) {
    const { runCnnBench, formatCnnBench } = await import('../bench/cnn.ts');
    const report = await runCnnBench({ epochs: options.epochs, log });
    output.print(options.json ? `${JSON.stringify(report)}\n` : formatCnnBench(report));
    return report;
  }
  if (options.suite) {
    const { formatSuite, runSuite } = await import('../bench/suite.ts');
    const report = await runSuite({ quick: options.quick, log });
    output.print(options.json ? `${JSON.stringify(report)}\n` : formatSuite(report));
    return report;
  }
  const report = await runBench({
    quick: options.quick,
    epochs: options.epochs,
    log,
  });
  output.print(options.json ? `${JSON.stringify(report)}\n` : formatBench(report));
  return report;
}
