import { createHash } from 'node:crypto';
import type { BatchClient, KeyValuePair, RetryStrategy, SubmitJobCommandInput } from '@aws-sdk/client-batch';
import type { Manifest } from '../grid/types.ts';
import { UserError } from '../errors.ts';
import { EXIT_INFRA } from './events.ts';

/** AWS Batch allows 2..10,000 children per array job. */
export const MAX_ARRAY_SIZE = 10_000;

/**
 * Rough GPU seconds per trial-epoch for the estimate: the packed engine trains a pack's MLP
 * trials as one batched model, a few milliseconds per pack-epoch on one GPU for the seed's
 * workload (2→500→1, 30 points) with a pack of ~100 trials. CNN grids cost more: treat the
 * figure as an order of magnitude.
 */
export const GPU_SECONDS_PER_TRIAL_EPOCH = 0.0002;
/** Per child: container start, Node and TensorFlow load, data load. */
export const GPU_SECONDS_PER_CHILD = 60;

export interface LaunchSettings {
  storeUrl: string;
  queue: string;
  jobDefinition: string;
  reportJobDefinition?: string;
  timeout: number;
  attempts: number;
  backend: string;
}

export interface LaunchRequests {
  /** Identity of the plan, in job names: fitgrid-<sweep>-<hash>. */
  jobBase: string;
  planHash: string;
  /** When the missing packs are not one contiguous range: written to the store before submitting. */
  packList?: { id: string; packs: number[] };
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
export const retryStrategy = (attempts: number): RetryStrategy => ({
  attempts,
  evaluateOnExit: [
    { onStatusReason: 'Host EC2*', action: 'RETRY' },
    { onExitCode: String(EXIT_INFRA), action: 'RETRY' },
    { onExitCode: '137', action: 'RETRY' }, // killed for memory by the container runtime
    { onExitCode: '134', action: 'RETRY' }, // Node's own out-of-memory abort
    { onReason: '*', action: 'EXIT' },
  ],
});

/** Batch job names: letters, digits, hyphens and underscores, at most 128. */
export const jobName = (...parts: string[]) => parts.join('-').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128);

const env = (values: Record<string, string | undefined>): KeyValuePair[] =>
  Object.entries(values).filter(([, v]) => v !== undefined).map(([name, value]) => ({ name, value: value! }));

/**
 * The SubmitJob requests for the packs still missing: one array job (one child per pack), a
 * plain job when one pack is left, several array jobs past 10,000 packs; each child finds its
 * pack from AWS_BATCH_JOB_ARRAY_INDEX + FITGRID_PACK_OFFSET (through FITGRID_PACK_LIST when the
 * missing packs are not contiguous).
 */
export function buildLaunchRequests(manifest: Manifest, missingPacks: number[], settings: LaunchSettings): LaunchRequests {
  const sweep = manifest.sweep;
  const planHash = sha([manifest.trials.map((t) => t.trialId), manifest.packs]).slice(0, 8);
  const jobBase = jobName('fitgrid', sweep, planHash);
  const first = missingPacks[0] ?? 0;
  const contiguous = missingPacks.every((p, i) => p === first + i);
  const packList = contiguous ? undefined : { id: sha(missingPacks).slice(0, 16), packs: missingPacks };
  const chunks = Math.ceil(missingPacks.length / MAX_ARRAY_SIZE);
  const common = (): Pick<SubmitJobCommandInput, 'jobQueue' | 'tags' | 'propagateTags'> => ({
    jobQueue: settings.queue,
    tags: { 'fitgrid:sweep': sweep, 'fitgrid:plan': planHash },
    propagateTags: true,
  });
  const workers: SubmitJobCommandInput[] = [];
  for (let k = 0; k < chunks; k++) {
    const size = Math.min(MAX_ARRAY_SIZE, missingPacks.length - k * MAX_ARRAY_SIZE);
    const offset = packList ? k * MAX_ARRAY_SIZE : first + k * MAX_ARRAY_SIZE;
    workers.push({
      ...common(),
      jobName: jobName(jobBase, ...(chunks > 1 ? [`part${k}`] : [])),
      jobDefinition: settings.jobDefinition,
      ...(size > 1 ? { arrayProperties: { size } } : {}),
      retryStrategy: retryStrategy(settings.attempts),
      timeout: { attemptDurationSeconds: settings.timeout },
      containerOverrides: {
        command: ['worker'],
        environment: env({
          FITGRID_STORE: settings.storeUrl,
          FITGRID_SWEEP: sweep,
          FITGRID_BACKEND: settings.backend,
          FITGRID_PACK_OFFSET: String(offset),
          FITGRID_PACK_LIST: packList?.id,
        }),
      },
    });
  }
  const report = (dependsOn: string[]): SubmitJobCommandInput => ({
    ...common(),
    jobName: jobName(jobBase, 'report'),
    jobDefinition: settings.reportJobDefinition ?? settings.jobDefinition,
    dependsOn: dependsOn.map((jobId) => ({ jobId })),
    retryStrategy: retryStrategy(settings.attempts),
    containerOverrides: {
      command: ['report', sweep, '--store', settings.storeUrl, '--publish'],
      environment: env({ FITGRID_STORE: settings.storeUrl, FITGRID_SWEEP: sweep, FITGRID_BACKEND: 'cpu' }),
    },
  });
  return { jobBase, planHash, ...(packList ? { packList } : {}), workers, report };
}

export interface Estimate {
  trialEpochs: number;
  children: number;
  gpuHours: number;
  cost: number;
}

export function estimate(manifest: Manifest, missingPacks: number[], stored: Set<string>, price: number): Estimate {
  const byId = new Map(manifest.trials.map((t) => [t.trialId, t]));
  let trialEpochs = 0;
  for (const p of missingPacks)
    for (const id of manifest.packs[p]!.trialIds) if (!stored.has(id)) trialEpochs += byId.get(id)!.config.train.epochs;
  const gpuHours = (trialEpochs * GPU_SECONDS_PER_TRIAL_EPOCH + missingPacks.length * GPU_SECONDS_PER_CHILD) / 3600;
  return { trialEpochs, children: missingPacks.length, gpuHours, cost: gpuHours * price };
}

/** Batch and credential errors a user can fix, as one line each. */
export function batchError(error: unknown, settings: Pick<LaunchSettings, 'queue' | 'jobDefinition'>): Error {
  const e = error as { name?: string; message?: string };
  const message = (e?.message ?? String(error)).split('\n')[0];
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
  workers: { jobId: string; jobName: string; size: number }[];
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
  for (const input of requests.workers) workers.push({ ...(await send(input)), size: input.arrayProperties?.size ?? 1 });
  const report = await send(requests.report(workers.map((w) => w.jobId)));
  return { launchedAt: new Date().toISOString(), planHash: requests.planHash, queue: settings.queue, workers, report };
}
