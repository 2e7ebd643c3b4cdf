import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { firstLine } from '../errors.ts';

/**
 * A headless Chromium for whatever drives the report in a browser (its tests, the render
 * benchmark), so that a fresh machine needs nothing but Node: `FITGRID_CHROMIUM`, then a system
 * Chromium or Chrome, then the Chromium build that the devDependency `@sparticuz/chromium` ships
 * inside its npm tarball (Linux x64/arm64). `FITGRID_TEST_BROWSERS` (a comma list of `env`,
 * `system`, `bundled`) narrows the search, so the fallbacks can be tried on a machine that has a
 * system browser. playwright-core is a development dependency, imported only here.
 */

type Source = 'env' | 'system' | 'bundled';
interface Candidate { source: string; executablePath: string; args: string[]; env?: Record<string, string> }

const COMMON_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

const SYSTEM_BROWSERS = [
  '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome', '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

// Flags meant for serverless sandboxes: two switch off what the tests check (same-origin rules), and
// in one process a closed page takes the whole browser with it.
const UNWANTED_BUNDLED_ARGS = new Set(['--disable-web-security', '--allow-running-insecure-content', '--single-process']);

function sources(env: NodeJS.ProcessEnv): Set<Source> {
  const raw = env.FITGRID_TEST_BROWSERS;
  return new Set((raw === undefined ? 'env,system,bundled' : raw).split(',').map((s) => s.trim()).filter(Boolean) as Source[]);
}

/**
 * Unpacks @sparticuz/chromium's brotli archives once per version into the temp folder. Test
 * files run in parallel processes: each unpacks into a folder of its own and renames it into
 * place, so none ever launches a half-written binary.
 */
async function bundledChromium(): Promise<Candidate | undefined> {
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) return undefined;
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@sparticuz/chromium');
  const packageDir = dirname(dirname(entry));
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const home = join(tmpdir(), `fitgrid-chromium-${version}-${process.arch}`);
  if (!existsSync(join(home, 'chromium'))) {
    const { default: Chromium, inflate } = await import('@sparticuz/chromium');
    const staging = await mkdtemp(join(tmpdir(), 'fitgrid-chromium-unpack-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = staging;
    let unpacked: Promise<unknown>;
    try {
      // Both calls pick their output folder from TMPDIR synchronously, before their first await.
      unpacked = Promise.all([Chromium.executablePath(), inflate(join(packageDir, 'bin', 'al2023.tar.br'))]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    try {
      await unpacked;
      await rename(staging, home);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(join(home, 'chromium'))) throw error;
    }
  }
  const { default: Chromium } = await import('@sparticuz/chromium');
  // The NSS libraries the build links against ship beside it (for Amazon Linux); with them any glibc Linux runs it.
  const libs = join(home, 'al2023', 'lib');
  return {
    source: `@sparticuz/chromium ${version}`,
    executablePath: join(home, 'chromium'),
    args: Chromium.args.filter((a) => !UNWANTED_BUNDLED_ARGS.has(a)),
    env: { LD_LIBRARY_PATH: [libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
  };
}

async function launch(c: Candidate): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: c.executablePath, args: c.args, ...(c.env ? { env: { ...process.env, ...c.env } } : {}) });
}

export interface FoundBrowser {
  browser: Browser;
  /** Where the browser came from, e.g. `/usr/bin/chromium` or `@sparticuz/chromium 153.0.0`. */
  source: string;
}

/**
 * Launches the first browser that runs, or says why none did. An explicit FITGRID_CHROMIUM that
 * does not launch throws: the caller asked for that one.
 */
export async function findBrowser(env: NodeJS.ProcessEnv = process.env): Promise<FoundBrowser | { why: string }> {
  const from = sources(env);
  const tried: string[] = [];
  if (from.has('env') && env.FITGRID_CHROMIUM) {
    const path = env.FITGRID_CHROMIUM;
    try {
      return { browser: await launch({ source: path, executablePath: path, args: COMMON_ARGS }), source: path };
    } catch (error) {
      throw new Error(`FITGRID_CHROMIUM=${path} does not launch: ${firstLine(error)}`);
    }
  }
  if (from.has('system')) {
    for (const path of SYSTEM_BROWSERS.filter((p) => existsSync(p))) {
      try {
        return { browser: await launch({ source: path, executablePath: path, args: COMMON_ARGS }), source: path };
      } catch (error) {
        tried.push(`${path}: ${firstLine(error)}`);
      }
    }
  }
  if (from.has('bundled')) {
    try {
      const bundled = await bundledChromium();
      if (bundled) return { browser: await launch(bundled), source: bundled.source };
      tried.push(`@sparticuz/chromium: no build for ${process.platform}-${process.arch}`);
    } catch (error) {
      tried.push(`@sparticuz/chromium: ${firstLine(error)}`);
    }
  }
  return { why: `no browser could be launched${tried.length ? ` (${tried.join('; ')})` : ` (searched: ${[...from].join(', ') || 'nothing'})`}` };
}
