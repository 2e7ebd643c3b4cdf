import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { UserError } from '../errors.ts';
import type { Trial } from '../records/config.ts';
import type { TrialStatus } from '../records/result.ts';
import type { SyntheticData, SyntheticRates } from '../bench/synthetic.ts';

export interface SynthOptions {
  grid: string;
  store: string;
  /** About this many trials: whole seeds over every cell, the last seed cut short. */
  trials?: number;
  /** This many seeds (0, 1, …) instead of the grid's. */
  seeds?: number;
  failed?: number;
  diverged?: number;
  /** Results written at once. */
  concurrency?: number;
  /** Progress lines (stderr by default); null for none. */
  log?: ((line: string) => void) | null;
  /** No summary line on stdout (when another command reports). */
  quiet?: boolean;
}

export interface SynthSummary {
  sweep: string;
  store: string;
  trials: number;
  cells: number;
  statuses: Record<TrialStatus, number>;
  seconds: number;
}

/** Results are generated this many at a time, so memory holds one batch whatever the sweep's size. */
const batch = 64;

/**
 * `fitgrid synth`: writes a grid's manifest and a synthetic result for each of its trials (no
 * training; see exec/synthetic.ts) through the same result writer as the worker. The store is
 * marked as synthetic; a store that already holds trained results is refused, since trial ids
 * are content addresses and a later `fitgrid run` would take these results for trained ones.
 */
export async function synth(options: SynthOptions): Promise<SynthSummary> {
  const started = Date.now();
  const rates: SyntheticRates = { failed: options.failed ?? 0.01, diverged: options.diverged ?? 0.005 };
  if (rates.failed + rates.diverged > 1) throw new UserError(`Expected \`--failed\` + \`--diverged\` to be at most 1, got ${rates.failed + rates.diverged}`);
  const log = options.log === undefined ? (line: string) => process.stderr.write(`${line}\n`) : options.log;
  const [{ openStore }, { loadGrid }, { planPacks, defaultPackSize, buildManifest }, { readDataFiles }, { loadDataset }, { writeManifest }, synthetic, keys, { putTrialResult }] =
    await Promise.all([
      import('../store/open.ts'), import('../grid/load.ts'), import('../grid/plan.ts'), import('../grid/data-files.ts'),
      import('../data/load.ts'), import('../store/manifest.ts'), import('../bench/synthetic.ts'), import('../store/keys.ts'),
      import('../store/results.ts'),
    ]);
  const store = await openStore(options.store);
  const loaded = await loadGrid(options.grid);
  const { grid, trials } = synthetic.syntheticTrials(loaded, options);

  if (!(await store.exists(keys.syntheticMarkerKey)) && (await store.list(keys.trialsPrefix)).length > 0) {
    throw new UserError(`${store.url} already holds trained results; synthetic ones would pass for them: use an empty store`);
  }
  await store.put(keys.syntheticMarkerKey, JSON.stringify({ note: 'results in this store were made by `fitgrid synth`, not trained', sweep: grid.name }));

  const source = await readFile(grid.file, 'utf8');
  const note = `\n# fitgrid synth: ${trials.length} synthetic results (not trained), seeds ${JSON.stringify(grid.seeds)}\n`;
  const dataFiles = await readDataFiles(grid, trials);
  const packs = planPacks(trials, { packSize: defaultPackSize(trials.length) });
  await writeManifest(store, buildManifest(grid, source + note, trials, packs, dataFiles));

  const datasets = new Map<string, SyntheticData>();
  const dataFor = async (trial: Trial) => {
    const key = JSON.stringify(trial.config.data);
    let d = datasets.get(key);
    if (!d) {
      d = synthetic.syntheticData(await loadDataset(trial.config.data, { baseDir: path.dirname(grid.file), dataFiles }));
      datasets.set(key, d);
    }
    return d;
  };

  const statuses: Record<TrialStatus, number> = { ok: 0, diverged: 0, failed: 0 };
  const limit = pLimit(options.concurrency ?? 16);
  let lastLog = Date.now();
  for (let i = 0; i < trials.length; i += batch) {
    const results = [];
    for (const trial of trials.slice(i, i + batch)) {
      const result = synthetic.syntheticResult(trial, await dataFor(trial), { sweep: grid.name, rates });
      statuses[result.status] += 1;
      results.push(result);
    }
    await Promise.all(results.map((r) => limit(() => putTrialResult(store, r))));
    if (log && Date.now() - lastLog > 2000) {
      lastLog = Date.now();
      log(`synthetic results ${Math.min(i + batch, trials.length)}/${trials.length}`);
    }
  }
  const summary: SynthSummary = {
    sweep: grid.name, store: store.url, trials: trials.length, cells: new Set(trials.map((t) => t.cellId)).size,
    statuses, seconds: (Date.now() - started) / 1000,
  };
  if (!options.quiet) process.stdout.write(
    `sweep "${summary.sweep}": ${summary.trials} synthetic results in ${summary.cells} cells ` +
      `(${statuses.ok} ok, ${statuses.failed} failed, ${statuses.diverged} diverged) written to ${summary.store} in ${summary.seconds.toFixed(1)} s\n`,
  );
  return summary;
}
