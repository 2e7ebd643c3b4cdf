import type { BatchClient } from '@aws-sdk/client-batch';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { Store } from '../store/store.ts';
import { manifestKey } from '../store/keys.ts';
import { UserError } from '../errors.ts';
import { buildLaunchRequests, estimate, submit, type LaunchSettings } from '../exec/batch.ts';
import { packListKey } from '../exec/keys.ts';
import { recordLaunch } from '../exec/jobs.ts';
import { prepareSweep } from '../exec/prepare.ts';

export interface LaunchOptions {
  grid: string;
  store?: string;
  queue?: string;
  jobDefinition?: string;
  reportJobDefinition?: string;
  stack?: string;
  packSize?: number;
  timeout?: number;
  attempts?: number;
  price?: number;
  backend?: string;
  dryRun?: boolean;
  /** `--data-root`: folders data files may lie in. */
  dataRoot?: string[];
  /** For tests: clients and store to use instead of the default ones. */
  batch?: BatchClient;
  cloudformation?: CloudFormationClient;
  openStore?: (url: string) => Promise<Store>;
  print?: (line: string) => void;
}

// The AWS SDK warns on every command that future versions need Node 22; fitgrid pins it (NOTES.md).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The outputs the infra stack declares (infra/), by their exact names. */
export interface StackOutputs {
  StoreUrl?: string;
  JobQueueName?: string;
  WorkerJobDefinitionName?: string;
  ReportJobDefinitionName?: string;
}

export async function readStackOutputs(stack: string, client?: CloudFormationClient): Promise<StackOutputs> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cf = client ?? new CloudFormationClient({});
  try {
    const out = await cf.send(new DescribeStacksCommand({ StackName: stack }));
    const outputs = out.Stacks?.[0]?.Outputs ?? [];
    return Object.fromEntries(outputs.map((o) => [o.OutputKey, o.OutputValue])) as StackOutputs;
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'ValidationError' || e.name === 'AccessDenied' || e.name === 'AccessDeniedException' || e.name === 'CredentialsProviderError')
      throw new UserError(`cannot read CloudFormation stack "${stack}": ${e.message?.split('\n')[0]}`, { field: 'stack' }, 1);
    throw error;
  }
}

/**
 * `fitgrid launch`: writes the manifest to S3 and submits the missing packs to AWS Batch as an
 * array job (one child per pack) plus a report job that depends on it. `--dry-run` prints the
 * requests as JSON and neither writes nor submits anything.
 */
export async function launch(options: LaunchOptions): Promise<void> {
  const print = options.print ?? ((line: string) => void process.stdout.write(line + '\n'));
  const outputs = options.stack ? await readStackOutputs(options.stack, options.cloudformation) : {};
  const storeUrl = options.store ?? outputs.StoreUrl;
  const queue = options.queue ?? outputs.JobQueueName;
  const jobDefinition = options.jobDefinition ?? outputs.WorkerJobDefinitionName;
  const reportJobDefinition = options.reportJobDefinition ?? outputs.ReportJobDefinitionName;
  const from = options.stack ? ` (not in stack "${options.stack}"'s outputs either)` : '';
  if (!storeUrl || !/^s3:\/\//i.test(storeUrl))
    throw new UserError(`Expected \`--store\` to be s3://bucket/prefix (Batch workers cannot reach a local folder), got ${storeUrl ?? 'nothing'}${from}`, { field: 'store' });
  if (!queue) throw new UserError(`Expected \`--queue\` to name an AWS Batch job queue${from}`, { field: 'queue' });
  if (!jobDefinition) throw new UserError(`Expected \`--job-definition\` to name the worker's job definition${from}`, { field: 'job-definition' });
  const settings: LaunchSettings = {
    storeUrl, queue, jobDefinition, timeout: options.timeout ?? 3600, attempts: options.attempts ?? 3,
    backend: options.backend ?? 'tensorflow', ...(reportJobDefinition ? { reportJobDefinition } : {}),
  };

  const store = await (options.openStore ?? (await import('../store/open.ts')).openStore)(storeUrl);
  const { manifest, stored, missingPacks, storeUnreadable } = await prepareSweep(options.grid, store, options.packSize, { write: !options.dryRun, dataRoots: options.dataRoot ?? [] });
  const sweep = manifest.sweep;
  if (storeUnreadable) print(`cannot read ${storeUrl} (${storeUnreadable}): taking every trial as missing`);
  const cost = estimate(manifest, missingPacks, stored, options.price ?? 0.526);
  print(`sweep "${sweep}": ${manifest.trials.length} trials in ${manifest.packs.length} packs; ${stored.size} trials already done; ${missingPacks.length} pack(s) to run`);
  print(`estimate: ${cost.trialEpochs} trial-epochs, ${cost.gpuHours.toFixed(2)} GPU-hours, about $${cost.cost.toFixed(2)} at $${(options.price ?? 0.526).toFixed(3)}/GPU-hour (rough; see GPU_SECONDS_PER_TRIAL_EPOCH)`);
  if (missingPacks.length === 0) {
    print(`nothing to launch: every trial is stored. Build the report with \`fitgrid report ${sweep} --store ${storeUrl}\``);
    return;
  }
  const requests = buildLaunchRequests(manifest, missingPacks, settings);
  if (options.dryRun) {
    const placeholders = requests.workers.map((w) => `<jobId of ${w.jobName}>`);
    print(JSON.stringify({
      dryRun: true,
      writes: [
        { store: storeUrl, key: manifestKey(sweep) },
        ...(requests.packList ? [{ store: storeUrl, key: packListKey(sweep, requests.packList.id), body: { packs: requests.packList.packs } }] : []),
      ],
      requests: [...requests.workers, requests.report(placeholders)].map((input) => ({ command: 'SubmitJob', input })),
    }, null, 2));
    return;
  }
  if (requests.packList)
    await store.put(packListKey(sweep, requests.packList.id), JSON.stringify({ packs: requests.packList.packs }), { contentType: 'application/json' });
  const { BatchClient } = await import('@aws-sdk/client-batch');
  const record = await submit(options.batch ?? new BatchClient({}), requests, settings);
  await recordLaunch(store, sweep, record);
  for (const w of record.workers) print(`submitted ${w.jobName}: ${w.jobId} (${w.size} ${w.size === 1 ? 'job' : 'children'})`);
  if (record.report) print(`submitted ${record.report.jobName}: ${record.report.jobId} (report, after the workers)`);
  print(`follow it with: fitgrid status ${sweep} --store ${storeUrl} --watch`);
}
