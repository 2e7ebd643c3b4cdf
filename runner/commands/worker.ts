import type { EngineChoice } from '../grid/types.ts';
import { ExitError, UserError } from '../errors.ts';
import { EXIT_INFRA } from '../exec/events.ts';
import { oneLine, runWorker } from '../exec/worker.ts';

export interface WorkerCommandOptions {
  store: string;
  sweep?: string;
  pack?: number;
  engine?: EngineChoice;
}

/**
 * `fitgrid worker`: trains one pack, printing its events as JSON lines on stdout.
 * Exit codes: 0 when the pack is done (failed or diverged trials are stored results), 2 for a
 * user mistake (no manifest, pack out of range: never worth a retry), 75 (EXIT_INFRA) when the
 * store or the trainer's infrastructure failed (store unreachable, engine crash): AWS Batch
 * retries it, as it does 137 and 134 (killed or aborted for memory).
 */
export async function worker(options: WorkerCommandOptions): Promise<void> {
  if (!options.sweep) throw new UserError('Expected `--sweep` (or FITGRID_SWEEP) to name the sweep', { field: 'sweep' });
  const { openStore } = await import('../store/open.ts');
  try {
    const store = await openStore(options.store);
    await runWorker({
      store,
      sweep: options.sweep,
      ...(options.pack !== undefined ? { pack: options.pack } : {}),
      ...(options.engine ? { engine: options.engine } : {}),
      emit: (event) => process.stdout.write(JSON.stringify(event) + '\n'),
    });
  } catch (error) {
    // Exit 2 is a user mistake, never worth a retry. Everything else, an unreachable store
    // (which the store reports as a UserError with exit 1) included, is infrastructure.
    if (error instanceof UserError && error.exitCode === 2) throw error;
    process.stderr.write(`fitgrid worker: infrastructure failure (exit ${EXIT_INFRA}, worth a retry): ${oneLine(error)}\n`);
    throw new ExitError(EXIT_INFRA);
  }
}
