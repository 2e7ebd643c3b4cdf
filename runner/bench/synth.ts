import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import type { TrialStatus } from '../records/result.ts';
import type { SyntheticRates } from './synthetic.ts';

export interface SynthOptions {
  grid: string;
  store: string;
  /** About this many trials: whole seeds over every cell, the last seed cut short. */
  trials?: number;
  /** This many seeds (0, 1, …) instead of the grid's. */
  seeds?: number;
  failed?: number;
  diverged?: number;
  /** Threads that make and write results (default: threadCount(), one per core). */
  threads?: number;
  /** Progress lines, every two seconds or so. */
  log?: (line: string) => void;
}

export interface SynthSummary {
  sweep: string;
  store: string;
  trials: number;
  cells: number;
  statuses: Record<TrialStatus, number>;
  seconds: number;
}

/**
 * `fitgrid synth`: writes a grid's manifest and a synthetic result for each of its trials (no
 * training; see bench/synthetic.ts), encoded as the worker encodes them, on one thread per core
 * (bench/synth-writer.ts). They are written atomically but not fsynced: they can be made again.
 * The store is
 * marked as synthetic; a store that already holds trained results is refused, since trial ids
 * are content addresses and a later `fitgrid run` would take these results for trained ones.
 */
export async function synthesize(options: SynthOptions): Promise<SynthSummary> {
  const started = Date.now();
  const rates: SyntheticRates = { failed: options.failed ?? 0.01, diverged: options.diverged ?? 0.005 };
  if (rates.failed + rates.diverged > 1) throw new UserError(`Expected \`--failed\` + \`--diverged\` to be at most 1, got ${rates.failed + rates.diverged}`);
  const log = options.log;
  const [{ openStore }, { loadGrid }, { planPacks, defaultPackSize, buildManifest }, { readDataFiles }, { writeManifest }, synthetic, keys, { writeSynthetic }, { threadCount }] =
    await Promise.all([
      import('../store/open.ts'), import('../grid/load.ts'), import('../grid/plan.ts'), import('../grid/data-files.ts'),
      import('../store/manifest.ts'), import('./synthetic.ts'), import('../store/keys.ts'),
      import('./synth-writer.ts'), import('../train/fused/pool.ts'),
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

  let lastLog = Date.now();
  const statuses = await writeSynthetic(trials, { store: store.url, sweep: grid.name, rates, baseDir: path.dirname(grid.file), dataFiles }, options.threads ?? threadCount(), (done) => {
    if (log && Date.now() - lastLog > 2000) {
      lastLog = Date.now();
      log(`synthetic results ${done}/${trials.length}`);
    }
  });
  const summary: SynthSummary = {
    sweep: grid.name, store: store.url, trials: trials.length, cells: new Set(trials.map((t) => t.cellId)).size,
    statuses, seconds: (Date.now() - started) / 1000,
  };
  return summary;
}
