import type { BatchClient } from '@aws-sdk/client-batch';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { Manifest } from '../records/manifest.ts';
import type { Store } from '../store/store.ts';
import { manifestKey, packListKey } from '../store/keys.ts';
import { UserError, firstLine } from '../errors.ts';
import { buildRoutedRequests, submit, type LaunchSettings, type LaunchTarget } from '../exec/batch/submit.ts';
import { recordLaunch } from '../exec/batch/jobs.ts';
import { prepareSweep } from '../exec/prepare.ts';
import { writeManifest } from '../store/manifest.ts';
import { loadCalibration, loadPrices, queueCost, withPriceOverrides, type Calibration, type Prices } from '../exec/batch/costs.ts';
import { packSeconds, planCloud, type CloudPlan } from '../exec/batch/routing.ts';
import { terminal, type Output } from './output.ts';

export interface LaunchOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  grid: string;
  store?: string;
  /** One queue and job definition for every pack (no routing), as before the CPU queue. */
  queue?: string;
  jobDefinition?: string;
  cpuQueue?: string;
  cpuJobDefinition?: string;
  gpuQueue?: string;
  gpuJobDefinition?: string;
  reportJobDefinition?: string;
  stack?: string;
  /** vCPUs and memory of a CPU child (default: the stack's, else 4 vCPUs and 8 GiB). */
  cpuVcpus?: number;
  cpuMemoryMiB?: number;
  /** Instance type a GPU child runs on, for the price. */
  gpuInstanceType?: string;
  packSize?: number;
  /** How long a child should train (default 5 minutes). */
  targetMinutes?: number;
  timeout?: number;
  attempts?: number;
  /** A GPU-hour price, or gpu-hour=N,vcpu-hour=N,gb-hour=N. */
  price?: number | string;
  calibration?: string;
  backend?: string;
  dryRun?: boolean;
  /** `--data-root`: folders data files may lie in. */
  dataRoot?: string[];
  /** For tests: clients and store to use instead of the default ones. */
  batch?: BatchClient;
  cloudformation?: CloudFormationClient;
  openStore?: (url: string) => Promise<Store>;
}


/** The outputs the infra stack declares (infra/), by their exact names. */
export interface StackOutputs {
  StoreUrl?: string;
  /** The GPU queue and worker (older stacks: the only ones). */
  JobQueueName?: string;
  WorkerJobDefinitionName?: string;
  CpuJobQueueName?: string;
  CpuWorkerJobDefinitionName?: string;
  CpuWorkerVcpus?: string;
  CpuWorkerMemoryMiB?: string;
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
      throw new UserError(`cannot read CloudFormation stack "${stack}": ${firstLine(e)}`, { field: 'stack' }, 1);
    throw error;
  }
}

export const DEFAULT_TARGET_MINUTES = 5;
export const DEFAULT_CPU_VCPUS = 4;
export const DEFAULT_CPU_MEMORY_MIB = 8_192;
/** A share of a T4's 16 GiB for one batched model, leaving the rest to TensorFlow's own use. */
export const GPU_PACK_BYTES = 8 * 2 ** 30;

interface Queue { queue: string; jobDefinition: string }

/** Both queues, or one for everything, from the flags and the stack's outputs; a half-named queue is a mistake. */
function resolveQueues(options: LaunchOptions, outputs: StackOutputs, from: string): { all?: Queue; cpu?: Queue; gpu?: Queue } {
  const pair = (queue: string | undefined, jobDefinition: string | undefined, flag: string): Queue | undefined => {
    if (!queue && !jobDefinition) return undefined;
    if (!queue) throw new UserError(`Expected \`--${flag}queue\` beside \`--${flag}job-definition\`${from}`, { field: `${flag}queue` });
    if (!jobDefinition) throw new UserError(`Expected \`--${flag}job-definition\` to name the worker's job definition for queue ${queue}${from}`, { field: `${flag}job-definition` });
    return { queue, jobDefinition };
  };
  if (options.queue || options.jobDefinition) {
    return { all: pair(options.queue ?? outputs.JobQueueName, options.jobDefinition ?? outputs.WorkerJobDefinitionName, '') };
  }
  return {
    cpu: pair(options.cpuQueue ?? outputs.CpuJobQueueName, options.cpuJobDefinition ?? outputs.CpuWorkerJobDefinitionName, 'cpu-'),
    gpu: pair(options.gpuQueue ?? outputs.JobQueueName, options.gpuJobDefinition ?? outputs.WorkerJobDefinitionName, 'gpu-'),
  };
}

const minutes = (seconds: number) => (seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min`);

/**
 * `fitgrid launch`: writes the manifest to S3 and submits the missing packs to AWS Batch, each
 * where auto's engine trains it (placementFor): packs the fused engine trains to the Fargate CPU
 * queue, packs that need tfjs to the GPU queue, one array job per queue, and a report job that
 * depends on all of them. `--dry-run` prints the routing and the requests as JSON and neither
 * writes nor submits anything.
 */
export async function launch(options: LaunchOptions): Promise<void> {
  const output = options.output ?? terminal;
  const print = (line: string) => output.print(line);
  const setup = await resolveSetup(options);
  const { storeUrl, queues, cpuVcpus, calibration } = setup;

  const store = await (options.openStore ?? (await import('../store/open.ts')).openStore)(storeUrl);
  let cloud: CloudPlan | undefined;
  // Planned without writing: a grid this launch cannot place leaves the store untouched.
  const { manifest, stored, missingPacks, storeUnreadable } = await prepareSweep(options.grid, store, options.packSize, {
    write: false,
    packs: async (grid, trials) => (cloud = await planCloud(grid, trials, { calibration, targetSeconds: setup.targetSeconds, cpuVcpus, gpuBytes: GPU_PACK_BYTES, packSize: options.packSize })).packs,
    dataRoots: options.dataRoot ?? [],
  });
  const plan = cloud!;
  const sweep = manifest.sweep;
  if (storeUnreadable && !options.dryRun) throw new UserError(`cannot read the store ${storeUrl}: ${storeUnreadable}`);
  if (storeUnreadable) print(`cannot read ${storeUrl} (${storeUnreadable}): taking every trial as missing`);

  const placed = { cpu: [] as number[], gpu: [] as number[] };
  for (const p of missingPacks) placed[plan.groups[plan.groupOfPack[p]].placement].push(p);
  const targets = routeTargets(placed, queues, { cpuVcpus, backend: options.backend, sweep, print });

  print(`sweep "${sweep}": ${manifest.trials.length} trials in ${manifest.packs.length} packs; ${stored.size} trials already done; ${missingPacks.length} pack(s) to run`);
  const byId = new Map(manifest.trials.map((t) => [t.trialId, t]));
  const secondsOf = (p: number) => packSeconds(plan.groups[plan.groupOfPack[p]], manifest.packs[p].trialIds.filter((id) => !stored.has(id)).map((id) => byId.get(id)!), cpuVcpus);
  for (const target of targets) printCost(target, secondsOf, { ...setup, plan, print });
  if (targets.length > 0) print(`estimates from ${setup.calibrationFile} (${calibrationLabel(calibration)}) and ${setup.prices.region} prices retrieved ${setup.prices.retrieved}; the report job is not counted`);
  if (missingPacks.length === 0) {
    print(`nothing to launch: every trial is stored. Build the report with \`fitgrid report ${sweep} --store ${storeUrl}\``);
    return;
  }

  const settings = launchSettings(options, setup, targets[0]);
  const requests = buildRoutedRequests(manifest, targets, settings);
  if (options.dryRun) {
    print(dryRunJson({ manifest, missingPacks, plan, targets, requests, storeUrl, secondsOf }));
    return;
  }
  await writeManifestOrExplain(store, manifest);
  for (const list of requests.packLists)
    await store.put(packListKey(sweep, list.id), JSON.stringify({ packs: list.packs }), { contentType: 'application/json' });
  const { BatchClient } = await import('@aws-sdk/client-batch');
  const record = await submit(options.batch ?? new BatchClient({}), requests, settings);
  await recordLaunch(store, sweep, record);
  for (const w of record.workers) print(`submitted ${w.jobName}: ${w.jobId} (${w.size} ${w.size === 1 ? 'job' : 'children'} on ${w.queue})`);
  if (record.report) print(`submitted ${record.report.jobName}: ${record.report.jobId} (report, after the workers)`);
  print(`follow it with: fitgrid status ${sweep} --store ${storeUrl} --watch`);
}

/** What a launch runs with, from the flags, the stack's outputs and the defaults; a missing store or queue is a mistake. */
async function resolveSetup(options: LaunchOptions) {
  const outputs = options.stack ? await readStackOutputs(options.stack, options.cloudformation) : {};
  const from = options.stack ? ` (not in stack "${options.stack}"'s outputs either)` : '';
  const storeUrl = options.store ?? outputs.StoreUrl;
  if (!storeUrl || !/^s3:\/\//i.test(storeUrl))
    throw new UserError(`Expected \`--store\` to be s3://bucket/prefix (Batch workers cannot reach a local folder), got ${storeUrl ?? 'nothing'}${from}`, { field: 'store' });
  const queues = resolveQueues(options, outputs, from);
  if (!queues.all && !queues.cpu && !queues.gpu)
    throw new UserError(`Expected \`--cpu-queue\`/\`--gpu-queue\` (or \`--queue\`) to name an AWS Batch job queue${from}`, { field: 'queue' });
  const stackNumber = (value: string | undefined) => (value && Number.isInteger(Number(value)) && Number(value) > 0 ? Number(value) : undefined);
  if (options.targetMinutes !== undefined && !(options.targetMinutes > 0))
    throw new UserError(`Expected \`--target-minutes\` to be a number above 0, got ${options.targetMinutes}`, { field: 'target-minutes' });
  const gpuInstanceType = options.gpuInstanceType ?? 'g4dn.xlarge';
  const { calibration, file: calibrationFile } = await loadCalibration(options.calibration);
  return {
    outputs, storeUrl, queues, gpuInstanceType, calibration, calibrationFile,
    cpuVcpus: options.cpuVcpus ?? stackNumber(outputs.CpuWorkerVcpus) ?? DEFAULT_CPU_VCPUS,
    cpuMemoryMiB: options.cpuMemoryMiB ?? stackNumber(outputs.CpuWorkerMemoryMiB) ?? DEFAULT_CPU_MEMORY_MIB,
    targetSeconds: 60 * (options.targetMinutes ?? DEFAULT_TARGET_MINUTES),
    prices: withPriceOverrides(await loadPrices(), options.price, gpuInstanceType),
  };
}

function launchSettings(options: LaunchOptions, setup: Awaited<ReturnType<typeof resolveSetup>>, first: LaunchTarget): LaunchSettings {
  const { queues, outputs } = setup;
  // The stack's report job definition is a Fargate one when the stack has a CPU queue: it must run there.
  const reportQueue = queues.all ? (options.reportJobDefinition ? undefined : outputs.CpuJobQueueName) : queues.cpu?.queue;
  const reportJobDefinition = options.reportJobDefinition ?? outputs.ReportJobDefinitionName;
  return {
    storeUrl: setup.storeUrl, queue: first.queue, jobDefinition: first.jobDefinition, timeout: options.timeout ?? 3600, attempts: options.attempts ?? 3,
    backend: options.backend ?? 'tensorflow',
    reportQueue: reportQueue ?? first.queue,
    reportOnFargate: reportQueue !== undefined,
    ...(reportJobDefinition ? { reportJobDefinition } : {}),
  };
}

/** `--dry-run`'s output: where each pack would go, what would be written and the requests, as JSON. */
function dryRunJson(context: {
  manifest: Manifest; missingPacks: number[]; plan: CloudPlan; targets: LaunchTarget[]; storeUrl: string;
  requests: ReturnType<typeof buildRoutedRequests>; secondsOf: (pack: number) => number;
}): string {
  const { manifest, plan, requests } = context;
  const placeholders = requests.workers.map((w) => `<jobId of ${w.jobName}>`);
  const queueOf = new Map(context.targets.flatMap((t) => t.packs.map((p) => [p, t.queue] as const)));
  return JSON.stringify({
    dryRun: true,
    routing: context.missingPacks.map((p) => {
      const group = plan.groups[plan.groupOfPack[p]];
      return { pack: p, placement: group.placement, engine: group.engine, queue: queueOf.get(p), trials: manifest.packs[p].trialIds.length, estimatedSeconds: Math.round(context.secondsOf(p)) };
    }),
    writes: [
      { store: context.storeUrl, key: manifestKey(manifest.sweep) },
      ...requests.packLists.map((list) => ({ store: context.storeUrl, key: packListKey(manifest.sweep, list.id), body: { packs: list.packs } })),
    ],
    requests: [...requests.workers, requests.report(placeholders)].map((input) => ({ command: 'SubmitJob', input })),
  }, null, 2);
}

/**
 * The array jobs to submit: CPU packs to the CPU queue and GPU packs to the GPU queue; CPU packs
 * go to the GPU queue when there is no CPU queue (older stacks); GPU packs with no GPU queue are
 * a mistake caught before anything is written or submitted.
 */
function routeTargets(placed: { cpu: number[]; gpu: number[] }, queues: ReturnType<typeof resolveQueues>,
  context: { cpuVcpus: number; backend?: string; sweep: string; print: (line: string) => void }): LaunchTarget[] {
  const gpuEnvironment = { FITGRID_BACKEND: context.backend ?? 'tensorflow' };
  if (queues.all) return [{ ...queues.all, packs: [...placed.cpu, ...placed.gpu].sort((a, b) => a - b), environment: gpuEnvironment }];
  if (placed.gpu.length > 0 && !queues.gpu)
    throw new UserError(`sweep "${context.sweep}": ${placed.gpu.length} pack(s) need tfjs on a GPU (no CPU engine trains their model) and no GPU queue is known: pass \`--gpu-queue\` and \`--gpu-job-definition\`, or a \`--stack\` with a GPU queue`);
  const targets: LaunchTarget[] = [];
  let gpuPacks = placed.gpu;
  if (placed.cpu.length > 0 && queues.cpu) {
    targets.push({ placement: 'cpu', ...queues.cpu, packs: placed.cpu, fargate: true, environment: { FITGRID_BACKEND: 'wasm', FITGRID_THREADS: String(context.cpuVcpus) } });
  } else if (placed.cpu.length > 0) {
    context.print(`no CPU queue (the stack predates it, or no \`--cpu-queue\`): sending the ${placed.cpu.length} CPU pack(s) to the GPU queue ${queues.gpu!.queue}`);
    gpuPacks = [...placed.cpu, ...placed.gpu].sort((a, b) => a - b);
  }
  if (gpuPacks.length > 0) targets.push({ placement: 'gpu', ...queues.gpu!, packs: gpuPacks, environment: gpuEnvironment });
  return targets;
}

function calibrationLabel(c: Calibration): string {
  return `fused measured ${c.date} on ${c.machine.split(',').slice(0, 2).join(',')}; GPU speed and container start assumed, not measured`;
}

function printCost(target: LaunchTarget, secondsOf: (pack: number) => number,
  context: { cpuVcpus: number; cpuMemoryMiB: number; gpuInstanceType: string; calibration: Calibration; prices: Prices; plan: CloudPlan; print: (line: string) => void }): void {
  const onCpu = target.placement === 'cpu';
  const placement = onCpu ? 'cpu' : 'gpu';
  const seconds = target.packs.map(secondsOf);
  const longest = Math.max(0, ...seconds);
  const cost = queueCost({
    placement, children: target.packs.length, trainingSeconds: seconds.reduce((a, b) => a + b, 0),
    vcpus: context.cpuVcpus, memoryMiB: context.cpuMemoryMiB, gpuInstanceType: context.gpuInstanceType,
  }, context.calibration, context.prices);
  const queue = onCpu ? `CPU queue ${target.queue} (Fargate, ${context.cpuVcpus} vCPUs each)` : `${target.placement ? 'GPU queue' : 'queue'} ${target.queue} (${context.gpuInstanceType})`;
  const hours = onCpu ? `${cost.vcpuHours.toFixed(2)} vCPU-hours` : `${cost.gpuHours.toFixed(2)} GPU-hours`;
  const note = onCpu ? `On-Demand; Fargate Spot up to ${Math.round(context.prices.fargate.spotDiscountUpTo * 100)}% less` : `at $${context.prices.gpuInstanceHour[context.gpuInstanceType].toFixed(3)}/GPU-hour`;
  const usd = cost.usd < 0.005 ? 'under $0.01' : `about $${cost.usd.toFixed(2)}`;
  context.print(`${queue}: ${target.packs.length} child${target.packs.length === 1 ? '' : 'ren'}, longest ~${minutes(longest)} training; ${hours}, ${usd} (estimate, ${note})`);
}

async function writeManifestOrExplain(store: Store, manifest: Manifest): Promise<void> {
  try {
    await writeManifest(store, manifest);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot write to the store ${store.url}: ${firstLine(error)}`);
  }
}
