import { Worker } from 'node:worker_threads';
import type { OptimizerSpec } from '../../../records/config.ts';
import { threadCount } from '../../fused/pool.ts';
import { stepTrials, Update, type StepArrays } from './step.ts';

/**
 * A helper thread for the folded packs' host update (FoldedTraining): while the main thread runs
 * tfjs' passes for one half of a pack's trials, it updates the other half, on arrays both
 * threads see (SharedArrayBuffers). One per process, started with the first pack that may use
 * it (when the thread budget, threadCount(), allows a second thread); it does not keep the
 * process alive.
 */
let helper: Promise<Worker | null> | undefined;

/** Whether a pack may share its update with the helper thread (started on the first call that may). */
export async function helperThread(): Promise<boolean> {
  if (threadCount() < 2) return false;
  helper ??= new Promise((resolve) => {
    const worker = new Worker(new URL('./worker.mjs', import.meta.url));
    worker.unref();
    // a helper that fails to start leaves the update to the main thread
    worker.once('error', () => resolve(null));
    worker.once('message', () => resolve(worker));
  });
  return (await helper) !== null;
}

/** Control words shared with the helper. */
const GENERATION = 0;
const DONE = 1;
const CURRENT = 2;
const STOP = 3;
const FAILED = 4;
const FROM = 5;
const TO = 6;

/** What a pack sends the helper once: its arrays, and where each step's sums arrive. */
interface PackSetup {
  arrays: StepArrays;
  optimizer: OptimizerSpec;
  control: Int32Array;
  corrections: Float64Array;
  sums: Float32Array;
}

/**
 * One pack's use of the helper thread: start its share of a step, then wait for it. The helper
 * serves one pack at a time, in the order their first steps reach it: a pack's steps run from
 * the first to close() without yielding to the event loop, so no other pack's can come between.
 */
export class HelperLink {
  private generation = 0;
  private state: 'new' | 'serving' | 'closed' = 'new';

  private constructor(private readonly setup: PackSetup, private readonly worker: Worker) {}

  /**
   * The helper's link for a pack whose arrays live on SharedArrayBuffers, for steps of up to
   * `most` trials; null when there is no helper thread.
   */
  static async open(arrays: StepArrays, optimizer: OptimizerSpec, most: number): Promise<HelperLink | null> {
    const worker = await helper;
    if (!worker) return null;
    const setup: PackSetup = {
      arrays, optimizer,
      control: new Int32Array(new SharedArrayBuffer(4 * 8)),
      corrections: new Float64Array(new SharedArrayBuffer(8 * 2)),
      sums: new Float32Array(new SharedArrayBuffer(4 * Math.max(1, most * arrays.units * arrays.width))),
    };
    return new HelperLink(setup, worker);
  }

  /** Hands the helper the update of trials [from, to), `sums` their rows of the backward's sums (stepTrials). */
  start(update: Update, current: number, sums: Float32Array, from: number, to: number): void {
    const { control, corrections, arrays } = this.setup;
    if (this.state === 'new') this.worker.postMessage(this.setup);
    this.state = 'serving';
    this.setup.sums.set(sums.subarray(0, (to - from) * arrays.units * arrays.width));
    corrections[0] = update.stepRate;
    corrections[1] = update.rootCorrection;
    control[CURRENT] = current;
    control[FROM] = from;
    control[TO] = to;
    this.generation++;
    Atomics.store(control, GENERATION, this.generation);
    Atomics.notify(control, GENERATION);
  }

  /** Blocks until the helper has finished this step's share. */
  wait(): void {
    const { control } = this.setup;
    for (;;) {
      const done = Atomics.load(control, DONE);
      if (Atomics.load(control, FAILED)) throw new Error('the packed engine\'s helper thread failed during an update');
      if (done === this.generation) return;
      // (a minute without an answer: the thread is gone)
      if (Atomics.wait(control, DONE, done, 60_000) === 'timed-out') throw new Error('the packed engine\'s helper thread stopped answering');
    }
  }

  /** Releases the helper for the next pack (again: nothing). */
  close(): void {
    if (this.state !== 'serving') return;
    this.state = 'closed';
    Atomics.store(this.setup.control, STOP, 1);
    Atomics.store(this.setup.control, GENERATION, this.generation + 1);
    Atomics.notify(this.setup.control, GENERATION);
  }
}

/** In the helper thread: serves one pack's steps until it is closed. */
export function serveSteps(setup: PackSetup): void {
  const { arrays, control, corrections, sums } = setup;
  const update = new Update(setup.optimizer);
  let seen = 0;
  for (;;) {
    Atomics.wait(control, GENERATION, seen);
    seen = Atomics.load(control, GENERATION);
    if (Atomics.load(control, STOP)) return;
    try {
      update.stepRate = corrections[0];
      update.rootCorrection = corrections[1];
      const from = control[FROM];
      stepTrials(arrays, update, control[CURRENT], from, control[TO], sums, from * arrays.units);
    } catch {
      Atomics.store(control, FAILED, 1);
    }
    Atomics.store(control, DONE, seen);
    Atomics.notify(control, DONE);
  }
}
