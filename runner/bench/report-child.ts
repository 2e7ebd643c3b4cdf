/**
 * One step of the report path in a process of its own, so that its peak memory is its own:
 * `node --import tsx report-child.ts '<json args>'`. Prints one JSON line:
 * `{ "seconds": inside the step, "maxRssKB": this process's peak resident set, … }`.
 *
 * - `summary`: builds summary.json from the store (what `fitgrid report` does first);
 * - `site`: compiles the site from that summary.json into `out`;
 * - `read`: reads every result of the sweep through the store's result reader, 16 at a time.
 */
import pLimit from 'p-limit';

export interface ChildArgs {
  step: 'summary' | 'site' | 'read';
  store: string;
  sweep: string;
  out?: string;
}

async function runStep(args: ChildArgs): Promise<Record<string, number>> {
  const { openStore } = await import('../store/open.ts');
  const store = await openStore(args.store);
  const started = performance.now();
  const extra: Record<string, number> = {};
  if (args.step === 'summary') {
    const { writeSummary } = await import('../analysis/summary.ts');
    await writeSummary(store, args.sweep);
  } else if (args.step === 'site') {
    const { localRoot } = await import('../store/open.ts');
    const { summaryKey } = await import('../store/keys.ts');
    const { buildSite } = await import('../report/site-build.ts');
    const { join } = await import('node:path');
    await buildSite(join(localRoot(store)!, summaryKey(args.sweep)), args.out!);
  } else {
    const { readManifest } = await import('../store/manifest.ts');
    const { getTrialResult } = await import('../store/results.ts');
    const manifest = await readManifest(store, args.sweep);
    const limit = pLimit(16);
    let read = 0;
    await Promise.all(manifest.trials.map((t) => limit(async () => {
      if (await getTrialResult(store, t.trialId)) read += 1;
    })));
    extra.results = read;
  }
  return { seconds: (performance.now() - started) / 1000, maxRssKB: process.resourceUsage().maxRSS, ...extra };
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
runStep(args).then(
  (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
  (error) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
