import { cp, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropStaging, makeStaging } from './site-staging.ts';
import { writeCellPages } from './cell-pages.ts';
import { loadSummary, provideSummary, releaseSummary } from '../../site/src/lib/summary.ts';
import type { SweepSummary } from '../records/summary.ts';

/** The Astro project that renders a summary.json. */
export const siteRoot = fileURLToPath(new URL('../../site/', import.meta.url));
const projectRoot = resolve(siteRoot, '..');

/**
 * Compiles a summary (a summary.json path or the object) into a static site in `outDir` and
 * returns the path of its index.html. Every build gets its own cache folder and its own
 * summary key (a vite `define`), so two builds can run at once in one process (two builds of one
 * summary.json share its parsed object).
 */
export async function buildSite(summary: string | SweepSummary, outDir: string): Promise<string> {
  process.env.ASTRO_TELEMETRY_DISABLED = '1';
  const out = resolve(outDir);
  // Astro writes into its root (.astro/) and, for a static build, server chunks that import
  // packages by name: every build works on its own copy of the site project inside the project
  // folder (where node_modules resolves those imports), so concurrent builds, in one process or
  // several, never share a file. The result is then copied where asked.
  const staging = await makeStaging(projectRoot);
  // the pages and the cell-page writer share one parsed summary: the object given, or the file's,
  // parsed when the first page asks (after Astro has bundled the pages, so that the two peaks of
  // memory do not add up)
  const key = typeof summary === 'string' ? resolve(summary) : join(staging, 'summary.json');
  try {
    if (typeof summary !== 'string') provideSummary(key, summary);
    const root = join(staging, 'site');
    await cp(siteRoot, root, { recursive: true, filter: (src) => !/(^|[\\/])(\.astro|dist|node_modules)$/.test(relative(siteRoot, src)) });
    // the one runner module the pages run (decoding summary.json's typed arrays), at the same relative path
    for (const file of SITE_RUNNER_MODULES) await cp(join(projectRoot, file), join(staging, file));
    const target = join(staging, 'out');
    const { build } = await import('astro');
    await inProjectCwd(() => build({
      root,
      outDir: target,
      cacheDir: join(staging, 'cache'),
      output: 'static',
      logLevel: 'error',
      devToolbar: { enabled: false },
      build: { format: 'file', inlineStylesheets: 'always' },
      vite: {
        cacheDir: join(staging, 'vite'),
        logLevel: 'error',
        define: { __FITGRID_SUMMARY__: JSON.stringify(key) },
        build: { assetsInlineLimit: 100_000 },
      },
    }));
    await relativizeUrls(target);
    await mkdir(out, { recursive: true });
    await cp(target, out, { recursive: true, force: true });
    await writeCellPages(loadSummary(key), out);
    return join(out, 'index.html');
  } finally {
    releaseSummary(key);
    // Astro's content store saves its cache 500 ms after the build (a debounced timer nobody
    // awaits); removing the folder under it would fail that write as an unhandled rejection.
    await new Promise((done) => setTimeout(done, ASTRO_SAVE_DEBOUNCE_MS + 200));
    await dropStaging(staging);
  }
}

/** Runner modules that site pages import at run time (not only their types). */
const SITE_RUNNER_MODULES = ['runner/records/typed-array.ts'];

/** astro/dist/content/mutable-data-store.js: SAVE_DEBOUNCE_MS. */
const ASTRO_SAVE_DEBOUNCE_MS = 500;

let builds = 0;
let callerCwd = '';

/**
 * Astro places its server chunks by the working directory (in <cwd>/.astro/ when outDir lies
 * outside it): a report run from any folder must build with the project as its working directory. Concurrent builds share the change; the last one
 * to finish restores the caller's directory.
 */
async function inProjectCwd<T>(work: () => Promise<T>): Promise<T> {
  if (builds++ === 0) {
    callerCwd = process.cwd();
    process.chdir(projectRoot);
  }
  try {
    return await work();
  } finally {
    if (--builds === 0) process.chdir(callerCwd);
  }
}

/**
 * Astro writes root-absolute URLs (`/_astro/…`); they break under an S3 prefix and from disk.
 * Rewrites every root-absolute href/src/url() in the built HTML and CSS relative to its file.
 */
export async function relativizeUrls(outDir: string): Promise<void> {
  for (const file of await walk(outDir)) {
    if (!/\.(html|css)$/.test(file)) continue;
    const depth = relative(outDir, dirname(file)).split(sep).filter(Boolean).length;
    const up = depth ? '../'.repeat(depth) : './';
    const text = await readFile(file, 'utf8');
    const fixed = text
      .replace(/\b(href|src|action)=(["'])\/(?!\/)/g, (_, attr, q) => `${attr}=${q}${up}`)
      .replace(/url\((["']?)\/(?!\/)/g, (_, q) => `url(${q}${up}`);
    if (fixed !== text) await writeFile(file, fixed);
  }
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])));
  return nested.flat();
}
