import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, finish, start, trialFiles } from '../helpers/cli.ts';

const tmp: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'fitgrid-e2e-'));
  tmp.push(dir);
  return dir;
};
afterAll(async () => Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true }))));

const manifestOf = async (store: string, sweep = 'smoke') => JSON.parse(await readFile(path.join(store, 'sweeps', sweep, 'manifest.json'), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fitgrid run', () => {
  it('trains the smoke grid into the store, then trains nothing on a second run', async () => {
    const store = await tempDir();
    const first = await cli(['run', 'grids/smoke.yaml', '--store', store, '--concurrency', '2', '--pack-size', '4']);
    expect(first.stderr).not.toMatch(/this is a bug/);
    expect(first.code).toBe(0);
    const manifest = await manifestOf(store);
    const files = await trialFiles(store);
    expect([...files.keys()]).toEqual(manifest.trials.map((t: { trialId: string }) => `${t.trialId}.json`).sort());
    for (const text of files.values()) expect(JSON.parse(text)).toMatchObject({ status: 'ok', sweep: 'smoke' });
    expect(first.stdout).toMatch(new RegExp(`done: ${files.size} trained, 0 skipped \\(already stored\\), 0 failed, 0 diverged of ${files.size} trials`));
    expect(first.stdout).toContain(`results: file://${store}/trials/`);
    expect((await readFile(path.join(store, 'sweeps/smoke/logs/pack-0.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).event)).toContain('end');

    const site = path.join(store, 'elsewhere');
    const second = await cli(['run', 'grids/smoke.yaml', '--store', store, '--pack-size', '4', '--report', '--out', site]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`done: 0 trained, ${files.size} skipped`));
    const index = second.stdout.trim().split('\n').at(-1)!;
    expect(index).toBe(path.join(site, 'index.html'));
    expect(await readFile(index, 'utf8')).toMatch(/<html/i);
    expect(await trialFiles(store)).toEqual(files);
  });

  it('resumes after a SIGKILL of the whole process group with one unchanged result per trial', async () => {
    const store = await tempDir();
    const args = ['run', 'grids/smoke.yaml', '--store', store, '--concurrency', '2', '--pack-size', '2'];
    const child = start(args, {}, { detached: true });
    const done = finish(child);
    // Kill at a random moment once training has produced something (or when it ends first).
    let exited = false;
    void done.then(() => (exited = true));
    while (!exited && (await trialFiles(store)).size === 0) await sleep(50);
    await sleep(Math.random() * 1500);
    if (!exited) process.kill(-child.pid!, 'SIGKILL');
    await done;
    const before = await trialFiles(store);
    for (const text of before.values()) JSON.parse(text);

    const again = await cli(args);
    expect(again.code).toBe(0);
    const after = await trialFiles(store);
    const manifest = await manifestOf(store);
    expect([...after.keys()]).toEqual(manifest.trials.map((t: { trialId: string }) => `${t.trialId}.json`).sort());
    for (const [name, text] of before) expect(after.get(name)).toBe(text);
    for (const text of after.values()) expect(JSON.parse(text).status).toBe('ok');
    expect(again.stdout).toMatch(new RegExp(`done: ${after.size - before.size} trained, ${before.size} skipped`));
  });

  it('stops on SIGINT with exit 130, killing its workers and keeping what finished', async () => {
    const store = await tempDir();
    const child = start(['run', 'grids/smoke.yaml', '--store', store, '--concurrency', '1', '--pack-size', '2']);
    const done = finish(child);
    let exited = false;
    void done.then(() => (exited = true));
    while (!exited && (await trialFiles(store)).size === 0) await sleep(50);
    child.kill('SIGINT');
    const result = await done;
    const kept = await trialFiles(store);
    expect(kept.size).toBeLessThan(8);
    expect(result.code).toBe(130);
    expect(result.stdout).toMatch(/^stopped: \d+ trained/);
    expect(result.stdout).toContain('run the same command again to train only the rest');
    // No worker outlived the parent: nothing more arrives.
    await sleep(1500);
    expect(await trialFiles(store)).toEqual(kept);
  });

  it('records a diverging trial, stores the others and exits 1', async () => {
    const dir = await tempDir();
    const grid = path.join(dir, 'diverge.yaml');
    const smoke = await readFile('grids/smoke.yaml', 'utf8');
    await writeFile(grid, smoke.replace('name: smoke', 'name: diverge').replace('l2: [0, 0.01]', 'l2: [0, 1.0e+300]').replace('seeds: 2', 'seeds: 1'));
    const store = path.join(dir, 'store');
    const result = await cli(['run', grid, '--store', store]);
    expect(result.code).toBe(1);
    const statuses = [...(await trialFiles(store)).values()].map((t) => JSON.parse(t)).map((r) => `${r.config.l2}:${r.status}`).sort();
    expect(statuses).toEqual(['0:ok', '0:ok', '1e+300:diverged', '1e+300:diverged']);
    expect(result.stdout).toMatch(/done: 4 trained, 0 skipped \(already stored\), 0 failed, 2 diverged/);
  });

  it('refuses a store whose manifest has another format version and leaves it untouched', async () => {
    const store = await tempDir();
    const key = path.join(store, 'sweeps/smoke/manifest.json');
    const foreign = JSON.stringify({ fitgridVersion: '9.0.0', formatVersion: 999, sweep: 'smoke', trials: [], packs: [] });
    await mkdir(path.dirname(key), { recursive: true });
    await writeFile(key, foreign);
    const before = await trialFiles(store);
    const result = await cli(['run', 'grids/smoke.yaml', '--store', store]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/fitgrid 9\.0\.0 \(manifest format 999\)/);
    expect(await readFile(key, 'utf8')).toBe(foreign);
    expect(await trialFiles(store)).toEqual(before);
  });

  it('says plainly when the store folder cannot be written', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'file'), 'not a folder');
    const result = await cli(['run', 'grids/smoke.yaml', '--store', path.join(dir, 'file', 'store')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^fitgrid: cannot write to the store folder .*ENOTDIR/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
