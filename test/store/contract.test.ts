import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { openStore } from '../../runner/store/open.ts';
import type { Store } from '../../runner/store/store.ts';
import { s3ForThisFile } from '../helpers/s3.ts';

/** The Store contract (store.ts), run unchanged against a folder and against a real S3 server. */
const s3 = s3ForThisFile();
let folderRoot: string;
let n = 0;

beforeAll(async () => {
  folderRoot = await mkdtemp(path.join(tmpdir(), 'fitgrid-folder-'));
});
afterAll(async () => {
  await rm(folderRoot, { recursive: true, force: true });
});

const kinds: [string, () => Promise<Store>][] = [
  ['folder', () => openStore(path.join(folderRoot, `store-${++n}`))],
  ['s3', () => openStore(`${s3().url}case-${++n}`)],
];
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

describe.each(kinds)('the %s store', (_kind, open) => {
  test('put then get returns the same bytes, for strings and binary', async () => {
    const store = await open();
    const binary = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
    await store.put('trials/a.json', '{"ok":true,"π":3.14}');
    await store.put('blobs/b.bin', binary);
    expect(text(await store.get('trials/a.json'))).toBe('{"ok":true,"π":3.14}');
    expect(await store.get('blobs/b.bin')).toEqual(binary);
  });

  test('get of a missing key is undefined and exists is false', async () => {
    const store = await open();
    await store.put('sweeps/s/manifest.json', '{}');
    expect(await store.get('trials/missing.json')).toBeUndefined();
    expect(await store.get('sweeps/s')).toBeUndefined();
    expect(await store.exists('trials/missing.json')).toBe(false);
    expect(await store.exists('sweeps/s/manifest.json')).toBe(true);
  });

  test('put overwrites by default', async () => {
    const store = await open();
    await store.put('k.txt', 'one');
    await store.put('k.txt', 'two');
    expect(text(await store.get('k.txt'))).toBe('two');
  });

  test('a get during an overwrite returns the old or the new value whole, and one after it the new', async () => {
    const store = await open();
    for (let round = 0; round < 8; round++) {
      const old = `${round}`.repeat(1 << 20);
      const next = `${round + 1}`.repeat(1 << 20);
      await store.put('trials/big.json', old);
      const [, ...during] = await Promise.all([store.put('trials/big.json', next), ...Array.from({ length: 4 }, () => store.get('trials/big.json'))]);
      for (const seen of during) expect([old, next]).toContain(text(seen));
      expect(text(await store.get('trials/big.json'))).toBe(next);
    }
  });

  test('listStamped lists what list does, and a key written again gets a new stamp', async () => {
    const store = await open();
    await store.put('trials/a.json', 'aaaa');
    await store.put('trials/b.json', 'bbbb');
    await store.put('other/c.json', 'c');
    const before = await store.listStamped('trials/');
    expect([...before.keys()].sort()).toEqual(await store.list('trials/'));
    await store.put('trials/a.json', 'AAAA'); // the same size, at once
    const after = await store.listStamped('trials/');
    expect(after.get('trials/a.json')).not.toBe(before.get('trials/a.json'));
    expect(after.get('trials/b.json')).toBe(before.get('trials/b.json'));
  });

  test('put with ifAbsent leaves an existing key untouched and writes a missing one', async () => {
    const store = await open();
    await store.put('trials/t.json', 'first');
    await store.put('trials/t.json', 'second', { ifAbsent: true });
    await store.put('trials/u.json', 'new', { ifAbsent: true });
    expect(text(await store.get('trials/t.json'))).toBe('first');
    expect(text(await store.get('trials/u.json'))).toBe('new');
  });

  test('put with durable: false writes, overwrites and honours ifAbsent the same way', async () => {
    const store = await open();
    await store.put('trials/d.json', 'one', { durable: false });
    await store.put('trials/d.json', 'two', { durable: false, ifAbsent: true });
    expect(text(await store.get('trials/d.json'))).toBe('one');
    await store.put('trials/d.json', 'three', { durable: false });
    expect(text(await store.get('trials/d.json'))).toBe('three');
    expect(await store.list('trials/')).toEqual(['trials/d.json']);
  });

  test('concurrent ifAbsent writers of one key leave exactly one whole value', async () => {
    const store = await open();
    const bodies = Array.from({ length: 8 }, (_, i) => `writer-${i}-`.repeat(1000));
    await Promise.all(bodies.map((b) => store.put('trials/race.json', b, { ifAbsent: true })));
    expect(bodies).toContain(text(await store.get('trials/race.json')));
    expect(await store.list('trials/')).toEqual(['trials/race.json']);
  });

  test('list returns every key under a prefix, recursively and sorted', async () => {
    const store = await open();
    for (const k of ['trials/b.json', 'trials/a.json', 'sweeps/s/logs/pack-1.jsonl', 'sweeps/s/manifest.json', 'sweeps/t/manifest.json', 'trials2/x.json']) {
      await store.put(k, k);
    }
    expect(await store.list('trials/')).toEqual(['trials/a.json', 'trials/b.json']);
    expect(await store.list('sweeps/s/')).toEqual(['sweeps/s/logs/pack-1.jsonl', 'sweeps/s/manifest.json']);
    expect(await store.list('sweeps/')).toHaveLength(3);
    expect(await store.list('trials')).toEqual(['trials/a.json', 'trials/b.json', 'trials2/x.json']);
    expect(await store.list('')).toHaveLength(6);
    expect(await store.list('nothing/')).toEqual([]);
  });

  test('list sorts by UTF-8 bytes as S3 does, not by UTF-16 code units', async () => {
    const store = await open();
    // U+FF5E is one UTF-16 unit above the emoji's first surrogate, but below it in UTF-8
    for (const k of ['order/\u{1F600}.json', 'order/\u{FF5E}.json', 'order/z.json']) await store.put(k, k);
    expect(await store.list('order/')).toEqual(['order/z.json', 'order/\u{FF5E}.json', 'order/\u{1F600}.json']);
  });

  test.each([
    ['../escape.json'],
    ['trials/../../escape.json'],
    ['/etc/passwd'],
    ['trials\\x.json'],
    ['trials//x.json'],
    ['trials/./x.json'],
    ['trials/x\0.json'],
    [''],
  ])('refuses the unsafe key %j on put, get and exists', async (key) => {
    const store = await open();
    await expect(store.put(key, 'x')).rejects.toThrow(/store key/);
    await expect(store.get(key)).rejects.toThrow(/store key/);
    await expect(store.exists(key)).rejects.toThrow(/store key/);
    await expect(store.list('../')).rejects.toThrow(/store key/);
    expect(await store.list('')).toEqual([]);
  });
});

test('the folder store leaves no temporary files behind and lists none in flight', async () => {
  const store = await openStore(path.join(folderRoot, 'tmp-check'));
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`trials/t${i % 5}.json`, 'x'.repeat(10_000), { ifAbsent: i % 2 === 0 })));
  expect(await readdir(path.join(folderRoot, 'tmp-check', 'trials'))).toEqual(['t0.json', 't1.json', 't2.json', 't3.json', 't4.json']);
});

test('the folder store fsyncs a put unless it is asked for durable: false', async () => {
  const fs = await import('node:fs/promises');
  const probe = await fs.open(path.join(folderRoot, 'probe'), 'w');
  const sync = vi.spyOn(Object.getPrototypeOf(probe) as { sync(): Promise<void> }, 'sync');
  await probe.close();
  try {
    const store = await openStore(path.join(folderRoot, 'sync-check'));
    await store.put('trials/a.json', 'x', { durable: false });
    expect(sync).not.toHaveBeenCalled();
    await store.put('trials/b.json', 'x');
    expect(sync).toHaveBeenCalled();
  } finally {
    sync.mockRestore();
  }
});

test('a store folder that cannot be created is a one-line UserError naming the path and reason', async () => {
  const file = path.join(folderRoot, 'a-file');
  await (await import('node:fs/promises')).writeFile(file, 'x');
  const store = await openStore(path.join(file, 'store'));
  const error = await store.put('trials/a.json', '{}').catch((e: unknown) => e);
  expect(error).toMatchObject({ name: 'UserError', exitCode: 1 });
  expect((error as Error).message).toMatch(new RegExp(`^cannot write to the store folder ${file}/store \\(ENOTDIR: not a directory`));
  expect((error as Error).message).not.toContain('\n');
});

test('openStore accepts a path, a file:// URL and s3://, and refuses other schemes', async () => {
  expect((await openStore(path.join(folderRoot, 'x'))).url).toBe(`file://${folderRoot}/x`);
  expect((await openStore(`file://${folderRoot}/y`)).url).toBe(`file://${folderRoot}/y`);
  expect((await openStore('s3://bucket/a/b')).url).toBe('s3://bucket/a/b/');
  await expect(openStore('gs://bucket/x')).rejects.toThrow(/Expected `--store` to be a folder or s3:\/\/bucket\/prefix, got gs:\/\/bucket\/x/);
});
