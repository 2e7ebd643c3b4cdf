import { dirname } from 'node:path';
import type { EngineChoice, Trial } from '../records/config.ts';
import type { Manifest } from '../records/manifest.ts';
import type { DataSpec } from '../records/config.ts';
import type { Dataset } from '../data/types.ts';
import type { TrainOptions, TrainPack } from '../train/engine.ts';
import { RESULT_FORMAT, type TrialResult } from '../records/result.ts';
import { failedResult } from '../train/result.ts';
import { chooseEngine } from '../train/train-pack.ts';
import { backendNameHint } from '../train/backend.ts';
import type { Store } from '../store/store.ts';
import { packListKey, packLogKey, trialKey } from '../store/keys.ts';
import { encodeTrialResult } from '../records/result-codec.ts';
import { firstLine, NonRetriableError, UserError } from '../errors.ts';
import type { WorkerEvent } from '../records/events.ts';
import { readManifest } from '../store/manifest.ts';

type LoadDataset = (spec: DataSpec, options: {
  baseDir: string; dataFiles: Record<string, string>; storedData?: (sha256: string) => Promise<Uint8Array | undefined>;
}) => Promise<Dataset>;

export interface WorkerOptions {
  store: Store;
  sweep: string;
  /** Explicit pack index; else the Batch array index (+ FITGRID_PACK_OFFSET), else 0. */
  pack?: number;
  engine?: EngineChoice;
  env?: Record<string, string | undefined>;
  emit?: (event: WorkerEvent) => void;
  /** Seconds between rewrites of the pack log while training (it is always written at the end). */
  logInterval?: number;
  /** For tests; by default the real data loader and trainer are imported lazily. */
  loadDataset?: LoadDataset;
  trainPack?: TrainPack;
}

export interface WorkerSummary {
  pack: number;
  trained: number;
  skipped: number;
  failed: number;
}

const envInt = (env: Record<string, string | undefined>, name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`Expected \`${name}\` to be an integer from 0 and up, got ${raw}`);
  return n;
};

/**
 * The pack this worker trains: --pack as given; else the array index plus FITGRID_PACK_OFFSET,
 * looked up in the launch's pack list when FITGRID_PACK_LIST names one (a re-launch of only the
 * missing packs), else taken as the pack index itself.
 */
async function resolvePack(store: Store, sweep: string, manifest: Manifest, pack: number | undefined, env: Record<string, string | undefined>): Promise<number> {
  if (!Array.isArray(manifest.packs) || !Array.isArray(manifest.trials)) throw brokenManifest(sweep, 'no `packs` or `trials` list');
  const count = manifest.packs.length;
  let index = pack;
  if (index === undefined) {
    const position = (envInt(env, 'AWS_BATCH_JOB_ARRAY_INDEX') ?? 0) + (envInt(env, 'FITGRID_PACK_OFFSET') ?? 0);
    const list = env.FITGRID_PACK_LIST;
    if (list) {
      const bytes = await store.get(packListKey(sweep, list));
      if (!bytes) throw new UserError(`pack list ${packListKey(sweep, list)} is missing from ${store.url}`);
      const packs = (JSON.parse(new TextDecoder().decode(bytes)) as { packs: number[] }).packs;
      if (position >= packs.length) throw new UserError(`array index ${position} is past the launch's ${packs.length} packs`, { field: 'AWS_BATCH_JOB_ARRAY_INDEX' });
      index = packs[position];
    } else index = position;
  }
  if (index >= count) {
    throw new UserError(`Expected \`pack\` to be an integer from 0 to ${count - 1} (sweep "${sweep}" has ${count} pack${count === 1 ? '' : 's'}), got ${index}`, { field: 'pack' });
  }
  return index;
}

/** A manifest written by hand or damaged: a user mistake that no retry can fix. */
const brokenManifest = (sweep: string, why: string) =>
  new UserError(`the manifest of sweep "${sweep}" is broken (${why}); write it again with \`fitgrid run\` or \`fitgrid launch\``);

/** The trials of one pack; every id it names must be in the manifest's trials. */
function packTrials(manifest: Manifest, sweep: string, pack: number): Trial[] {
  const broken = (why: string) => brokenManifest(sweep, why);
  const ids = manifest.packs[pack]?.trialIds;
  if (!Array.isArray(ids)) throw broken(`pack ${pack} has no \`trialIds\` list`);
  const byId = new Map(manifest.trials.map((t) => [t?.trialId, t]));
  return ids.map((id) => {
    const trial = byId.get(id);
    if (!trial?.config) throw broken(`pack ${pack} names trial ${JSON.stringify(id)}, which its \`trials\` list lacks`);
    return trial;
  });
}

/** Lines of earlier attempts kept in a pack log, so retries do not grow it without bound. */
const MAX_LOG_LINES = 2000;

/**
 * Keeps the pack log: what earlier attempts wrote (a Batch retry shows why the last one
 * failed), then every event of this one except progress, of which only the latest.
 */
class PackLog {
  private lines: string[] = [];
  private progress: string | undefined;
  private writing: Promise<void> = Promise.resolve();
  constructor(private store: Store, private key: string) {}
  async load() {
    const old = await this.store.get(this.key);
    if (old) this.lines = new TextDecoder().decode(old).split('\n').filter(Boolean).slice(-MAX_LOG_LINES);
  }
  add(event: WorkerEvent) {
    const line = JSON.stringify({ time: new Date().toISOString(), ...event });
    if (event.event === 'progress') this.progress = line;
    else this.lines.push(line);
  }
  /** Rewrites the whole file (S3 cannot append); writes never overlap. */
  flush(): Promise<void> {
    const body = [...this.lines, ...(this.progress ? [this.progress] : [])].join('\n') + '\n';
    this.writing = this.writing.catch(() => {}).then(() => this.store.put(this.key, body, { contentType: 'application/x-ndjson' }));
    return this.writing;
  }
}

/**
 * Trains one pack of a sweep into the store: the same function runs under `fitgrid run` (a child
 * process per pack) and in an AWS Batch child. Stored trials are skipped, each finished trial is
 * written at once (ifAbsent, so a retry never rewrites one), and trial failures are results.
 * Throws only for user mistakes (UserError, exit 2) and infrastructure failures (anything else,
 * an unreachable store included), after noting the error in the pack log when it can.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const { store, sweep, env = process.env, emit = () => {} } = options;
  const manifest = await readManifest(store, sweep, RESULT_FORMAT);
  const pack = await resolvePack(store, sweep, manifest, options.pack, env);
  const log = new PackLog(store, packLogKey(sweep, pack));
  await log.load();
  const report = (event: WorkerEvent) => {
    log.add(event);
    emit(event);
  };
  const started = Date.now();
  const trials = packTrials(manifest, sweep, pack);
  const stored = await Promise.all(trials.map((t) => store.exists(trialKey(t.trialId))));
  const todo = trials.filter((_, i) => !stored[i]);
  const summary: WorkerSummary = { pack, trained: 0, skipped: trials.length - todo.length, failed: 0 };
  report({ event: 'start', pack, trials: trials.length, todo: todo.length, skipped: summary.skipped });
  const sink = trialSink(store, summary, report);

  let timer: NodeJS.Timeout | undefined;
  try {
    if (todo.length > 0) {
      const data = await loadPackData(options, manifest, todo[0]);
      // A failed log write surfaces at the final flush; the periodic ones must not crash the process.
      timer = setInterval(() => log.flush().catch(() => {}), (options.logInterval ?? 10) * 1000);
      timer.unref();
      const results = await trainOrFail(options, todo, data, sink.save, throttledProgress(pack, report));
      sink.rethrowStoreFailure();
      for (const result of results) await sink.save(result);
    }
    report({ event: 'end', ...summary, seconds: (Date.now() - started) / 1000 });
  } catch (error) {
    report({ event: 'error', pack, message: firstLine(error) });
    await log.flush().catch(() => {});
    throw error;
  } finally {
    clearInterval(timer);
  }
  await log.flush();
  return summary;
}

/** The pack's data: a pack shares it (planPacks groups by it); include: entries may differ from the grid's. */
async function loadPackData(options: WorkerOptions, manifest: Manifest, first: Trial): Promise<Dataset> {
  const loadDataset = options.loadDataset ?? (await import('../data/load.ts')).loadDataset;
  const dataKeys = manifest.dataKeys ?? {};
  return loadDataset(first.config.data, {
    baseDir: dirname(manifest.grid.file), dataFiles: manifest.dataFiles ?? {},
    storedData: async (sha) => (dataKeys[sha] ? options.store.get(dataKeys[sha]) : undefined),
  });
}

/**
 * The pack's results from the trainer; a NonRetriableError makes every trial a failed result,
 * stored so it is never retried, under the engine the pack was meant for.
 */
async function trainOrFail(options: WorkerOptions, todo: Trial[], data: Dataset, onResult: TrainOptions['onResult'], onProgress: TrainOptions['onProgress']): Promise<TrialResult[]> {
  const trainPack = options.trainPack ?? (await import('../train/train-pack.ts')).trainPack;
  try {
    return await trainPack(todo, data, { sweep: options.sweep, ...(options.engine ? { engine: options.engine } : {}), onResult, onProgress });
  } catch (error) {
    if (!(error instanceof NonRetriableError)) throw error;
    const engine = chooseEngine(options.engine ?? todo[0].config.train.engine, todo[0].config.model, backendNameHint());
    const none = { name: 'none', device: 'none' };
    return todo.map((trial) => failedResult({ trial, data, sweep: options.sweep, engine, backend: none, seconds: 0, error: error.message }));
  }
}

/** Engines report every epoch; a few progress lines a second are enough for a bar. */
function throttledProgress(pack: number, report: (event: WorkerEvent) => void): NonNullable<TrainOptions['onProgress']> {
  let lastProgress = 0;
  return (p) => {
    const now = Date.now();
    if (now - lastProgress < 250 && p.epoch < p.epochs) return;
    lastProgress = now;
    report({ event: 'progress', pack, ...p });
  };
}

/**
 * Stores each result once and counts it. The trainer may catch what `save` throws and carry on
 * (handing trials to another engine); a failed store write must still fail the worker, so it is
 * remembered and rethrown once training is over.
 */
function trialSink(store: Store, summary: WorkerSummary, report: (event: WorkerEvent) => void) {
  const written = new Set<string>();
  let storeFailure: { error: unknown } | undefined;
  const save = async (result: TrialResult) => {
    if (written.has(result.trialId)) return;
    try {
      await store.put(trialKey(result.trialId), encodeTrialResult(result), { ifAbsent: true, contentType: 'application/json' });
    } catch (error) {
      storeFailure ??= { error };
      throw error;
    }
    if (written.has(result.trialId)) return;
    written.add(result.trialId);
    summary.trained += 1;
    if (result.status !== 'ok') summary.failed += 1;
    report({
      event: 'trial', pack: summary.pack, trialId: result.trialId, status: result.status, seconds: result.seconds,
      ...(result.error ? { error: result.error } : {}),
    });
  };
  return {
    save,
    rethrowStoreFailure: () => {
      if (storeFailure) throw storeFailure.error;
    },
  };
}
