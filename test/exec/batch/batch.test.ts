import { BatchClient, DescribeJobsCommand, ListJobsCommand, SubmitJobCommand } from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildLaunchRequests, buildRoutedRequests, MAX_ARRAY_SIZE, submit, type LaunchSettings } from '../../../runner/exec/batch/submit.ts';
import { batchStatus } from '../../../runner/exec/batch/status.ts';
import { UserError } from '../../../runner/errors.ts';
import { fakeManifest } from '../../helpers/fake-sweep.ts';


const settings: LaunchSettings = { storeUrl: 's3://bucket/runs', queue: 'gpu-queue', jobDefinition: 'fitgrid-worker', timeout: 1800, attempts: 3, backend: 'tensorflow' };
const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
const envOf = (input: { containerOverrides?: { environment?: { name?: string; value?: string }[] } }) =>
  Object.fromEntries((input.containerOverrides?.environment ?? []).map((e) => [e.name, e.value]));

describe('buildLaunchRequests', () => {
  it('submits one array job with one child per missing pack, the overrides and a per-child timeout', () => {
    const r = buildLaunchRequests(fakeManifest(5, 2), range(0, 5), settings);
    expect(r.workers).toHaveLength(1);
    const job = r.workers[0];
    expect(job.arrayProperties).toEqual({ size: 5 });
    expect(job.jobQueue).toBe('gpu-queue');
    expect(job.jobDefinition).toBe('fitgrid-worker');
    expect(job.jobName).toMatch(/^fitgrid-fake-[0-9a-f]{8}$/);
    expect(job.timeout).toEqual({ attemptDurationSeconds: 1800 });
    expect(job.containerOverrides?.command).toEqual(['worker']);
    expect(envOf(job)).toEqual({ FITGRID_STORE: 's3://bucket/runs', FITGRID_SWEEP: 'fake', FITGRID_BACKEND: 'tensorflow', FITGRID_PACK_OFFSET: '0' });
  });

  it('retries Spot reclaims and infrastructure exit codes only, ending with a catch-all EXIT', () => {
    const strategy = buildLaunchRequests(fakeManifest(2, 1), [0, 1], settings).workers[0].retryStrategy!;
    expect(strategy.attempts).toBe(3);
    expect(strategy.evaluateOnExit![0]).toEqual({ onStatusReason: 'Host EC2*', action: 'RETRY' });
    expect(strategy.evaluateOnExit).toContainEqual({ onExitCode: '75', action: 'RETRY' });
    expect(strategy.evaluateOnExit!.length).toBeLessThanOrEqual(5);
    expect(strategy.evaluateOnExit!.at(-1)).toEqual({ onReason: '*', action: 'EXIT' });
  });

  it('submits a plain job pointing at the pack when a single pack is missing', () => {
    const job = buildLaunchRequests(fakeManifest(5, 1), [3], settings).workers[0];
    expect(job.arrayProperties).toBeUndefined();
    expect(envOf(job).FITGRID_PACK_OFFSET).toBe('3');
  });

  it('offsets a contiguous tail of missing packs without a pack list', () => {
    const r = buildLaunchRequests(fakeManifest(6, 1), [4, 5], settings);
    expect(r.packLists).toEqual([]);
    expect(envOf(r.workers[0]).FITGRID_PACK_OFFSET).toBe('4');
  });

  it('maps scattered missing packs through a pack list', () => {
    const r = buildLaunchRequests(fakeManifest(6, 1), [1, 4, 5], settings);
    expect(r.packLists.map((l) => l.packs)).toEqual([[1, 4, 5]]);
    expect(envOf(r.workers[0])).toMatchObject({ FITGRID_PACK_LIST: r.packLists[0].id, FITGRID_PACK_OFFSET: '0' });
    expect(r.workers[0].arrayProperties).toEqual({ size: 3 });
  });

  it('splits more than 10,000 packs into several array jobs with offsets', () => {
    const n = MAX_ARRAY_SIZE * 2 + 2;
    const r = buildLaunchRequests(fakeManifest(n, 1), range(0, n), settings);
    expect(r.workers.map((w) => w.arrayProperties?.size)).toEqual([10_000, 10_000, 2]);
    expect(r.workers.map((w) => envOf(w).FITGRID_PACK_OFFSET)).toEqual(['0', '10000', '20000']);
    expect(new Set(r.workers.map((w) => w.jobName)).size).toBe(3);
  });

  it('makes the report job depend on every worker job and publish the site', () => {
    const report = buildLaunchRequests(fakeManifest(3, 1), range(0, 3), { ...settings, reportJobDefinition: 'fitgrid-report' }).report(['a', 'b']);
    expect(report.dependsOn).toEqual([{ jobId: 'a' }, { jobId: 'b' }]);
    expect(report.jobDefinition).toBe('fitgrid-report');
    expect(report.containerOverrides?.command).toEqual(['report', 'fake', '--store', 's3://bucket/runs', '--publish']);
  });
});

describe('buildRoutedRequests', () => {
  const cpu = { placement: 'cpu' as const, queue: 'cpu-queue', jobDefinition: 'cpu-worker', fargate: true, environment: { FITGRID_BACKEND: 'wasm', FITGRID_THREADS: '4' } };
  const gpu = { placement: 'gpu' as const, queue: 'gpu-queue', jobDefinition: 'gpu-worker', environment: { FITGRID_BACKEND: 'tensorflow' } };

  it('submits one array job per queue, each with its own packs, environment and retry rule', () => {
    const r = buildRoutedRequests(fakeManifest(6, 1), [{ ...cpu, packs: [0, 1, 2, 3] }, { ...gpu, packs: [4, 5] }], { ...settings, reportQueue: 'cpu-queue', reportOnFargate: true, reportJobDefinition: 'report' });
    expect(r.workers.map((w) => [w.jobQueue, w.jobDefinition, w.arrayProperties?.size])).toEqual([['cpu-queue', 'cpu-worker', 4], ['gpu-queue', 'gpu-worker', 2]]);
    expect(r.workers[0].jobName).toMatch(/^fitgrid-fake-[0-9a-f]{8}-cpu$/);
    expect(r.workers[1].jobName).toMatch(/^fitgrid-fake-[0-9a-f]{8}-gpu$/);
    expect(envOf(r.workers[0])).toMatchObject({ FITGRID_BACKEND: 'wasm', FITGRID_THREADS: '4', FITGRID_PACK_OFFSET: '0' });
    expect(envOf(r.workers[1])).toMatchObject({ FITGRID_BACKEND: 'tensorflow', FITGRID_PACK_OFFSET: '4' });
    expect(r.workers[0].retryStrategy!.evaluateOnExit![0]).toEqual({ onStatusReason: 'Your Spot Task was interrupted*', action: 'RETRY' });
    expect(r.workers[1].retryStrategy!.evaluateOnExit![0]).toEqual({ onStatusReason: 'Host EC2*', action: 'RETRY' });
    const report = r.report(['a', 'b']);
    expect(report).toMatchObject({ jobQueue: 'cpu-queue', jobDefinition: 'report', dependsOn: [{ jobId: 'a' }, { jobId: 'b' }] });
    expect(report.retryStrategy!.evaluateOnExit![0].onStatusReason).toBe('Your Spot Task was interrupted*');
  });

  it('gives each queue whose packs are scattered its own pack list', () => {
    const r = buildRoutedRequests(fakeManifest(6, 1), [{ ...cpu, packs: [0, 2, 4] }, { ...gpu, packs: [1, 3, 5] }], settings);
    expect(r.packLists.map((l) => l.packs)).toEqual([[0, 2, 4], [1, 3, 5]]);
    expect(envOf(r.workers[1]).FITGRID_PACK_LIST).toBe(r.packLists[1].id);
  });

  it('submits nothing for a queue without packs', () => {
    const r = buildRoutedRequests(fakeManifest(2, 1), [{ ...cpu, packs: [0, 1] }, { ...gpu, packs: [] }], settings);
    expect(r.workers.map((w) => w.jobQueue)).toEqual(['cpu-queue']);
  });
});

describe('submit', () => {
  const batch = mockClient(BatchClient);
  beforeEach(() => batch.reset());

  it('submits the workers, then the report job with their ids', async () => {
    batch.on(SubmitJobCommand).callsFake((input) => ({ jobId: `id-${input.jobName}`, jobName: input.jobName }));
    const requests = buildLaunchRequests(fakeManifest(3, 1), range(0, 3), settings);
    const record = await submit(batch as unknown as BatchClient, requests, settings);
    expect(batch).toHaveReceivedCommandTimes(SubmitJobCommand, 2);
    expect(batch).toHaveReceivedNthCommandWith(SubmitJobCommand, 2, { dependsOn: [{ jobId: record.workers[0].jobId }] });
    expect(record.workers[0].size).toBe(3);
  });

  it('turns a missing queue into a one-line UserError naming it', async () => {
    batch.on(SubmitJobCommand).rejects(Object.assign(new Error('JobQueue gpu-queue does not exist'), { name: 'ClientException' }));
    const requests = buildLaunchRequests(fakeManifest(2, 1), [0, 1], settings);
    const error = await submit(batch as unknown as BatchClient, requests, settings).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/does not exist.*job queue "gpu-queue"/);
  });

  it('turns AccessDeniedException into a UserError naming the permissions', async () => {
    batch.on(SubmitJobCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const requests = buildLaunchRequests(fakeManifest(2, 1), [0, 1], settings);
    await expect(submit(batch as unknown as BatchClient, requests, settings)).rejects.toThrow(/denied access.*batch:SubmitJob/);
  });
});

describe('batchStatus', () => {
  const batch = mockClient(BatchClient);
  beforeEach(() => batch.reset());
  const launch = { launchedAt: '', planHash: 'x', queue: 'q', workers: [{ jobId: 'arr', jobName: 'fitgrid-fake-x', size: 4 }], report: { jobId: 'rep', jobName: 'fitgrid-fake-x-report' } };

  it('adds up the array status summary and lists failed children with their reasons', async () => {
    batch.on(DescribeJobsCommand).resolves({
      jobs: [
        { jobId: 'arr', jobName: 'a', jobQueue: 'q', jobDefinition: 'd', startedAt: 0, status: 'FAILED', arrayProperties: { statusSummary: { SUCCEEDED: 3, FAILED: 1 } } },
        { jobId: 'rep', jobName: 'r', jobQueue: 'q', jobDefinition: 'd', startedAt: 0, status: 'FAILED' },
      ],
    });
    batch.on(ListJobsCommand, { arrayJobId: 'arr', jobStatus: 'FAILED' }).resolves({
      jobSummaryList: [{ jobId: 'arr:2', jobName: 'a', statusReason: 'Essential container in task exited', container: { exitCode: 75 }, arrayProperties: { index: 2 } }],
    });
    const s = await batchStatus(batch as unknown as BatchClient, launch);
    expect(s.workers.SUCCEEDED).toBe(3);
    expect(s.workers.FAILED).toBe(1);
    expect(s.failed).toEqual([{ jobId: 'arr:2', index: 2, reason: 'Essential container in task exited', exitCode: 75 }]);
    expect(s.report).toBe('FAILED');
    expect(s.ended).toBe(true);
  });

  it('is not ended while children are running', async () => {
    batch.on(DescribeJobsCommand).resolves({
      jobs: [{ jobId: 'arr', jobName: 'a', jobQueue: 'q', jobDefinition: 'd', startedAt: 0, status: 'PENDING', arrayProperties: { statusSummary: { RUNNING: 2, SUCCEEDED: 2 } } }],
    });
    const s = await batchStatus(batch as unknown as BatchClient, launch);
    expect(s.workers.RUNNING).toBe(2);
    expect(s.ended).toBe(false);
    expect(batch).not.toHaveReceivedCommand(ListJobsCommand);
  });
});
