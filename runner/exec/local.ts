import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import type { EngineChoice } from '../records/config.ts';
import type { Store } from '../store/store.ts';
import type { WorkerEvent } from '../records/events.ts';
import { runPool, type PackOutcome } from './pool.ts';
import { prepareSweep } from './prepare.ts';

export interface LocalOptions {
  grid: string;
  /** The store as the user wrote it (passed on to the workers). */
  storeArg: string;
  store: Store;
  concurrency?: number;
  packSize?: number;
  engine?: EngineChoice;
  /** Folders data files may lie in besides the defaults (runner/grid/data-roots.ts). */
  dataRoots?: string[];
  /** Where progress goes (a bar on a TTY, else plain lines). */
  log?: NodeJS.WriteStream;
}

export interface LocalSummary {
  sweep: string;
  total: number;
  trained: number;
  skipped: number;
  failed: number;
  diverged: number;
  seconds: number;
  /** Packs whose worker exited non-zero (infrastructure failures), with the reason. */
  packFailures: { pack: number; code: number | null; reason: string }[];
  /** Packs not started because a worker failed before them. */
  notStarted: number;
  interrupted: boolean;
}

const formatSeconds = (s: number) =>
  s < 60 ? `${s.toFixed(1)} s` : s < 3600 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;

/** Per-pack progress folded into one fractional count of trials, for the bar and its ETA. */
export class Progress {
  private packs = new Map<number, { todo: number; finished: number; running: number; fraction: number }>();
  trained = 0;
  failed = 0;
  diverged = 0;
  constructor(readonly total: number, readonly skipped: number) {}
  apply(event: WorkerEvent) {
    const pack = this.packs.get(event.pack) ?? { todo: 0, finished: 0, running: 0, fraction: 0 };
    this.packs.set(event.pack, pack);
    if (event.event === 'start') pack.todo = event.todo;
    // An engine that trains a pack's trials together (packed) reports how far all of them are; layers
    // says which few trials its epoch is that of; fused and conv report only the trials done, and
    // the rest count as not started.
    if (event.event === 'progress') {
      pack.fraction = event.epochs > 0 ? event.epoch / event.epochs : 0;
      pack.running = event.training ?? (event.trialsDone === 0 ? Infinity : 0);
    }
    if (event.event === 'trial') {
      pack.finished += 1;
      pack.running = 0;
      this.trained += 1;
      if (event.status === 'failed') this.failed += 1;
      if (event.status === 'diverged') this.diverged += 1;
    }
    if (event.event === 'end') {
      pack.fraction = 1;
      pack.running = Infinity;
    }
  }
  /** Trials done, counting the running part of packs (their trials finish together). */
  get value(): number {
    let value = this.skipped;
    for (const p of this.packs.values()) value += p.finished + Math.min(p.running, p.todo - p.finished) * Math.min(p.fraction, 0.999);
    return value;
  }
}

/**
 * `fitgrid run`'s engine: writes the manifest, then trains the packs not yet complete in worker
 * processes. SIGINT/SIGTERM kill the workers (finished trials are already stored) and return
 * with `interrupted`; the next run trains only the rest.
 */
export async function runLocal(options: LocalOptions): Promise<LocalSummary> {
  const started = Date.now();
  const log = options.log ?? process.stderr;
  const { manifest, manifestWrite, stored, missingPacks } = await prepareSweep(options.grid, options.store, options.packSize, { workers: options.concurrency ?? availableParallelism(), dataRoots: options.dataRoots ?? [] });
  const sweep = manifest.sweep;
  const total = manifest.trials.length;
  const progress = new Progress(total, stored.size);
  const concurrency = Math.min(options.concurrency ?? availableParallelism(), Math.max(missingPacks.length, 1));
  if (manifestWrite === 'replaced') log.write(`sweep "${sweep}": the grid changed; the previous manifest is kept under sweeps/${sweep}/manifests/ and no stored trial is lost\n`);
  log.write(`sweep "${sweep}": ${total} trials in ${manifest.packs.length} packs, ${stored.size} already stored; training ${missingPacks.length} pack(s), ${concurrency} at a time\n`);

  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const tty = Boolean(log.isTTY);
  const bar = tty
    ? new cliProgress.SingleBar({
        stream: log,
        format: 'training [{bar}] {done}/{total} trials | {rate} trials/s | ETA {remaining} | {failures}',
        hideCursor: true,
      }, cliProgress.Presets.shades_classic)
    : undefined;
  const payload = () => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? progress.trained / elapsed : 0;
    const left = total - progress.value;
    const eta = rate > 0 ? formatSeconds(left / rate) : '…';
    return { done: progress.trained + progress.skipped, rate: rate.toFixed(2), remaining: eta, failures: `${progress.failed} failed, ${progress.diverged} diverged` };
  };
  bar?.start(total, progress.value, payload());
  let lastLine = 0;
  const onEvent = (event: WorkerEvent) => {
    progress.apply(event);
    const p = payload();
    if (bar) bar.update(progress.value, p);
    else if (event.event === 'end' || Date.now() - lastLine > 10_000) {
      lastLine = Date.now();
      log.write(`trials ${p.done}/${total}, ${p.rate} trials/s, ETA ${p.remaining}, ${p.failures}\n`);
    }
  };

  let outcomes: PackOutcome[];
  try {
    outcomes = await runPool({
      store: options.storeArg, sweep, packs: missingPacks, concurrency,
      ...(options.engine ? { engine: options.engine } : {}), onEvent, signal: controller.signal,
    });
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  const interrupted = controller.signal.aborted;
  // The summary shows one line per failed pack; the worker's own words go to the log first.
  if (!interrupted) for (const o of outcomes) if (o.code !== 0 && o.stderr) log.write(`pack ${o.pack} worker said:\n${o.stderr}\n`);
  const packFailures = interrupted ? [] : outcomes
    .filter((o) => o.code !== 0)
    .map((o) => ({
      pack: o.pack,
      code: o.code,
      reason: o.stderr.split('\n').filter(Boolean).at(-1) ?? (o.signal ? `killed by ${o.signal}` : 'no message'),
    }));
  return {
    sweep, total, trained: progress.trained, skipped: stored.size, failed: progress.failed, diverged: progress.diverged,
    seconds: (Date.now() - started) / 1000, packFailures, interrupted,
    notStarted: interrupted ? 0 : missingPacks.length - outcomes.length,
  };
}

export function formatSummary(s: LocalSummary, storeUrl: string): string {
  const lines = [
    `${s.interrupted ? 'stopped' : 'done'}: ${s.trained} trained, ${s.skipped} skipped (already stored), ${s.failed} failed, ${s.diverged} diverged of ${s.total} trials in ${formatSeconds(s.seconds)}`,
    ...s.packFailures.map((f) => `pack ${f.pack} failed (exit ${f.code}): ${f.reason}`),
  ];
  if (s.interrupted) lines.push('interrupted: finished trials are stored; run the same command again to train only the rest');
  else if (s.packFailures.length) {
    if (s.notStarted > 0) lines.push(`${s.notStarted} pack(s) not started after the failure`);
    lines.push('some packs did not finish; run the same command again to train only what is missing');
  }
  lines.push(`results: ${storeUrl.replace(/\/$/, '')}/trials/ (sweep "${s.sweep}")`);
  return lines.join('\n') + '\n';
}
