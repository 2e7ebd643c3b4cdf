import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_STORE } from '../store/open.ts';
import { siteKey } from '../store/keys.ts';
import type { SweepSummary } from '../records/summary.ts';
import { terminal, type Output } from './output.ts';

export interface ReportOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  sweep: string;
  store?: string;
  out?: string;
  /** true: upload to the sweep's site/ prefix in the store; a string: to that s3://bucket/prefix. */
  publish?: boolean | string;
}

export interface ReportResult {
  summary: SweepSummary;
  /** Path of the built index.html (deleted after publishing from a temporary folder: S3 stores without --out). */
  index: string;
  /** Where the site was uploaded, when published. */
  url?: string;
}

const MAX_NAMED = 10;

/**
 * `fitgrid report`: writes summary.json into the store, compiles the site and prints the path of
 * its index.html (or, when published, its URL) as the last line.
 */
export async function report(options: ReportOptions): Promise<ReportResult> {
  const output = options.output ?? terminal;
  const { openStore, localRoot } = await import('../store/open.ts');
  const { writeSummary } = await import('../analysis/summary.ts');
  const { buildSite } = await import('../report/site-build.ts');
  const store = await openStore(options.store ?? DEFAULT_STORE);
  let named = 0;
  const summary = await writeSummary(store, options.sweep, {
    onUnreadable: (key, reason) => {
      // one line each for the first few; the overview names up to fifty and counts them all
      if (named++ < MAX_NAMED) output.note(`skipped ${key}: ${reason}\n`);
    },
  });
  if (named > MAX_NAMED) output.note(`skipped ${named - MAX_NAMED} more unreadable results\n`);
  const root = localRoot(store);
  // An S3 store has no folder to build next to: a temporary one holds the site until it is uploaded.
  const temporary = !options.out && !root;
  const out = options.out ? resolve(options.out) : root ? join(root, siteKey(options.sweep)) : await mkdtemp(join(tmpdir(), `fitgrid-${options.sweep}-site-`));
  const index = await buildSite(summary, out);
  const result: ReportResult = { summary, index };
  if (options.publish) {
    const { publishDir } = await import('../store/sync.ts');
    const target = typeof options.publish === 'string' ? await openStore(options.publish) : store;
    const prefix = typeof options.publish === 'string' ? '' : siteKey(options.sweep);
    await publishDir(out, target, prefix);
    result.url = `${target.url.replace(/\/$/, '')}/${prefix}index.html`;
    // once uploaded, a temporary copy is only clutter; without --publish it is the only copy
    if (temporary) await rm(out, { recursive: true, force: true });
  }
  output.print(`${reportedLine(summary)}\n`);
  output.print(`${result.url ?? index}\n`);
  return result;
}

/** `N of M trials in C cells reported`, and why any are missing. */
export function reportedLine(summary: Pick<SweepSummary, 'counts' | 'unreadable'>): string {
  const { ok, trials, cells, missing } = summary.counts;
  const unreadable = summary.unreadable?.count ?? 0;
  // an unreadable result blocks its trial (a run skips what is stored): only deleting it trains it again
  const why = [
    missing > unreadable ? `${missing - unreadable} not stored yet: still training? report again later` : '',
    unreadable ? `${unreadable} unreadable, named above: delete them and run the sweep again to train them anew` : '',
  ].filter(Boolean).join('; ');
  return `${ok} of ${trials} trials in ${cells} cells reported${missing ? ` (${missing} missing: ${why})` : ''}`;
}
