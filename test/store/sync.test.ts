import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pull } from '../../runner/commands/pull.ts';
import { UserError } from '../../runner/errors.ts';
import { dataKey, manifestKey, packLogKey, trialKey } from '../../runner/store/keys.ts';
import { openStore } from '../../runner/store/open.ts';
import { copyMissing, publishDir } from '../../runner/store/sync.ts';
import { s3ForThisFile } from '../helpers/s3.ts';
import { collect, silent } from '../helpers/output.ts';

const s3 = s3ForThisFile();
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'fitgrid-sync-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('copyMissing copies only the keys the destination lacks and never rewrites the others', async () => {
  const from = await openStore(`${s3().url}copy`);
  const to = await openStore(path.join(tmp, 'copy'));
  await from.put('trials/a.json', 'a-cloud');
  await from.put('trials/b.json', 'b-cloud');
  await to.put('trials/a.json', 'a-local');
  expect(await copyMissing(from, to, 'trials/')).toEqual({ copied: 1, skipped: 1 });
  expect(new TextDecoder().decode(await to.get('trials/a.json'))).toBe('a-local');
  expect(new TextDecoder().decode(await to.get('trials/b.json'))).toBe('b-cloud');
});

test('pull copies the manifest, logs and the missing trials of that sweep only', async () => {
  const from = await openStore(`${s3().url}pull`);
  const dir = path.join(tmp, 'pull');
  const manifest = JSON.stringify({ sweep: 'sw', trials: [{ trialId: 't1' }, { trialId: 't2' }, { trialId: 't3' }, { trialId: 't4' }], packs: [], dataKeys: { abc: dataKey('abc') } });
  await from.put(manifestKey('sw'), manifest);
  await from.put(dataKey('abc'), 'idx bytes');
  await from.put(packLogKey('sw', 0), '{"event":"done"}\n');
  for (const id of ['t1', 't2', 't3', 'other-sweep']) await from.put(trialKey(id), `{"id":"${id}"}`);
  const to = await openStore(dir);
  await to.put(trialKey('t1'), '{"id":"t1","local":true}');

  const lines: string[] = [];
  const result = await pull({ sweep: 'sw', store: from.url, to: dir, output: collect(lines) });

  expect(result).toEqual({ trialsCopied: 2, trialsPresent: 1, trialsPending: 1, otherFilesCopied: 2, dataFilesCopied: 1 });
  expect(lines).toEqual([expect.stringMatching(/^pulled sw from s3:\/\/fitgrid-test\/runs\/pull\/ to file:\/\/.*: 2 trials copied, 1 already here, 1 not in the store yet; 2 of 2 sweep files updated; 1 of 1 data files copied$/)]);
  expect(await readFile(path.join(dir, 'data/abc'), 'utf8')).toBe('idx bytes');
  expect(await readFile(path.join(dir, 'sweeps/sw/manifest.json'), 'utf8')).toBe(manifest);
  expect(await readFile(path.join(dir, 'sweeps/sw/logs/pack-0.jsonl'), 'utf8')).toBe('{"event":"done"}\n');
  expect(await to.list('trials/')).toEqual(['trials/t1.json', 'trials/t2.json', 'trials/t3.json']);
  expect(await readFile(path.join(dir, 'trials/t1.json'), 'utf8')).toBe('{"id":"t1","local":true}');

  // A second pull finds nothing new; a trial that arrived since is the only one copied.
  await from.put(trialKey('t4'), '{"id":"t4"}');
  expect(await pull({ sweep: 'sw', store: from.url, to: dir, output: silent })).toEqual({ trialsCopied: 1, trialsPresent: 3, trialsPending: 0, otherFilesCopied: 0, dataFilesCopied: 0 });
});

test('pull of a sweep the store does not have is a UserError naming the manifest key', async () => {
  const error = await pull({ sweep: 'nope', store: `${s3().url}pull`, to: path.join(tmp, 'none'), output: silent }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  expect((error as Error).message).toMatch(/no sweep `nope` in s3:\/\/fitgrid-test\/runs\/pull\/ \(sweeps\/nope\/manifest\.json is missing\)/);
});

test('publishDir uploads a site folder with the content type of each extension', async () => {
  const site = path.join(tmp, 'site');
  const files: Record<string, string> = {
    'index.html': 'text/html; charset=utf-8',
    '_astro/app.css': 'text/css; charset=utf-8',
    '_astro/app.js': 'text/javascript; charset=utf-8',
    '_astro/chunk.mjs': 'text/javascript; charset=utf-8',
    'summary.json': 'application/json',
    'plots/gap.svg': 'image/svg+xml',
    'img/a.png': 'image/png',
    'favicon.ico': 'image/x-icon',
    'robots.txt': 'text/plain; charset=utf-8',
    'fonts/f.woff2': 'font/woff2',
    'sitemap.xml': 'application/xml',
    '_astro/app.js.map': 'application/json',
    'data.bin': 'application/octet-stream',
  };
  for (const rel of Object.keys(files)) {
    await mkdir(path.dirname(path.join(site, rel)), { recursive: true });
    await writeFile(path.join(site, rel), rel);
  }
  const store = await openStore(`${s3().url}pub`);
  const keys = await publishDir(site, store, 'sweeps/sw/site/');
  expect(keys).toHaveLength(Object.keys(files).length);
  for (const [rel, type] of Object.entries(files)) {
    const res = await fetch(`${s3().endpoint}/${s3().bucket}/runs/pub/sweeps/sw/site/${rel}`);
    expect([rel, res.headers.get('content-type')]).toEqual([rel, type]);
    expect(await res.text()).toBe(rel);
  }
});

test('`fitgrid pull` of a missing sweep prints one line and exits 2', async () => {
  const { main } = await import('../../runner/main.ts');
  const errors: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    expect(await main(['node', 'fitgrid', 'pull', 'nope', '--store', `${s3().url}pull`, '--to', path.join(tmp, 'cli')])).toBe(2);
  } finally {
    process.stderr.write = write;
  }
  expect(errors.join('')).toMatch(/^fitgrid: no sweep `nope` in s3:\/\/fitgrid-test\/runs\/pull\/ \(sweeps\/nope\/manifest\.json is missing\)\n$/);
});
