import type { EngineChoice } from '../records/config.ts';
import { ExitError } from '../errors.ts';
import { formatSummary, runLocal } from '../exec/local.ts';
import { terminal, type Output } from './output.ts';

export interface RunOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  grid: string;
  store: string;
  concurrency?: number;
  packSize?: number;
  engine?: EngineChoice;
  report?: boolean;
  out?: string;
  /** `--data-root`: folders data files may lie in. */
  dataRoot?: string[];
}

/**
 * `fitgrid run`: trains what is missing of a grid on this machine and prints a summary. Exit 130
 * when interrupted, 1 when a trial failed or diverged or a pack's worker failed (after everything
 * else ran, the report included), 0 otherwise.
 */
export async function run(options: RunOptions): Promise<void> {
  const output = options.output ?? terminal;
  const { openStore } = await import('../store/open.ts');
  const store = await openStore(options.store);
  const summary = await runLocal({
    grid: options.grid,
    storeArg: options.store,
    store,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.packSize ? { packSize: options.packSize } : {}),
    ...(options.engine ? { engine: options.engine } : {}),
    ...(options.dataRoot ? { dataRoots: options.dataRoot } : {}),
  });
  output.print(formatSummary(summary, store.url));
  if (summary.interrupted) throw new ExitError(130);
  if (options.report) {
    const { report } = await import('./report.ts');
    await report({ sweep: summary.sweep, store: options.store, ...(options.out ? { out: options.out } : {}) });
  }
  if (summary.failed + summary.diverged > 0 || summary.packFailures.length > 0) throw new ExitError(1);
}
