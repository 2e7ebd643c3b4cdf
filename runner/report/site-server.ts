import { open, realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError } from '../errors.ts';
import { contentTypeFor } from '../store/content-type.ts';
import type { Store } from '../store/store.ts';
import { contentSecurityPolicy } from './site-csp.ts';

/** One file of a site: its bytes, or a stream of them (closed by the server when not read). */
interface SiteFile {
  /** The name the content type comes from (`…/index.html` for a folder). */
  name: string;
  size: number;
  body: Uint8Array | Readable;
}

/**
 * Where a site's files come from. `read` takes a path relative to the site with no `.`, `..` or
 * empty segments ('' is the site's root) and returns the file, `undefined` when there is none, or
 * 'forbidden' when the path leads outside the site.
 */
export interface SiteSource {
  read(rel: string): Promise<SiteFile | undefined | 'forbidden'>;
}

/**
 * A site folder. A path is served only when its real path (symlinks resolved) lies inside the
 * folder's real path; the file is opened once and read through that handle, so a file removed
 * or replaced after the check is a 404 or the old bytes, never a crash.
 */
export async function folderSource(dir: string): Promise<SiteSource> {
  const root = await realpath(resolve(dir));
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  const read = async (rel: string, folderIndex: boolean): Promise<SiteFile | undefined | 'forbidden'> => {
    const real = await realpath(join(root, ...rel.split('/').filter(Boolean))).catch(() => undefined);
    if (real === undefined) return undefined;
    if (!inside(real)) return 'forbidden';
    const handle = await open(real, 'r').catch(() => undefined);
    if (!handle) return undefined;
    const info = await handle.stat().catch(() => undefined);
    if (info?.isDirectory() && folderIndex) {
      await handle.close();
      return read(rel ? `${rel}/index.html` : 'index.html', false);
    }
    if (!info?.isFile()) {
      await handle.close();
      return undefined;
    }
    return { name: real, size: info.size, body: handle.createReadStream() };
  };
  return { read: (rel) => read(rel, true) };
}

/**
 * A site in a store (a published one in S3): every request reads its object with the user's
 * own credentials; nothing is cached on disk and nothing in the bucket is made public.
 */
export function storeSource(store: Store, prefix: string): SiteSource {
  const get = async (key: string) => {
    try {
      return await store.get(key);
    } catch (error) {
      // An unsafe key (`..`, a backslash) is refused by the store before any request.
      if (error instanceof UserError && error.exitCode === 2) return 'forbidden' as const;
      throw error;
    }
  };
  return {
    async read(rel) {
      const name = rel === '' || rel.endsWith('/') ? `${rel}index.html` : rel;
      let found = await get(prefix + name);
      let served = name;
      if (found === undefined && !/\.[a-z0-9]+$/i.test(name)) {
        served = `${name}/index.html`;
        found = await get(prefix + served);
      }
      if (found === undefined || found === 'forbidden') return found;
      return { name: served, size: found.byteLength, body: found };
    },
  };
}

export interface RunningSite {
  url: string;
  server: Server;
  close: () => Promise<void>;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/**
 * Serves a site on 127.0.0.1. Only GET and HEAD, only for the Host names it listens on (a page
 * elsewhere cannot reach it through DNS rebinding), never a path outside the site, every
 * response with nosniff and a Content-Security-Policy; one failing request never stops it.
 */
export async function serveSite(source: SiteSource, port = 0): Promise<RunningSite> {
  const hosts = new Set<string>();
  const server = createServer((req, res) => {
    handle(source, hosts, req, res).catch(() => {
      if (!res.headersSent) text(res, 500, 'internal error');
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok)).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? new UserError(`port ${port} on 127.0.0.1 is in use; pick another with --port`, {}, 1) : error;
  });
  const { port: bound } = server.address() as AddressInfo;
  hosts.add(`127.0.0.1:${bound}`).add(`localhost:${bound}`);
  return {
    url: `http://127.0.0.1:${bound}/index.html`,
    server,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

function text(res: ServerResponse, code: number, body: string) {
  res.writeHead(code, { ...SECURITY_HEADERS, 'content-security-policy': contentSecurityPolicy(), 'content-type': 'text/plain; charset=utf-8' }).end(body);
}

/** The site-relative path of a request, or why there is none. */
function sitePath(url: string | undefined): string | 400 | 403 {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url ?? '/', 'http://127.0.0.1').pathname);
  } catch {
    return 400;
  }
  const segments = path.split('/').slice(1);
  const last = segments.pop()!;
  if (path.includes('\0') || path.includes('\\') || [...segments, last].some((s) => s === '.' || s === '..') || segments.some((s) => s === '')) return 403;
  return segments.length ? `${segments.join('/')}/${last}` : last;
}

async function handle(source: SiteSource, hosts: Set<string>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!hosts.has((req.headers.host ?? '').toLowerCase())) {
    return text(res, 421, `fitgrid serve answers only to ${[...hosts].join(' and ')}`);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed');
  const rel = sitePath(req.url);
  if (rel === 400) return text(res, 400, 'bad request');
  if (rel === 403) return text(res, 403, 'forbidden');
  const file = await source.read(rel);
  if (file === 'forbidden') return text(res, 403, 'forbidden');
  if (!file) return text(res, 404, 'not found');
  const type = contentTypeFor(file.name);
  let body = file.body;
  // A page's policy names its own inline scripts, so an HTML page is read whole before it is sent.
  if (type.startsWith('text/html') && !(body instanceof Uint8Array)) body = await readAll(body);
  const html = type.startsWith('text/html') ? Buffer.from(body as Uint8Array).toString('utf8') : undefined;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-security-policy': contentSecurityPolicy(html),
    'content-type': type,
    'content-length': body instanceof Uint8Array ? body.byteLength : file.size,
  });
  if (req.method === 'HEAD' || body instanceof Uint8Array) {
    if (!(body instanceof Uint8Array)) body.destroy();
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  // A read that fails half-way (a disk error, a file truncated under it) ends this response only.
  body.once('error', () => res.destroy());
  body.pipe(res);
}

async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
