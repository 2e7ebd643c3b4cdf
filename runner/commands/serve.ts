import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, resolve, sep } from 'node:path';
import { defaultStore } from '../cli.ts';
import { UserError } from '../errors.ts';
import { siteKey } from '../store/keys.ts';
import { contentTypeFor } from '../store/content-type.ts';

export interface ServeOptions {
  sweep: string;
  store?: string;
  dir?: string;
  port?: number;
  /** Resolves to stop serving; default: Ctrl-C or SIGTERM. */
  until?: Promise<void>;
}

/** `fitgrid serve`: serves a built report on 127.0.0.1, prints its URL and stays up until Ctrl-C. */
export async function serve(options: ServeOptions): Promise<void> {
  const dir = options.dir ? resolve(options.dir) : await siteFolder(options.sweep, options.store ?? defaultStore);
  if (!(await stat(join(dir, 'index.html')).catch(() => undefined))?.isFile()) {
    throw new UserError(`no built site in ${dir} (index.html is missing); run \`fitgrid report ${options.sweep}\` first`);
  }
  const site = await serveDir(dir, options.port ?? 0);
  process.stdout.write(`Serving ${dir}\n${site.url}\n`);
  await (options.until ?? new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  }));
  await site.close();
}

async function siteFolder(sweep: string, storeUrl: string): Promise<string> {
  const { openStore, localRoot } = await import('../store/open.ts');
  const root = localRoot(await openStore(storeUrl));
  if (!root) throw new UserError(`\`serve\` needs a folder store or --dir; ${storeUrl} is not a folder (use \`fitgrid report --out DIR\` first)`);
  return join(root, siteKey(sweep));
}

/** A static file server for one folder on 127.0.0.1; nothing outside the folder is reachable. */
export async function serveDir(dir: string, port = 0): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    const send = (code: number, text: string) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return send(400, 'bad request');
    }
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return send(403, 'forbidden');
    let target = file;
    let info = await stat(target).catch(() => undefined);
    if (info?.isDirectory()) {
      target = join(target, 'index.html');
      info = await stat(target).catch(() => undefined);
    }
    if (!info?.isFile()) return send(404, 'not found');
    res.writeHead(200, { 'content-type': contentTypeFor(target), 'content-length': info.size, 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') return res.end();
    createReadStream(target).pipe(res);
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok)).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? new UserError(`port ${port} on 127.0.0.1 is in use; pick another with --port`, {}, 1) : error;
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/index.html`,
    server,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
