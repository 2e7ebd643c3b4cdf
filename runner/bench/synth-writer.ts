import { Worker } from 'node:worker_threads';
import type { Trial } from '../records/config.ts';
import type { TrialStatus } from '../records/result.ts';
import { encodeTrialResult } from '../records/result-codec.ts';
import { loadDataset } from '../data/load.ts';
import { openStore } from '../store/open.ts';
import { trialKey } from '../store/keys.ts';
import type { Store } from '../store/store.ts';
import { UserError } from '../errors.ts';
import { syntheticData, syntheticResult, type SyntheticData, type SyntheticRates } from './synthetic.ts';

/** What every batch of one `fitgrid synth` shares; plain data, so that it can be sent to a worker thread. */
export interface SynthSetup {
  store: string;
  sweep: string;
  rates: SyntheticRates;
  /** The grid file's folder, where data paths are relative to. */
  baseDir: string;
  dataFiles: Record<string, string>;
}

export type StatusCounts = Record<TrialStatus, number>;

/**
 * Makes, encodes and stores the synthetic results of batches of trials, in whichever thread it
 * lives (see synth-worker.mjs). Results are written as the worker writes them (`ifAbsent`), but
 * not fsynced: they can be made again, and a result lost in a crash is reported as missing.
 */
export class SyntheticWriter {
  private readonly datasets = new Map<string, Promise<SyntheticData>>();
  private constructor(private readonly store: Store, private readonly setup: SynthSetup) {}

  static async open(setup: SynthSetup): Promise<SyntheticWriter> {
    return new SyntheticWriter(await openStore(setup.store), setup);
  }

  async write(trials: readonly Trial[]): Promise<StatusCounts> {
    const statuses: StatusCounts = { ok: 0, diverged: 0, failed: 0 };
    const puts: Promise<void>[] = [];
    for (const trial of trials) {
      const result = syntheticResult(trial, await this.dataFor(trial), { sweep: this.setup.sweep, rates: this.setup.rates });
      statuses[result.status] += 1;
      puts.push(this.store.put(trialKey(result.trialId), encodeTrialResult(result), { ifAbsent: true, durable: false, contentType: 'application/json' }));
    }
    await Promise.all(puts);
    return statuses;
  }

  private dataFor(trial: Trial): Promise<SyntheticData> {
    const key = JSON.stringify(trial.config.data);
    let d = this.datasets.get(key);
    if (!d) {
      d = loadDataset(trial.config.data, { baseDir: this.setup.baseDir, dataFiles: this.setup.dataFiles }).then(syntheticData);
      this.datasets.set(key, d);
    }
    return d;
  }
}

/** Trials per batch: memory holds a batch per thread, whatever the sweep's size. */
const SYNTH_BATCH = 64;

/**
 * Writes the synthetic results of `trials` on `threads` threads (worker threads when more than
 * one), a batch at a time each; `onProgress` sees the number of results written so far.
 */
export async function writeSynthetic(trials: readonly Trial[], setup: SynthSetup, threads: number,
  onProgress: (done: number) => void = () => {}): Promise<StatusCounts> {
  const statuses: StatusCounts = { ok: 0, diverged: 0, failed: 0 };
  let done = 0;
  const add = (s: StatusCounts) => {
    for (const k of Object.keys(statuses) as TrialStatus[]) statuses[k] += s[k];
    done += s.ok + s.diverged + s.failed;
    onProgress(done);
  };
  const batches = Math.ceil(trials.length / SYNTH_BATCH);
  let next = 0;
  const take = () => (next < trials.length ? trials.slice(next, (next += SYNTH_BATCH)) : undefined);
  if (Math.min(threads, batches) <= 1) {
    const writer = await SyntheticWriter.open(setup);
    for (let b = take(); b; b = take()) add(await writer.write(b));
    return statuses;
  }
  const workers = Array.from({ length: Math.min(threads, batches) }, () => new ThreadWriter(setup));
  try {
    await Promise.all(workers.map(async (w) => {
      for (let b = take(); b; b = take()) add(await w.write(b));
    }));
  } catch (error) {
    next = trials.length; // the other threads take no further batch
    throw error;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
  return statuses;
}

interface Reply { ready?: true; statuses?: StatusCounts; error?: string; exitCode?: number }

/** A SyntheticWriter in a worker thread, one batch at a time. */
class ThreadWriter {
  private readonly worker: Worker;
  private readonly ready: Promise<Reply>;

  constructor(setup: SynthSetup) {
    this.worker = new Worker(new URL('./synth-worker.mjs', import.meta.url), { workerData: setup });
    this.ready = this.reply();
    this.ready.catch(() => {}); // seen by write(), if a batch comes
  }

  async write(trials: Trial[]): Promise<StatusCounts> {
    await this.ready;
    const answer = this.reply();
    this.worker.postMessage(trials);
    return (await answer).statuses!;
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }

  private reply(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const settle = (f: () => void) => {
        this.worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        f();
      };
      const onMessage = (m: Reply) => settle(() => (m.error === undefined ? resolve(m)
        : reject(m.exitCode === undefined ? new Error(m.error) : new UserError(m.error, {}, m.exitCode))));
      const onError = (e: Error) => settle(() => reject(e));
      const onExit = (code: number) => settle(() => reject(new Error(`a fitgrid synth thread stopped (exit code ${code})`)));
      this.worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
  }
}
