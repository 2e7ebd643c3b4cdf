import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildArgs } from './report-child.ts';
import { createS3rver } from './s3rver.ts';
import type { RenderFigures } from './render.ts';

export interface ReportBenchOptions {
  /** Synthetic trials to report on. */
  trials: number;
  /** Grid the trials come from (default grids/moons-scale.yaml). */
  grid?: string;
  /** Results to read back from a local S3-compatible server; 0 skips. */
  s3?: number;
  /** Only the summary (no site build): for the largest N. */
  summaryOnly?: boolean;
  /** An existing folder store to use (and keep); else a temporary one, deleted at the end. */
  store?: string;
  log?: (line: string) => void;
}

interface StepFigures {
  /** Wall seconds of the child process, start-up included. */
  wallSeconds: number;
  /** Seconds inside the step itself. */
  seconds: number;
  peakRssMB: number;
}

export interface ReportBench {
  trials: number;
  cells: number;
  grid: string;
  synthSeconds?: number;
  storedMB: number;
  summary: StepFigures & { summaryMB: number };
  /** The same again with the per-cell cache the first run left. */
  summaryCached?: StepFigures;
  site?: StepFigures & { siteMB: number; files: number; htmlFiles: number; largestPage: { file: string; MB: number } };
  /** Each page of the built site opened in headless Chromium (skipped, with the reason, without one). */
  render?: RenderFigures | { skipped: string };
  s3?: StepFigures & { results: number; perSecond: number };
}

const here = path.dirname(fileURLToPath(import.meta.url));
const defaultGrid = path.resolve(here, '../../grids/moons-scale.yaml');
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * `fitgrid bench --report N`: synthetic results for N trials in a folder store, then the report's
 * two steps (summary, site) each timed in a child process that reports its own peak RSS, then
 * (with `s3`) that many results written to an in-process S3-compatible server (s3rver) and read
 * back through the store's result reader by a child.
 */
export async function benchReport(options: ReportBenchOptions): Promise<ReportBench> {
  const log = options.log ?? (() => {});
  const grid = path.resolve(options.grid ?? defaultGrid);
  const { synthesize } = await import('./synth.ts');
  const { loadGrid } = await import('../grid/load.ts');
  const { manifestKey, summaryKey, sweepPrefix } = await import('../store/keys.ts');
  const { openStore } = await import('../store/open.ts');
  const sweep = (await loadGrid(grid)).name;
  const temporary = options.store ? undefined : await mkdtemp(path.join(tmpdir(), 'fitgrid-bench-report-'));
  const root = path.resolve(options.store ?? temporary!);
  try {
    const store = await openStore(root);
    let synthSeconds: number | undefined;
    if (!(await store.exists(manifestKey(sweep)))) {
      log(`writing ${options.trials} synthetic results to ${root}`);
      synthSeconds = (await synthesize({ grid, store: root, trials: options.trials, log })).seconds;
    }
    const manifest = JSON.parse(new TextDecoder().decode(await store.get(manifestKey(sweep))));
    const result: ReportBench = {
      trials: manifest.trials.length, cells: new Set(manifest.trials.map((t: { cellId: string }) => t.cellId)).size, grid,
      ...(synthSeconds !== undefined ? { synthSeconds } : {}),
      storedMB: mb(await folderBytes(path.join(root, 'trials'))),
      summary: { wallSeconds: 0, seconds: 0, peakRssMB: 0, summaryMB: 0 },
    };
    // the first summary starts cold (no per-cell cache from an earlier run); the second is what a
    // report after a few new trials costs at most: every cell comes from the cache
    await rm(path.join(root, ...`${sweepPrefix(sweep)}cache`.split('/')), { recursive: true, force: true });
    log('building summary.json');
    const summary = await child({ step: 'summary', store: root, sweep });
    result.summary = { ...summary, summaryMB: mb((await stat(path.join(root, summaryKey(sweep)))).size) };
    log('building summary.json again, from the per-cell cache');
    result.summaryCached = await child({ step: 'summary', store: root, sweep });
    if (!options.summaryOnly) {
      log('building the site');
      const out = path.join(root, 'bench-site');
      await rm(out, { recursive: true, force: true });
      const site = await child({ step: 'site', store: root, sweep, out });
      const files = await listFiles(out);
      const html = files.filter((f) => f.file.endsWith('.html'));
      const largest = html.reduce((a, b) => (b.bytes > a.bytes ? b : a), { file: '', bytes: 0 });
      result.site = {
        ...site, siteMB: mb(files.reduce((n, f) => n + f.bytes, 0)), files: files.length, htmlFiles: html.length,
        largestPage: { file: path.relative(out, largest.file), MB: mb(largest.bytes) },
      };
      log('opening its pages in headless Chromium');
      const { measureRender } = await import('./render.ts');
      result.render = await measureRender(out);
    }
    if (options.s3) result.s3 = await s3Read(grid, options.s3, log);
    return result;
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}

/** Runs one step in a child process and returns its figures with the wall time seen from here. */
async function child(args: ChildArgs, env: NodeJS.ProcessEnv = process.env): Promise<StepFigures & Record<string, number>> {
  const started = performance.now();
  const script = path.join(here, 'report-child.ts');
  const proc = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  const wallSeconds = (performance.now() - started) / 1000;
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`bench step ${args.step} failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  const { maxRssKB, ...figures } = JSON.parse(line) as Record<string, number>;
  return { ...figures, seconds: round(figures.seconds), wallSeconds: round(wallSeconds), peakRssMB: Math.round(maxRssKB / 1024) };
}

/** Writes `count` synthetic results to s3rver (started here, on 127.0.0.1) and times a child reading them back. */
async function s3Read(grid: string, count: number, log: (line: string) => void): Promise<StepFigures & { results: number; perSecond: number }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'fitgrid-bench-s3-'));
  const bucket = 'fitgrid-bench';
  const server = await createS3rver({ directory, bucket });
  const { port } = await server.run();
  const env = {
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1',
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const url = `s3://${bucket}/bench`;
    log(`writing ${count} synthetic results to s3rver (${url})`);
    const { synthesize } = await import('./synth.ts');
    const { loadGrid } = await import('../grid/load.ts');
    await synthesize({ grid, store: url, trials: count, log });
    log(`reading them back`);
    const figures = await child({ step: 'read', store: url, sweep: (await loadGrid(grid)).name }, { ...process.env });
    return { ...figures, results: figures.results, perSecond: Math.round(figures.results / figures.seconds) };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await server.close();
    await rm(directory, { recursive: true, force: true });
  }
}

async function folderBytes(dir: string): Promise<number> {
  return (await listFiles(dir)).reduce((n, f) => n + f.bytes, 0);
}

async function listFiles(dir: string): Promise<{ file: string; bytes: number }[]> {
  const out: { file: string; bytes: number }[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    out.push({ file, bytes: (await stat(file)).size });
  }
  return out;
}

const round = (x: number) => Math.round(x * 100) / 100;

export function formatReportBench(r: ReportBench): string {
  const step = (s: StepFigures) => `${s.wallSeconds.toFixed(1)} s wall (${s.seconds.toFixed(1)} s in the step), peak RSS ${s.peakRssMB} MB`;
  const lines = [
    `report path, ${r.trials} synthetic trials in ${r.cells} cells (${path.basename(r.grid)}); results stored: ${r.storedMB} MB` +
      (r.synthSeconds !== undefined ? `, written in ${r.synthSeconds.toFixed(1)} s` : ''),
    `  summary: ${step(r.summary)}; summary.json ${r.summary.summaryMB} MB`,
  ];
  if (r.summaryCached) lines.push(`  summary again (per-cell cache): ${step(r.summaryCached)}`);
  if (r.site) {
    lines.push(`  site:    ${step(r.site)}; ${r.site.siteMB} MB in ${r.site.files} files (${r.site.htmlFiles} HTML), largest page ${r.site.largestPage.file} ${r.site.largestPage.MB} MB`);
    lines.push(`  report (summary + site): ${(r.summary.wallSeconds + r.site.wallSeconds).toFixed(1)} s wall, peak RSS ${Math.max(r.summary.peakRssMB, r.site.peakRssMB)} MB`);
  }
  if (r.render && 'skipped' in r.render) lines.push(`  render: skipped (${r.render.skipped})`);
  else if (r.render) {
    lines.push(`  render in headless Chromium from file:// (slowest of ${r.render.runs}; load event / charts drawn):`);
    for (const p of r.render.pages) lines.push(`    ${p.page.padEnd(24)} ${(p.loadMs / 1000).toFixed(2)} s / ${(p.readyMs / 1000).toFixed(2)} s`);
  }
  if (r.s3) lines.push(`  S3 read (s3rver on 127.0.0.1, 16 at a time): ${r.s3.results} results, ${step(r.s3)}; ${r.s3.perSecond} results/s`);
  return `${lines.join('\n')}\n`;
}
