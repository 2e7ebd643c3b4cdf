import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { contentTypeFor } from './content-type.ts';
import type { Store } from './store.ts';

/** Requests in flight at once: enough to hide S3 latency, few enough for a laptop's uplink. */
const concurrency = 8;

export interface CopyCount {
  copied: number;
  skipped: number;
}

/** Copies the keys under `prefix` that `to` lacks; keys already there are never rewritten. */
export async function copyMissing(from: Store, to: Store, prefix: string): Promise<CopyCount> {
  const [source, present] = await Promise.all([from.list(prefix), to.list(prefix)]);
  const have = new Set(present);
  return copyKeys(from, to, source.filter((k) => !have.has(k)), source.length);
}

/** Copies the given keys (missing in `from` are ignored), writing with `ifAbsent`. */
export async function copyKeys(from: Store, to: Store, keys: string[], considered = keys.length): Promise<CopyCount> {
  const limit = pLimit(concurrency);
  const results = await Promise.all(
    keys.map((key) =>
      limit(async () => {
        const body = await from.get(key);
        if (body === undefined) return false;
        await to.put(key, body, { ifAbsent: true, contentType: contentTypeFor(key) });
        return true;
      }),
    ),
  );
  const copied = results.filter(Boolean).length;
  return { copied, skipped: considered - copied };
}

/** Copies keys whose bytes differ (or are missing) in `to`: for files that grow, like logs. */
export async function copyChanged(from: Store, to: Store, keys: string[]): Promise<number> {
  const limit = pLimit(concurrency);
  const results = await Promise.all(
    keys.map((key) =>
      limit(async () => {
        const [body, old] = await Promise.all([from.get(key), to.get(key)]);
        if (body === undefined || (old && Buffer.from(old).equals(Buffer.from(body)))) return false;
        await to.put(key, body, { contentType: contentTypeFor(key) });
        return true;
      }),
    ),
  );
  return results.filter(Boolean).length;
}

/**
 * Uploads every file of a built site folder under `prefix` (empty or ending with `/`), each
 * with the Content-Type a browser needs (S3 would serve them all as octet-stream otherwise).
 * Returns the keys written, relative to the store.
 */
export async function publishDir(dir: string, store: Store, prefix: string): Promise<string[]> {
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  const files = await listFiles(dir);
  const limit = pLimit(concurrency);
  await Promise.all(
    files.map((rel) =>
      limit(async () => {
        const body = await readFile(path.join(dir, ...rel.split('/')));
        await store.put(prefix + rel, new Uint8Array(body), { contentType: contentTypeFor(rel) });
      }),
    ),
  );
  return files.map((rel) => prefix + rel);
}

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const key = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, key)));
    else if (e.isFile()) out.push(key);
  }
  return out.sort();
}
