import { cp, mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SweepSummary } from './types.ts';

/** The Astro project that renders a summary.json. */
export const siteRoot = fileURLToPath(new URL('../../site/', import.meta.url));
const projectRoot = resolve(siteRoot, '..');

/**
 * Compiles a summary (a summary.json path or the object) into a static site in `outDir` and
 * returns the path of its index.html. Every build gets its own cache folder and its own
 * summary path (a vite `define`), so two builds can run at once in one process.
 */
export async function buildSite(summary: string | SweepSummary, outDir: string): Promise<string> {
  process.env.ASTRO_TELEMETRY_DISABLED = '1';
  const out = resolve(outDir);
  const scratch = await mkdtemp(join(tmpdir(), 'fitgrid-site-'));
  let staging: string | undefined;
  try {
    let summaryPath = typeof summary === 'string' ? resolve(summary) : join(scratch, 'summary.json');
    if (typeof summary !== 'string') await writeFile(summaryPath, JSON.stringify(summary));
    // Astro's build writes server chunks that import packages by name, so it must build
    // inside the project (where node_modules resolves them), each build in a folder of its own
    // so that concurrent builds never share one; the result is then copied where asked.
    const inProject = out.startsWith(projectRoot + sep);
    const target = inProject ? out : await mkdtemp(join(projectRoot, '.fitgrid-site-'));
    if (!inProject) staging = target;
    await mkdir(target, { recursive: true });
    const { build } = await import('astro');
    await inProjectCwd(() => build({
      root: siteRoot,
      outDir: target,
      cacheDir: join(scratch, 'cache'),
      output: 'static',
      logLevel: 'error',
      devToolbar: { enabled: false },
      build: { format: 'file', inlineStylesheets: 'always' },
      vite: {
        cacheDir: join(scratch, 'vite'),
        logLevel: 'error',
        define: { __FITGRID_SUMMARY__: JSON.stringify(summaryPath) },
        build: { assetsInlineLimit: 100_000 },
      },
    }));
    await relativizeUrls(target);
    if (!inProject) {
      await mkdir(out, { recursive: true });
      await cp(target, out, { recursive: true, force: true });
    }
    return join(out, 'index.html');
  } finally {
    await rm(scratch, { recursive: true, force: true });
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}

let builds = 0;
let callerCwd = '';

/**
 * Astro places its server chunks by the working directory (in <cwd>/.astro/ when outDir lies
 * outside it), and those chunks import packages by name: a report run from any folder must build
 * with the project as its working directory. Concurrent builds share the change; the last one
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
