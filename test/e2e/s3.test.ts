import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { S3Store } from '../../runner/store/s3.ts';
import { makeS3Client } from '../../runner/store/s3.ts';
import { cli, finish, start, trialFiles } from '../helpers/cli.ts';
import { freePort, s3Env, startS3Child } from '../helpers/s3.ts';

const dirs: string[] = [];
let server: ChildProcess | undefined;
const tempDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'fitgrid-s3-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => void server?.kill('SIGKILL'));
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The trial results under s3://bucket/runs, read through the store itself. */
async function storedTrials(port: number): Promise<Map<string, string>> {
  Object.assign(process.env, s3Env(port));
  const store = new S3Store({ bucket: 'bucket', prefix: 'runs/' }, makeS3Client({ ...process.env, ...s3Env(port) }));
  const files = new Map<string, string>();
  for (const key of await store.list('trials/')) files.set(key, new TextDecoder().decode(await store.get(key)));
  return files;
}

describe('fitgrid run --store s3://', () => {
  it('runs against an S3-compatible server, then report and pull work from it', async () => {
    const port = await freePort();
    server = await startS3Child(port, await tempDir(), 'bucket');
    const env = s3Env(port);
    const run = await cli(['run', 'grids/smoke.yaml', '--store', 's3://bucket/runs', '--pack-size', '4'], env);
    expect(run.stderr).not.toMatch(/this is a bug/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('results: s3://bucket/runs/trials/');
    const stored = await storedTrials(port);
    expect(stored.size).toBe(8);
    for (const text of stored.values()) expect(JSON.parse(text).status).toBe('ok');

    const out = await tempDir();
    const report = await cli(['report', 'smoke', '--store', 's3://bucket/runs', '--out', path.join(out, 'site')], env);
    expect(report.code).toBe(0);
    expect(report.stdout.trim().split('\n').at(-1)).toMatch(/index\.html$/);

    const local = path.join(out, 'pulled');
    const pull = await cli(['pull', 'smoke', '--store', 's3://bucket/runs', '--to', local], env);
    expect(pull.code).toBe(0);
    const pulled = await trialFiles(local);
    expect(pulled.size).toBe(8);
    for (const [key, text] of stored) expect(pulled.get(key.slice('trials/'.length))).toBe(text);
    expect(JSON.parse(await readFile(path.join(local, 'sweeps/smoke/manifest.json'), 'utf8')).sweep).toBe('smoke');
  });

  it('fails clearly when the server stops mid-run, and a rerun after a restart completes with no trial lost or repeated', async () => {
    const port = await freePort();
    const data = await tempDir();
    server = await startS3Child(port, data, 'bucket');
    const env = s3Env(port);
    const args = ['run', 'grids/smoke.yaml', '--store', 's3://bucket/runs', '--pack-size', '2'];
    const child = start([...args, '--concurrency', '1'], env);
    const running = finish(child);
    let exited = false;
    void running.then(() => (exited = true));
    while (!exited && (await storedTrials(port)).size < 1) await sleep(100);
    server.kill('SIGKILL');
    const failed = await running;
    const before = await (async () => {
      server = await startS3Child(port, data, 'bucket');
      return storedTrials(port);
    })();
    expect(before.size).toBeLessThan(8);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/pack \d+ failed \(exit 75\): .*infrastructure failure.*(ECONNREFUSED|cannot reach)/);
    expect(failed.stdout).toContain('not started after the failure');
    expect(failed.stdout).toContain('run the same command again');

    const again = await cli(args, env);
    expect(again.code).toBe(0);
    const after = await storedTrials(port);
    expect(after.size).toBe(8);
    for (const [key, text] of before) expect(after.get(key)).toBe(text);
    const ids = [...after.values()].map((t) => JSON.parse(t).trialId);
    expect(new Set(ids).size).toBe(8);
    expect(again.stdout).toMatch(new RegExp(`done: ${8 - before.size} trained, ${before.size} skipped`));
  });
});
