import { cp, mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SweepSummary } from './types.ts';

/** The Astro project that renders a summary.json. */
export const siteRoot = fileURLToPath(new URL('../../site/', import.meta.url));

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
    // Astro puts its server chunks in <cwd>/.astro/ when outDir is outside the working directory,
    // a folder every concurrent build would share: build inside the cwd, in a folder of our own.
    const inCwd = out.startsWith(process.cwd() + sep);
    const target = inCwd ? out : await mkdtemp(join(process.cwd(), '.fitgrid-site-'));
    if (!inCwd) staging = target;
    await mkdir(target, { recursive: true });
    const { build } = await import('astro');
    await build({
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
    });
    await relativizeUrls(target);
    if (!inCwd) {
      await mkdir(out, { recursive: true });
      await cp(target, out, { recursive: true, force: true });
    }
    return join(out, 'index.html');
  } finally {
    await rm(scratch, { recursive: true, force: true });
    if (staging) await rm(staging, { recursive: true, force: true });
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
