import { BatchClient, SubmitJobCommand } from '@aws-sdk/client-batch';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { launch, type LaunchOptions } from '../../runner/commands/launch.ts';
import { UserError } from '../../runner/errors.ts';
import type { Manifest } from '../../runner/grid/types.ts';
import { MemoryStore } from '../fixtures/summary/memory-store.ts';


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
  openStore: async () => store, print: (l) => lines.push(l), ...extra,
});
const manifestIn = (s: MemoryStore) => JSON.parse(new TextDecoder().decode(s.objects.get('sweeps/smoke/manifest.json'))) as Manifest;

describe('fitgrid launch', () => {
  it('writes the manifest, submits one child per pack and a report job, and records the job ids', async () => {
    await launch(options());
    const manifest = manifestIn(store);
    expect(batch).toHaveReceivedNthCommandWith(SubmitJobCommand, 1, { arrayProperties: { size: manifest.packs.length }, jobQueue: 'gpu' });
    const worker = batch.commandCalls(SubmitJobCommand)[0]!.args[0].input;
    expect(batch).toHaveReceivedNthCommandWith(SubmitJobCommand, 2, { dependsOn: [{ jobId: `id-${worker.jobName}` }] });
    const jobs = JSON.parse(new TextDecoder().decode(store.objects.get('sweeps/smoke/jobs.json')));
    expect(jobs.launches[0].workers[0].jobId).toBe(`id-${worker.jobName}`);
    expect(lines[0]).toMatch(new RegExp(`${manifest.trials.length} trials in ${manifest.packs.length} packs; 0 trials already done`));
    expect(lines[1]).toMatch(/GPU-hours, about \$\d+\.\d\d at \$1\.000\/GPU-hour/);
  });

  it('re-launches only the packs with missing trials', async () => {
    await launch(options());
    const manifest = manifestIn(store);
    batch.resetHistory();
    for (const p of manifest.packs.slice(0, -1)) for (const id of p.trialIds) store.putJson(`trials/${id}.json`, { status: 'ok' });
    await launch(options());
    const input = batch.commandCalls(SubmitJobCommand)[0]!.args[0].input;
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

  it('reads the store, queue and job definitions from the stack outputs', async () => {
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
    expect(batch).toHaveReceivedNthCommandWith(SubmitJobCommand, 2, { jobDefinition: 'stack-report' });
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
