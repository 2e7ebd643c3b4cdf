import { BatchClient, DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { status } from '../../runner/commands/status.ts';
import { writeManifest } from '../../runner/store/manifest.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { fakeManifest, fakeResult } from '../helpers/fake-sweep.ts';
import { collect } from '../helpers/output.ts';

const batch = mockClient(BatchClient);
let store: MemoryStore;
let out: string[];
beforeEach(async () => {
  batch.reset();
  store = new MemoryStore();
  out = [];
  const manifest = fakeManifest(2, 2);
  await writeManifest(store, manifest);
  store.putJson('trials/t0-0.json', fakeResult(manifest.trials[0], 'fake'));
  store.putJson('trials/t0-1.json', fakeResult(manifest.trials[1], 'fake', 'diverged'));
});
const run = (extra = {}) => status({ sweep: 'fake', store: 'memory', batch: batch as unknown as BatchClient, openStore: async () => store, output: collect(out), sleep: async () => {}, ...extra });
const launchRecord = { launchedAt: '', planHash: 'h', queue: 'q', workers: [{ jobId: 'arr', jobName: 'fitgrid-fake-h', size: 2 }], report: { jobId: 'rep', jobName: 'fitgrid-fake-h-report' } };

describe('fitgrid status', () => {
  it('shows the store side only for a sweep without recorded jobs', async () => {
    await run();
    expect(out[0]).toContain('store: 1 ok, 0 failed, 1 diverged, 2 missing of 4 trials');
    expect(out[0]).toContain('no AWS Batch jobs recorded');
    expect(batch.calls()).toHaveLength(0);
  });

  it('takes statuses from the pack logs and reads only the trials they do not mention', async () => {
    store.putJson('trials/t1-0.json', { status: 'failed' });
    store.objects.set('sweeps/fake/logs/pack-1.jsonl', new TextEncoder().encode(
      JSON.stringify({ event: 'trial', pack: 1, trialId: 't1-0', status: 'ok', seconds: 1 }) + '\n'));
    const reads: string[] = [];
    const get = store.get.bind(store);
    store.get = async (key) => (reads.push(key), get(key));
    await run();
    expect(out[0]).toContain('store: 2 ok, 0 failed, 1 diverged, 1 missing of 4 trials');
    expect(reads).not.toContain('trials/t1-0.json');
    expect(reads).toContain('trials/t0-0.json');
  });

  it('says when children failed after their retries and that a re-launch runs only the missing packs', async () => {
    store.putJson('sweeps/fake/jobs.json', { sweep: 'fake', launches: [launchRecord] });
    batch.on(DescribeJobsCommand).resolves({ jobs: [
      { jobId: 'arr', jobName: 'a', jobQueue: 'q', jobDefinition: 'd', startedAt: 0, status: 'FAILED', arrayProperties: { statusSummary: { SUCCEEDED: 1, FAILED: 1 } } },
      { jobId: 'rep', jobName: 'r', jobQueue: 'q', jobDefinition: 'd', startedAt: 0, status: 'FAILED' },
    ] });
    batch.on(ListJobsCommand).resolves({ jobSummaryList: [{ jobId: 'arr:1', jobName: 'a', statusReason: 'Host EC2 (instance i-1) terminated.', arrayProperties: { index: 1 } }] });
    await run();
    expect(out[0]).toMatch(/1 SUCCEEDED, 1 FAILED; report job FAILED/);
    expect(out[0]).toContain('failed child 1 arr:1: Host EC2 (instance i-1) terminated.');
    expect(out[0]).toContain('`fitgrid launch` of the same grid re-runs only the missing packs');
  });

  it('keeps refreshing with --watch until every job has ended', async () => {
    store.putJson('sweeps/fake/jobs.json', { sweep: 'fake', launches: [launchRecord] });
    const job = (summary: Record<string, number>, status: string) => ({ jobs: [
      { jobId: 'arr', jobName: 'a', jobQueue: 'q', jobDefinition: 'd', startedAt: 0, status: status as 'RUNNING', arrayProperties: { statusSummary: summary } },
      { jobId: 'rep', jobName: 'r', jobQueue: 'q', jobDefinition: 'd', startedAt: 0, status: status === 'SUCCEEDED' ? 'SUCCEEDED' as const : 'PENDING' as const },
    ] });
    batch.on(DescribeJobsCommand).resolvesOnce(job({ RUNNING: 2 }, 'RUNNING')).resolves(job({ SUCCEEDED: 2 }, 'SUCCEEDED'));
    await run({ watch: true, interval: 1 });
    expect(out).toHaveLength(2);
    expect(out[0]).toContain('2 RUNNING');
    expect(out[1]).toContain('all jobs ended');
  });
});
