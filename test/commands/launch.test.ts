import { BatchClient, SubmitJobCommand, type SubmitJobCommandInput } from '@aws-sdk/client-batch';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { launch, type LaunchOptions } from '../../runner/commands/launch.ts';
import { UserError } from '../../runner/errors.ts';
import type { Manifest } from '../../runner/records/manifest.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { collect } from '../helpers/output.ts';


const batch = mockClient(BatchClient);
const cloudformation = mockClient(CloudFormationClient);
let store: MemoryStore;
let lines: string[];
beforeEach(() => {
  batch.reset();
  cloudformation.reset();
  batch.on(SubmitJobCommand).callsFake((input) => ({ jobId: `id-${input.jobName}`, jobName: input.jobName }));
  store = new MemoryStore();
  lines = [];
});

const options = (extra: Partial<LaunchOptions> = {}): LaunchOptions => ({
  grid: 'grids/smoke.yaml', store: 's3://bucket/runs', queue: 'gpu', jobDefinition: 'worker', packSize: 2, price: 1,
  batch: batch as unknown as BatchClient, cloudformation: cloudformation as unknown as CloudFormationClient,
  openStore: async () => store, output: collect(lines), ...extra,
});
const manifestIn = (s: MemoryStore) => JSON.parse(new TextDecoder().decode(s.objects.get('sweeps/smoke/manifest.json'))) as Manifest;

describe('fitgrid launch', () => {
  it('writes the manifest, submits one child per pack and a report job, and records the job ids', async () => {
    await launch(options());
    const manifest = manifestIn(store);
    expect(batch).toHaveReceivedNthCommandWith(SubmitJobCommand, 1, { arrayProperties: { size: manifest.packs.length }, jobQueue: 'gpu' });
    const worker = batch.commandCalls(SubmitJobCommand)[0].args[0].input;
    expect(batch).toHaveReceivedNthCommandWith(SubmitJobCommand, 2, { dependsOn: [{ jobId: `id-${worker.jobName}` }] });
    const jobs = JSON.parse(new TextDecoder().decode(store.objects.get('sweeps/smoke/jobs.json')));
    expect(jobs.launches[0].workers[0].jobId).toBe(`id-${worker.jobName}`);
    expect(lines[0]).toMatch(new RegExp(`${manifest.trials.length} trials in ${manifest.packs.length} packs; 0 trials already done`));
    expect(lines[1]).toMatch(/^queue gpu \(g4dn\.xlarge\): \d+ children?, .* GPU-hours, (about \$\d+\.\d\d|under \$0\.01) \(estimate, at \$1\.000\/GPU-hour\)$/);
    expect(lines[2]).toMatch(/^estimates from .*calibration\.json \(fused measured \d{4}-\d\d-\d\d on .*; GPU speed and container start assumed, not measured\)/);
  });

  it('re-launches only the packs with missing trials', async () => {
    await launch(options());
    const manifest = manifestIn(store);
    batch.resetHistory();
    for (const p of manifest.packs.slice(0, -1)) for (const id of p.trialIds) store.putJson(`trials/${id}.json`, { status: 'ok' });
    await launch(options());
    const input = batch.commandCalls(SubmitJobCommand)[0].args[0].input;
    expect(input.arrayProperties).toBeUndefined();
    expect(input.containerOverrides?.environment).toContainEqual({ name: 'FITGRID_PACK_OFFSET', value: String(manifest.packs.length - 1) });
  });

  it('submits nothing when every trial is stored', async () => {
    await launch(options());
    for (const t of manifestIn(store).trials) store.putJson(`trials/${t.trialId}.json`, { status: 'ok' });
    batch.resetHistory();
    await launch(options());
    expect(batch).not.toHaveReceivedCommand(SubmitJobCommand);
    expect(lines.at(-1)).toMatch(/nothing to launch/);
  });

  it('prints every request as JSON on --dry-run and sends and writes nothing', async () => {
    await launch(options({ dryRun: true }));
    expect(batch).not.toHaveReceivedCommand(SubmitJobCommand);
    expect(store.objects.size).toBe(0);
    const printed = JSON.parse(lines.at(-1)!);
    expect(printed.requests.map((r: { command: string }) => r.command)).toEqual(['SubmitJob', 'SubmitJob']);
    expect(printed.requests[1].input.dependsOn[0].jobId).toMatch(/^<jobId of fitgrid-smoke-/);
  });

  it('still prints the plan on --dry-run when the store cannot be read', async () => {
    store.list = async () => { throw new Error('getaddrinfo ENOTFOUND bucket.s3.amazonaws.com'); };
    await launch(options({ dryRun: true }));
    expect(lines.some((l) => /cannot read s3:\/\/bucket\/runs \(getaddrinfo ENOTFOUND.*every trial as missing/.test(l))).toBe(true);
    expect(JSON.parse(lines.at(-1)!).requests).toHaveLength(2);
  });

  it('sends CPU packs to the GPU queue, saying so in one line, when an older stack has no CPU queue', async () => {
    cloudformation.on(DescribeStacksCommand, { StackName: 'Fitgrid' }).resolves({
      Stacks: [{ StackName: 'Fitgrid', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [
        { OutputKey: 'StoreUrl', OutputValue: 's3://stack-bucket/runs' },
        { OutputKey: 'JobQueueName', OutputValue: 'stack-queue' },
        { OutputKey: 'WorkerJobDefinitionName', OutputValue: 'stack-worker' },
        { OutputKey: 'ReportJobDefinitionName', OutputValue: 'stack-report' },
      ] }],
    });
    await launch(options({ stack: 'Fitgrid', store: undefined, queue: undefined, jobDefinition: undefined }));
    expect(batch).toHaveReceivedNthCommandWith(SubmitJobCommand, 1, { jobQueue: 'stack-queue', jobDefinition: 'stack-worker' });
    expect(batch).toHaveReceivedNthCommandWith(SubmitJobCommand, 2, { jobQueue: 'stack-queue', jobDefinition: 'stack-report' });
    expect(lines.filter((l) => l.startsWith('no CPU queue'))).toEqual([expect.stringMatching(/sending the \d+ CPU pack\(s\) to the GPU queue stack-queue$/)]);
  });

  it('refuses a folder store: Batch workers cannot reach it', async () => {
    await expect(launch(options({ store: './runs' }))).rejects.toThrow(/Expected `--store` to be s3:\/\/bucket\/prefix/);
  });

  it('turns a missing stack into a one-line UserError', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
    const error = await launch(options({ stack: 'Nope' })).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/stack "Nope": Stack with id Nope does not exist/);
  });
});

const stackOutputs = (extra: Record<string, string> = {}) => ({
  Stacks: [{ StackName: 'Fitgrid', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE' as const, Outputs: Object.entries({
    StoreUrl: 's3://stack-bucket/runs', JobQueueName: 'gpu-q', WorkerJobDefinitionName: 'gpu-worker', ReportJobDefinitionName: 'report',
    CpuJobQueueName: 'cpu-q', CpuWorkerJobDefinitionName: 'cpu-worker', CpuWorkerVcpus: '8', ...extra,
  }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
});
const routed = (extra: Partial<LaunchOptions> = {}) => options({ stack: 'Fitgrid', store: undefined, queue: undefined, jobDefinition: undefined, packSize: undefined, ...extra });
const dryRunJson = () => JSON.parse(lines.at(-1)!) as { routing: { pack: number; placement: string; queue: string; engine: string }[]; requests: { input: SubmitJobCommandInput }[] };
const envOf = (input: SubmitJobCommandInput) => Object.fromEntries((input.containerOverrides?.environment ?? []).map((e) => [e.name, e.value]));

describe('fitgrid launch routing', () => {
  beforeEach(() => void cloudformation.on(DescribeStacksCommand).resolves(stackOutputs()));

  it('sends an MLP grid to the CPU queue only, one thread per vCPU, and the report to the CPU queue', async () => {
    await launch(routed({ dryRun: true }));
    const { routing, requests } = dryRunJson();
    expect(new Set(routing.map((r) => [r.placement, r.queue, r.engine].join(' ')))).toEqual(new Set(['cpu cpu-q fused']));
    expect(requests.map((r) => r.input.jobQueue)).toEqual(['cpu-q', 'cpu-q']);
    expect(envOf(requests[0].input)).toMatchObject({ FITGRID_BACKEND: 'wasm', FITGRID_THREADS: '8' });
    expect(requests[1].input).toMatchObject({ jobDefinition: 'report', dependsOn: [{ jobId: `<jobId of ${requests[0].input.jobName}>` }] });
    expect(lines.some((l) => /^CPU queue cpu-q \(Fargate, 8 vCPUs each\): 1 child, .* vCPU-hours, (about \$\d+\.\d\d|under \$0\.01) \(estimate, On-Demand; Fargate Spot up to 70% less\)$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('GPU queue'))).toBe(false);
  });

  it('sends a CNN grid the conv kernel trains to the CPU queue only', async () => {
    await launch(routed({ grid: 'grids/digits-augment.yaml', dryRun: true }));
    const { routing, requests } = dryRunJson();
    expect(new Set(routing.map((r) => `${r.placement} ${r.queue} ${r.engine}`))).toEqual(new Set(['cpu cpu-q conv']));
    expect(requests.slice(0, -1).map((r) => r.input.jobQueue)).toEqual(['cpu-q']);
  });

  it('sends a CNN grid that needs tfjs to the GPU queue only', async () => {
    await launch(routed({ grid: 'test/fixtures/grids/cloud-cnn.yaml', dryRun: true }));
    const { routing, requests } = dryRunJson();
    expect(new Set(routing.map((r) => `${r.placement} ${r.queue} ${r.engine}`))).toEqual(new Set(['gpu gpu-q layers']));
    expect(requests.slice(0, -1).map((r) => [r.input.jobQueue, r.input.jobDefinition])).toEqual([['gpu-q', 'gpu-worker']]);
    expect(envOf(requests[0].input)).toMatchObject({ FITGRID_BACKEND: 'tensorflow' });
    expect(lines.some((l) => /^GPU queue gpu-q \(g4dn\.xlarge\): \d+ child(ren)?, .* GPU-hours, about \$/.test(l))).toBe(true);
  });

  it('submits a mixed grid as two array jobs and a report job that depends on both', async () => {
    await launch(routed({ grid: 'test/fixtures/grids/cloud-mixed.yaml' }));
    const calls = batch.commandCalls(SubmitJobCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.jobQueue)).toEqual(['cpu-q', 'gpu-q', 'cpu-q']);
    expect(calls[2].dependsOn).toEqual([{ jobId: `id-${calls[0].jobName}` }, { jobId: `id-${calls[1].jobName}` }]);
    const manifest = JSON.parse(new TextDecoder().decode(store.objects.get('sweeps/cloud-mixed/manifest.json'))) as Manifest;
    const kindOf = (offset: string) => manifest.trials.find((t) => t.trialId === manifest.packs[Number(offset)].trialIds[0])!.config.model.kind;
    expect(kindOf(envOf(calls[0]).FITGRID_PACK_OFFSET!)).toBe('mlp');
    expect(kindOf(envOf(calls[1]).FITGRID_PACK_OFFSET!)).toBe('cnn');
    const jobs = JSON.parse(new TextDecoder().decode(store.objects.get('sweeps/cloud-mixed/jobs.json')));
    expect(jobs.launches[0].workers.map((w: { queue: string }) => w.queue)).toEqual(['cpu-q', 'gpu-q']);
  });

  it('refuses a CNN grid when no GPU queue is known, before writing or submitting anything', async () => {
    const error = await launch(options({ grid: 'test/fixtures/grids/cloud-cnn.yaml', queue: undefined, jobDefinition: undefined, cpuQueue: 'cpu-q', cpuJobDefinition: 'cpu-worker' })).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/^sweep "cloud-cnn": \d+ pack\(s\) need tfjs on a GPU .* no GPU queue is known/);
    expect(batch).not.toHaveReceivedCommand(SubmitJobCommand);
    expect(store.objects.size).toBe(0);
  });

  it('with --queue sends every pack to that queue, and the stack\'s Fargate report job still to the CPU queue', async () => {
    await launch(routed({ grid: 'test/fixtures/grids/cloud-mixed.yaml', queue: 'my-q', jobDefinition: 'my-worker', dryRun: true }));
    const { routing, requests } = dryRunJson();
    expect(new Set(routing.map((r) => r.queue))).toEqual(new Set(['my-q']));
    expect(requests.map((r) => r.input.jobQueue)).toEqual(['my-q', 'cpu-q']);
    expect(requests.at(-1)!.input.jobDefinition).toBe('report');
  });

  it('sizes CPU packs to the target time: a shorter target makes more children', async () => {
    const children = async (targetMinutes: number) => {
      lines = [];
      await launch(routed({ grid: 'grids/moons-sweep.yaml', dryRun: true, targetMinutes }));
      return dryRunJson().routing.length;
    };
    const long = await children(60);
    const short = await children(0.05);
    expect(long).toBeGreaterThanOrEqual(1);
    expect(short).toBeGreaterThan(long);
  });
});
