import type { EngineChoice } from '../records/config.ts';
import { ExitError, firstLine, UserError } from '../errors.ts';
import { EXIT_INFRA } from '../records/events.ts';
import { runWorker } from '../exec/worker.ts';
import { terminal, type Output } from './output.ts';

export interface WorkerCommandOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  store: string;
  sweep?: string;
  pack?: number;
  engine?: EngineChoice;
}

/**
 * `fitgrid worker`: trains one pack, printing its events as JSON lines on stdout.
 * Exit codes: 0 when the pack is done (failed or diverged trials are stored results), 2 for
 * anything a retry cannot fix (no manifest, a broken one, pack out of range, a fault the same
 * input repeats), 75 (EXIT_INFRA) when the infrastructure failed (store unreachable, a system
 * call, memory): AWS Batch retries it, as it does 137 and 134 (killed or aborted for memory).
 */
export async function worker(options: WorkerCommandOptions): Promise<void> {
  const output = options.output ?? terminal;
  if (!options.sweep) throw new UserError('Expected `--sweep` (or FITGRID_SWEEP) to name the sweep', { field: 'sweep' });
  const { openStore } = await import('../store/open.ts');
  try {
    const store = await openStore(options.store);
    await runWorker({
      store,
      sweep: options.sweep,
      ...(options.pack !== undefined ? { pack: options.pack } : {}),
      ...(options.engine ? { engine: options.engine } : {}),
      emit: (event) => output.print(JSON.stringify(event) + '\n'),
    });
  } catch (error) {
    if (error instanceof UserError && error.exitCode === 2) throw error;
    if (isInfrastructure(error)) {
      output.note(`fitgrid worker: infrastructure failure (exit ${EXIT_INFRA}, worth a retry): ${firstLine(error)}\n`);
      throw new ExitError(EXIT_INFRA);
    }
    // Anything else is a fault in the manifest or in fitgrid that the same input reproduces:
    // retrying it only burns compute. The stack goes to the log, for a bug report.
    output.note(`${(error as Error)?.stack ?? String(error)}\nfitgrid worker: not worth a retry (exit 2): ${firstLine(error)}\n`);
    throw new ExitError(2);
  }
}

/**
 * Failures a retry may cure: the store unreachable or refusing (the store's UserErrors other
 * than exit 2), a system call failing (a connection reset, a full disk), an AWS service error,
 * memory that could not be allocated, a worker thread that died.
 */
export function isInfrastructure(error: unknown): boolean {
  if (error instanceof UserError) return error.exitCode !== 2;
  const e = error as { errno?: unknown; syscall?: unknown; code?: unknown; $metadata?: unknown; name?: unknown; message?: unknown } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.errno === 'number' || typeof e.syscall === 'string' || e.$metadata !== undefined) return true;
  if (typeof e.code === 'string' && /^(E[A-Z]+|ERR_WORKER_\w+)$/.test(e.code)) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  return error instanceof RangeError && /alloc|out of memory/i.test(String(e.message));
}
