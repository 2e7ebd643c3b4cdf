import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KernelJob, KernelResult } from './kernel.d.mts';

/** Threads for the fused engine: FITGRID_THREADS, else one per core. */
export function threadCount(): number {
  const asked = Number(process.env.FITGRID_THREADS);
  return Number.isInteger(asked) && asked > 0 ? asked : os.availableParallelism();
}

export interface DoneJob<T> { tag: T; result: KernelResult; seconds: number }

/**
 * Runs kernel jobs on `threads` worker threads, each with its own kernel instance, handing the
 * next job to whichever thread is free. `onDone` sees each job as it finishes (in finish order).
 */
export async function runJobs<T, J = KernelJob>(jobs: { tag: T; job: J }[], threads: number,
  onDone: (done: DoneJob<T>) => Promise<void> | void, signal?: AbortSignal,
  script: URL = new URL('./worker.mjs', import.meta.url)): Promise<void> {
  const workers = Array.from({ length: Math.max(1, Math.min(threads, jobs.length)) }, () => new Worker(script));
  let next = 0;
  let failed = false;
  try {
    await Promise.all(workers.map(async (worker) => {
      while (next < jobs.length && !failed) {
        if (signal?.aborted) throw signal.reason ?? new Error('aborted');
        const { tag, job } = jobs[next++];
        const started = performance.now();
        try {
          const result = await runOne(worker, job);
          await onDone({ tag, result, seconds: (performance.now() - started) / 1000 });
        } catch (e) {
          failed = true; // the other threads stop taking jobs
          throw e;
        }
      }
    }));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function runOne(worker: Worker, job: unknown): Promise<KernelResult> {
  return new Promise((resolve, reject) => {
    const cleanup = () => { worker.off('message', onMessage); worker.off('error', onError); worker.off('exit', onExit); };
    const onMessage = (m: { result?: KernelResult; error?: string }) => {
      cleanup();
      if (m.error !== undefined) reject(new Error(`fused kernel: ${m.error}`));
      else resolve(m.result!);
    };
    const onError = (e: Error) => { cleanup(); reject(e); };
    const onExit = (code: number) => { cleanup(); reject(new Error(`fused worker exited with code ${code}`)); };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ id: 0, job });
  });
}
