import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_STORE } from '../store/open.ts';
import { UserError } from '../errors.ts';
import { siteKey } from '../store/keys.ts';
import { folderSource, serveSite, storeSource, type RunningSite, type SiteSource } from '../report/site-server.ts';
import { terminal, type Output } from './output.ts';

export interface ServeOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  sweep: string;
  store?: string;
  dir?: string;
  port?: number;
  /** Resolves to stop serving; default: Ctrl-C or SIGTERM. */
  until?: Promise<void>;
}

/**
 * `fitgrid serve`: serves a built report on 127.0.0.1, prints its URL and stays up until Ctrl-C.
 * From a folder store (or --dir) it serves the built site; from an S3 store the published one,
 * each file read from the bucket with the user's own AWS credentials as the browser asks for it.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const output = options.output ?? terminal;
  const { source, where } = await siteSource(options);
  const site = await serveSite(source, options.port ?? 0);
  output.print(`Serving ${where}\n${site.url}\n`);
  await (options.until ?? new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  }));
  await site.close();
}

async function siteSource(options: ServeOptions): Promise<{ source: SiteSource; where: string }> {
  const key = siteKey(options.sweep);
  const notBuilt = (where: string, how: string) => new UserError(`no built site in ${where} (index.html is missing); run \`fitgrid report ${options.sweep}${how}\` first`);
  if (options.dir) return { source: await localSite(resolve(options.dir), notBuilt), where: resolve(options.dir) };
  const { openStore, localRoot } = await import('../store/open.ts');
  const store = await openStore(options.store ?? DEFAULT_STORE);
  const root = localRoot(store);
  if (root) return { source: await localSite(join(root, key), notBuilt), where: join(root, key) };
  if (!(await store.exists(`${key}index.html`))) throw notBuilt(`${store.url}${key}`, ` --store ${store.url} --publish`);
  return { source: storeSource(store, key), where: `${store.url}${key}` };
}

async function localSite(dir: string, notBuilt: (where: string, how: string) => UserError): Promise<SiteSource> {
  if (!(await stat(join(dir, 'index.html')).catch(() => undefined))?.isFile()) throw notBuilt(dir, '');
  return folderSource(dir);
}

/** A static file server for one site folder on 127.0.0.1; nothing outside the folder is reachable. */
export async function serveDir(dir: string, port = 0): Promise<RunningSite> {
  return serveSite(await folderSource(dir), port);
}
