import type { BatchClient, JobDetail } from '@aws-sdk/client-batch';
import type { LaunchRecord } from './submit.ts';
import { batchError } from './submit.ts';

export const JOB_STATES = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
type JobState = (typeof JOB_STATES)[number];

interface FailedChild {
  jobId: string;
  index?: number;
  reason: string;
  exitCode?: number;
}

export interface BatchStatus {
  /** Children (or plain jobs) per state, over every worker job of the launch. */
  workers: Record<JobState, number>;
  report?: JobState;
  failed: FailedChild[];
  /** Every worker job and the report job have ended. */
  ended: boolean;
}

const emptyCounts = () => Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
const ended = (state: string | undefined) => state === 'SUCCEEDED' || state === 'FAILED';

/** Asks AWS Batch where a launch stands: DescribeJobs for the jobs, ListJobs for failed children. */
export async function batchStatus(client: BatchClient, launch: LaunchRecord): Promise<BatchStatus> {
  const { DescribeJobsCommand, ListJobsCommand } = await import('@aws-sdk/client-batch');
  const settings = { queue: launch.queue, jobDefinition: '?' };
  const ids = [...launch.workers.map((w) => w.jobId), ...(launch.report ? [launch.report.jobId] : [])];
  const jobs = new Map<string, JobDetail>();
  try {
    for (let i = 0; i < ids.length; i += 100) {
      const out = await client.send(new DescribeJobsCommand({ jobs: ids.slice(i, i + 100) }));
      for (const job of out.jobs ?? []) jobs.set(job.jobId!, job);
    }
  } catch (error) {
    throw batchError(error, settings);
  }
  const workers = emptyCounts();
  const failed: FailedChild[] = [];
  let allEnded = true;
  for (const w of launch.workers) {
    const job = jobs.get(w.jobId);
    const summary = job?.arrayProperties?.statusSummary;
    if (job && summary && w.size > 1) {
      for (const s of JOB_STATES) workers[s] += summary[s] ?? 0;
      const done = (summary.SUCCEEDED ?? 0) + (summary.FAILED ?? 0);
      if (done < w.size) allEnded = false;
      if ((summary.FAILED ?? 0) > 0) {
        try {
          let nextToken: string | undefined;
          do {
            const out = await client.send(new ListJobsCommand({ arrayJobId: w.jobId, jobStatus: 'FAILED', ...(nextToken ? { nextToken } : {}) }));
            for (const c of out.jobSummaryList ?? [])
              failed.push({
                jobId: c.jobId!,
                ...(c.arrayProperties?.index !== undefined ? { index: c.arrayProperties.index } : {}),
                reason: c.statusReason ?? c.container?.reason ?? 'unknown',
                ...(c.container?.exitCode !== undefined ? { exitCode: c.container.exitCode } : {}),
              });
            nextToken = out.nextToken;
          } while (nextToken);
        } catch (error) {
          throw batchError(error, settings);
        }
      }
    } else {
      const state = (job?.status ?? 'SUBMITTED') as JobState;
      workers[state] += w.size;
      if (!ended(state)) allEnded = false;
      if (state === 'FAILED')
        failed.push({ jobId: w.jobId, reason: job?.statusReason ?? 'unknown', ...(job?.container?.exitCode !== undefined ? { exitCode: job.container.exitCode } : {}) });
    }
  }
  const report = launch.report ? ((jobs.get(launch.report.jobId)?.status ?? 'SUBMITTED') as JobState) : undefined;
  if (report && !ended(report)) allEnded = false;
  return { workers, ...(report ? { report } : {}), failed, ended: allEnded };
}
