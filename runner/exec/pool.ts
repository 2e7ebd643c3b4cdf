import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import type { EngineChoice } from '../records/config.ts';
import { parseEvent, type WorkerEvent } from '../records/events.ts';

const binPath = fileURLToPath(new URL('../../bin/fitgrid.js', import.meta.url));

export interface PackOutcome {
  pack: number;
  /** null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the worker wrote on stderr, for messages. */
  stderr: string;
}

export interface PoolOptions {
  store: string;
  sweep: string;
  packs: number[];
  concurrency: number;
  engine?: EngineChoice;
  onEvent: (event: WorkerEvent) => void;
  /** Aborting kills the running workers and starts no more. */
  signal: AbortSignal;
}

/**
 * Runs packs in `fitgrid worker` processes, `concurrency` at a time, each given its pack in
 * AWS_BATCH_JOB_ARRAY_INDEX exactly as an AWS Batch child is. Resolves when every started
 * worker has exited; packs not started (after an abort or a failed worker) are absent from
 * the outcomes.
 */
export async function runPool(options: PoolOptions): Promise<PackOutcome[]> {
  const limit = pLimit(options.concurrency);
  const children = new Set<ChildProcess>();
  const kill = () => children.forEach((child) => child.kill('SIGTERM'));
  options.signal.addEventListener('abort', kill, { once: true });
  try {
    // A worker that fails outright (store unreachable, a crash) would fail the same way for
    // every pack left: start no more, let the running ones end.
    let halted = false;
    const outcomes = await Promise.all(
      options.packs.map((pack) =>
        limit(async () => {
          if (options.signal.aborted || halted) return undefined;
          const outcome = await runOne(pack, options, children);
          if (outcome.code !== 0 && !options.signal.aborted) halted = true;
          return outcome;
        }),
      ),
    );
    return outcomes.filter((o): o is PackOutcome => o !== undefined);
  } finally {
    options.signal.removeEventListener('abort', kill);
  }
}

function runOne(pack: number, options: PoolOptions, children: Set<ChildProcess>): Promise<PackOutcome> {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_BATCH_JOB_ARRAY_INDEX: String(pack) };
  delete env.FITGRID_PACK_OFFSET;
  delete env.FITGRID_PACK_LIST;
  // The fused engine starts a thread per core in each worker: share the cores among workers
  // rather than oversubscribe them.
  env.FITGRID_THREADS ??= String(Math.max(1, Math.floor(os.availableParallelism() / options.concurrency)));
  const args = [binPath, 'worker', '--store', options.store, '--sweep', options.sweep, ...(options.engine ? ['--engine', options.engine] : [])];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const event = parseEvent(line);
    if (event) options.onEvent(event);
  });
  return new Promise((resolve) => {
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      children.delete(child);
      resolve({ pack, code, signal, stderr: stderr.trim() });
    };
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
      finish(1, null);
    });
    // 'close' waits for stdout to drain, so every event line is read before the outcome.
    child.on('close', finish);
  });
}
