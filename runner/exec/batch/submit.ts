import { createHash } from 'node:crypto';
import type { BatchClient, KeyValuePair, RetryStrategy, SubmitJobCommandInput } from '@aws-sdk/client-batch';
import type { Manifest } from '../../records/manifest.ts';
import { UserError, firstLine } from '../../errors.ts';
import { EXIT_INFRA } from '../../records/events.ts';

/** AWS Batch allows 2..10,000 children per array job. */
export const MAX_ARRAY_SIZE = 10_000;

export interface LaunchSettings {
  storeUrl: string;
  queue: string;
  jobDefinition: string;
  reportJobDefinition?: string;
  /** The report job's queue (default: `queue`); a Fargate report job needs a Fargate queue. */
  reportQueue?: string;
  /** The report job runs on Fargate: retry on Fargate Spot reclaims. */
  reportOnFargate?: boolean;
  timeout: number;
  attempts: number;
  backend: string;
}

/** Where a share of the packs goes: one array job (or several past 10,000 packs) on one queue. */
export interface LaunchTarget {
  /** 'cpu' or 'gpu' when launch routes; undefined when one queue takes everything (no suffix in job names). */
  placement?: 'cpu' | 'gpu';
  queue: string;
  jobDefinition: string;
  /** Missing packs for this queue, in index order. */
  packs: number[];
  /** Extra container environment (FITGRID_BACKEND, FITGRID_THREADS). */
  environment: Record<string, string>;
  /** Fargate children are reclaimed with another reason than EC2 hosts. */
  fargate?: boolean;
}

export interface LaunchRequests {
  /** Identity of the plan, in job names: fitgrid-<sweep>-<hash>. */
  jobBase: string;
  planHash: string;
  /** For each target whose missing packs are not one contiguous range: written to the store before submitting. */
  packLists: { id: string; packs: number[] }[];
  workers: SubmitJobCommandInput[];
  /** The report job, given the worker job ids it waits for. */
  report: (dependsOn: string[]) => SubmitJobCommandInput;
}

const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * Retry Spot reclaims and the worker's infrastructure exit codes, nothing else: a user mistake
 * (exit 2) or a bug fails at once. First match wins; a job matching no rule would be retried,
 * hence the final catch-all EXIT.
 */
const retryStrategy = (attempts: number, fargate = false): RetryStrategy => ({
  attempts,
  evaluateOnExit: [
    { onStatusReason: fargate ? FARGATE_SPOT_RECLAIMED : 'Host EC2*', action: 'RETRY' },
    { onExitCode: String(EXIT_INFRA), action: 'RETRY' },
    { onExitCode: '137', action: 'RETRY' }, // killed for memory by the container runtime
    { onExitCode: '134', action: 'RETRY' }, // Node's own out-of-memory abort
    { onReason: '*', action: 'EXIT' },
  ],
});

/** The reason ECS gives a Fargate Spot task it reclaims (as infra/stack.ts's job definitions). */
const FARGATE_SPOT_RECLAIMED = 'Your Spot Task was interrupted*';

/** Batch job names: letters, digits, hyphens and underscores, at most 128. */
const jobName = (...parts: string[]) => parts.join('-').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128);

const env = (values: Record<string, string | undefined>): KeyValuePair[] =>
  Object.entries(values).filter(([, v]) => v !== undefined).map(([name, value]) => ({ name, value: value! }));

/**
 * The SubmitJob requests for the packs still missing, all on one queue: one array job (one
 * child per pack), a plain job when one pack is left, several array jobs past 10,000 packs; each
 * child finds its pack from AWS_BATCH_JOB_ARRAY_INDEX + FITGRID_PACK_OFFSET (through
 * FITGRID_PACK_LIST when the missing packs are not contiguous).
 */
export function buildLaunchRequests(manifest: Manifest, missingPacks: number[], settings: LaunchSettings): LaunchRequests {
  return buildRoutedRequests(manifest, [{ queue: settings.queue, jobDefinition: settings.jobDefinition, packs: missingPacks, environment: { FITGRID_BACKEND: settings.backend } }], settings);
}

/**
 * The SubmitJob requests for several targets (the CPU and the GPU queue): each target's packs as
 * buildLaunchRequests lays them out, and one report job that depends on every worker job.
 */
export function buildRoutedRequests(manifest: Manifest, targets: LaunchTarget[], settings: LaunchSettings): LaunchRequests {
  const sweep = manifest.sweep;
  const planHash = sha([manifest.trials.map((t) => t.trialId), manifest.packs]).slice(0, 8);
  const jobBase = jobName('fitgrid', sweep, planHash);
  const common = (queue: string): Pick<SubmitJobCommandInput, 'jobQueue' | 'tags' | 'propagateTags'> => ({
    jobQueue: queue,
    tags: { 'fitgrid:sweep': sweep, 'fitgrid:plan': planHash },
    propagateTags: true,
  });
  const workers: SubmitJobCommandInput[] = [];
  const packLists: LaunchRequests['packLists'] = [];
  for (const target of targets.filter((t) => t.packs.length > 0)) {
    const missing = target.packs;
    const first = missing[0];
    const contiguous = missing.every((p, i) => p === first + i);
    const packList = contiguous ? undefined : { id: sha(missing).slice(0, 16), packs: missing };
    if (packList) packLists.push(packList);
    const chunks = Math.ceil(missing.length / MAX_ARRAY_SIZE);
    for (let k = 0; k < chunks; k++) {
      const size = Math.min(MAX_ARRAY_SIZE, missing.length - k * MAX_ARRAY_SIZE);
      const offset = packList ? k * MAX_ARRAY_SIZE : first + k * MAX_ARRAY_SIZE;
      workers.push({
        ...common(target.queue),
        jobName: jobName(jobBase, ...(target.placement ? [target.placement] : []), ...(chunks > 1 ? [`part${k}`] : [])),
        jobDefinition: target.jobDefinition,
        ...(size > 1 ? { arrayProperties: { size } } : {}),
        retryStrategy: retryStrategy(settings.attempts, target.fargate),
        timeout: { attemptDurationSeconds: settings.timeout },
        containerOverrides: {
          command: ['worker'],
          environment: env({
            FITGRID_STORE: settings.storeUrl,
            FITGRID_SWEEP: sweep,
            ...target.environment,
            FITGRID_PACK_OFFSET: String(offset),
            FITGRID_PACK_LIST: packList?.id,
          }),
        },
      });
    }
  }
  const report = (dependsOn: string[]): SubmitJobCommandInput => ({
    ...common(settings.reportQueue ?? settings.queue),
    jobName: jobName(jobBase, 'report'),
    jobDefinition: settings.reportJobDefinition ?? settings.jobDefinition,
    dependsOn: dependsOn.map((jobId) => ({ jobId })),
    retryStrategy: retryStrategy(settings.attempts, settings.reportOnFargate),
    containerOverrides: {
      command: ['report', sweep, '--store', settings.storeUrl, '--publish'],
      environment: env({ FITGRID_STORE: settings.storeUrl, FITGRID_SWEEP: sweep, FITGRID_BACKEND: 'cpu' }),
    },
  });
  return { jobBase, planHash, packLists, workers, report };
}

/** Batch and credential errors a user can fix, as one line each. */
export function batchError(error: unknown, settings: Pick<LaunchSettings, 'queue' | 'jobDefinition'>): Error {
  const e = error as { name?: string; message?: string };
  const message = firstLine(error);
  if (e?.name === 'ClientException') {
    const hint = /does not exist|not found|not valid/i.test(message ?? '')
      ? ` (check that job queue "${settings.queue}" and job definition "${settings.jobDefinition}" exist in this account and region)`
      : '';
    return new UserError(`AWS Batch refused the request: ${message}${hint}`, {}, 1);
  }
  if (e?.name === 'AccessDeniedException' || e?.name === 'UnrecognizedClientException' || e?.name === 'ExpiredTokenException')
    return new UserError(`AWS Batch denied access: ${message} (the credentials need batch:SubmitJob, batch:DescribeJobs and batch:ListJobs)`, {}, 1);
  if (e?.name === 'CredentialsProviderError') return new UserError(`no AWS credentials found: ${message} (set AWS_PROFILE or AWS_ACCESS_KEY_ID)`, {}, 1);
  if (/region is missing/i.test(message ?? '')) return new UserError('no AWS region configured: set AWS_REGION or a profile with a region', {}, 1);
  return error as Error;
}

export interface LaunchRecord {
  launchedAt: string;
  planHash: string;
  queue: string;
  /** Each worker job's queue is in its request; `queue` is the first one. */
  workers: { jobId: string; jobName: string; size: number; queue?: string }[];
  report?: { jobId: string; jobName: string };
}

/** Sends the requests in order (workers, then the report job depending on all of them). */
export async function submit(client: BatchClient, requests: LaunchRequests, settings: LaunchSettings): Promise<LaunchRecord> {
  const { SubmitJobCommand } = await import('@aws-sdk/client-batch');
  const send = async (input: SubmitJobCommandInput) => {
    try {
      const out = await client.send(new SubmitJobCommand(input));
      return { jobId: out.jobId!, jobName: out.jobName ?? input.jobName! };
    } catch (error) {
      throw batchError(error, settings);
    }
  };
  const workers = [];
  for (const input of requests.workers) workers.push({ ...(await send(input)), size: input.arrayProperties?.size ?? 1, queue: input.jobQueue! });
  const report = await send(requests.report(workers.map((w) => w.jobId)));
  return { launchedAt: new Date().toISOString(), planHash: requests.planHash, queue: settings.queue, workers, report };
}
