import type { BatchClient } from '@aws-sdk/client-batch';
import type { Store } from '../store/store.ts';
import { batchStatus, JOB_STATES, type BatchStatus } from '../exec/batch/status.ts';
import { readJobs } from '../exec/batch/jobs.ts';
import { readManifest } from '../store/manifest.ts';
import { storeStatus, type StoreCounts } from '../exec/store-status.ts';
import { terminal, type Output } from './output.ts';

// The AWS SDK warns on every command that future versions need Node 22; fitgrid pins it (NOTES.md).

export interface StatusOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  sweep: string;
  store: string;
  watch?: boolean;
  interval?: number;
  /** For tests. */
  batch?: BatchClient;
  openStore?: (url: string) => Promise<Store>;
  sleep?: (ms: number) => Promise<void>;
}

export function formatStatus(sweep: string, counts: StoreCounts, batch?: BatchStatus, launches = 0): string {
  const lines = [
    `sweep "${sweep}" — store: ${counts.ok} ok, ${counts.failed} failed, ${counts.diverged} diverged, ${counts.missing} missing of ${counts.total} trials`,
  ];
  if (!batch) {
    lines.push('no AWS Batch jobs recorded for this sweep (a local run): the store side only');
    return lines.join('\n');
  }
  lines.push(`batch (latest of ${launches} launch${launches === 1 ? '' : 'es'}): ` + JOB_STATES.filter((s) => batch.workers[s] > 0).map((s) => `${batch.workers[s]} ${s}`).join(', ') +
    (batch.report ? `; report job ${batch.report}` : ''));
  for (const f of batch.failed.slice(0, 20))
    lines.push(`  failed ${f.index !== undefined ? `child ${f.index}` : 'job'} ${f.jobId}: ${f.reason}${f.exitCode !== undefined ? ` (exit ${f.exitCode})` : ''}`);
  if (batch.failed.length > 20) lines.push(`  … and ${batch.failed.length - 20} more`);
  if (batch.failed.length > 0)
    lines.push(`${batch.failed.length} worker job(s) failed after their retries; \`fitgrid launch\` of the same grid re-runs only the missing packs`);
  if (batch.ended) lines.push(counts.missing === 0 ? 'all jobs ended; every trial is stored' : `all jobs ended; ${counts.missing} trials are missing`);
  return lines.join('\n');
}

/** `fitgrid status`: AWS Batch job states of the latest launch next to the trials in the store. */
export async function status(options: StatusOptions): Promise<void> {
  const output = options.output ?? terminal;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const store = await (options.openStore ?? (await import('../store/open.ts')).openStore)(options.store);
  const manifest = await readManifest(store, options.sweep);
  const jobs = await readJobs(store, options.sweep);
  const launch = jobs?.launches.at(-1);
  let client = options.batch;
  if (launch && !client) client = new (await import('@aws-sdk/client-batch')).BatchClient({});
  for (;;) {
    const batch = launch ? await batchStatus(client!, launch) : undefined;
    const counts = await storeStatus(store, manifest);
    output.print(`${options.watch ? `[${new Date().toISOString().slice(11, 19)}] ` : ''}${formatStatus(options.sweep, counts, batch, jobs?.launches.length ?? 0)}`);
    if (!options.watch || !batch || batch.ended) return;
    await sleep((options.interval ?? 30) * 1000);
  }
}
