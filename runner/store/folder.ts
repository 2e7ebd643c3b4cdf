import { randomBytes } from 'node:crypto';
import { constants, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../errors.ts';
import { checkKey, checkPrefix } from './key-check.ts';
import type { PutOptions, Store } from './store.ts';

/** Temporary files carry this suffix so that `list` never reports a half-written object. */
const tmpSuffix = '.fitgrid-tmp';

/**
 * The store under a folder: one file per key. Writes go to a temporary file beside the
 * target, are fsynced (unless `durable: false`), then renamed (or hard-linked for `ifAbsent`,
 * which cannot clobber).
 * The folder is created on the first write.
 */
export class FolderStore implements Store {
  readonly url: string;
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.url = pathToFileURL(this.root).href;
  }

  /** Where a key lives on disk (the report builds its site straight into the folder). */
  localPath(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    const target = this.localPath(key);
    const dir = path.dirname(target);
    const tmp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}${tmpSuffix}`);
    const durable = options.durable ?? true;
    try {
      if (options.ifAbsent && (await isFile(target))) return;
      await fs.mkdir(dir, { recursive: true });
      const handle = await fs.open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      try {
        await handle.writeFile(body);
        if (durable) await handle.sync();
      } finally {
        await handle.close();
      }
      if (options.ifAbsent) {
        // link() fails with EEXIST instead of replacing: a concurrent writer keeps its object.
        await fs.link(tmp, target).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
        await fs.unlink(tmp);
      } else {
        await fs.rename(tmp, target);
      }
      if (durable) await syncDir(dir);
    } catch (error) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw this.writeError(error, target);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const file = this.localPath(key);
    try {
      return new Uint8Array(await fs.readFile(file));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.readError(error, file);
    }
  }

  async exists(key: string): Promise<boolean> {
    return isFile(this.localPath(key));
  }

  async list(prefix: string): Promise<string[]> {
    return sortByBytes(await this.keysUnder(prefix));
  }

  async listStamped(prefix: string): Promise<Map<string, string>> {
    const stamped = new Map<string, string>();
    // unsorted: a map needs no order, and sorting 100,000 keys by bytes takes ~0.2 s
    for (const key of await this.keysUnder(prefix)) {
      // One synchronous stat a key: 100,000 take ~0.5 s, six times less than through the thread pool.
      // Every put renames a new file into place, so the inode tells a rewrite within one clock tick.
      const s = statSync(this.localPath(key), { throwIfNoEntry: false });
      if (s) stamped.set(key, `${s.size}:${s.mtimeMs}:${s.ino}`);
    }
    return stamped;
  }

  private async keysUnder(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    // Walk only the folder the prefix names; the rest of the prefix filters file names.
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const keys: string[] = [];
    await this.walk(dirKey, keys);
    return keys.filter((k) => k.startsWith(prefix));
  }

  private async walk(dirKey: string, out: string[]): Promise<void> {
    const dir = path.join(this.root, ...dirKey.split('/').filter(Boolean));
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw this.readError(error, dir);
    }
    for (const e of entries) {
      if (e.name.endsWith(tmpSuffix)) continue;
      if (e.isDirectory()) await this.walk(`${dirKey}${e.name}/`, out);
      else if (e.isFile()) out.push(dirKey + e.name);
    }
  }

  private writeError(error: unknown, file: string): unknown {
    const e = error as NodeJS.ErrnoException;
    if (e?.code && userCodes.has(e.code)) {
      return new UserError(`cannot write to the store folder ${this.root} (${e.code}: ${reason(e)} at ${file})`, {}, 1);
    }
    return error;
  }

  private readError(error: unknown, file: string): unknown {
    const e = error as NodeJS.ErrnoException;
    if (e?.code && userCodes.has(e.code)) {
      return new UserError(`cannot read the store folder ${this.root} (${e.code}: ${reason(e)} at ${file})`, {}, 1);
    }
    return error;
  }
}

const userCodes = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EEXIST', 'EISDIR', 'ELOOP', 'ENAMETOOLONG']);

function reason(e: NodeJS.ErrnoException): string {
  // Node's message repeats the code and the path; keep only the words in between.
  return (e.message.match(/^\w+: ([^,]+)/)?.[1] ?? e.message).trim();
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Makes the rename durable; some file systems refuse to fsync a folder, which is harmless. */
async function syncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close();
  }
}

/**
 * S3 lists keys in UTF-8 byte order; the folder store does the same so both agree. Each key is
 * encoded once, not once per comparison: a sweep's store lists 100,000 keys.
 */
export function sortByBytes(keys: string[]): string[] {
  return keys.map((k) => ({ k, b: Buffer.from(k) })).sort((x, y) => Buffer.compare(x.b, y.b)).map((x) => x.k);
}
