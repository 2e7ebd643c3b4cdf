import os from 'node:os';
import { requireSupport, type Engine, type TrainPack } from '../engine.ts';
import type { TrialResult } from '../../records/result.ts';
import { planTrainings } from '../replay.ts';
import { trainingSet } from '../result.ts';
import { initialWeights } from '../init.ts';
import { trainingResults } from '../fused/index.ts';
import { runJobs, threadCount } from '../fused/pool.ts';
import type { ConvJob } from './trainer.ts';
import { convSupports } from './support.ts';

/**
 * The conv engine: CNN trainings on the WebAssembly kernel of kernel.c, one worker thread per
 * core (FITGRID_THREADS), each training start to finish on one thread; patience values of a
 * training share it and are replayed (replay.ts). train-pack gives it only the trials
 * `convSupports` accepts.
 */
export const trainPackConv: TrainPack = async (trials, data, options) => {
  requireSupport(convEngine, trials, data);
  const threads = threadCount();
  const backend = { name: 'wasm', device: `${os.cpus()[0]?.model?.trim() || 'CPU'} (conv wasm simd128, ${threads} threads)` };
  const valX = new Float32Array(data.val.x.length * data.inputShape.reduce((a, b) => a * b, 1));
  data.val.x.forEach((row, i) => valX.set(row, i * row.length));
  const jobs = planTrainings(trials).map((training) => {
    const first = trials[training.members[0]];
    const train = trainingSet(first, data);
    const job: ConvJob = {
      trial: first, training, inputShape: data.inputShape, classes: data.classNames.length,
      train, valX, valY: data.val.y, weights: Float32Array.from(initialWeights(first, data).flatMap((w) => Array.from(w))),
    };
    return { tag: { training, train }, job };
  });
  const results = new Map<string, TrialResult>();
  let done = 0;
  await runJobs(jobs, threads, async ({ tag, result, seconds }) => {
    for (const r of trainingResults(trials, tag.training, tag.train, result, data, options.sweep, backend, seconds)) {
      results.set(r.trialId, { ...r, engine: 'conv' });
      await options.onResult?.(results.get(r.trialId)!);
    }
    done += tag.training.members.length;
    const epochs = trials[0].config.train.epochs;
    options.onProgress?.({ epoch: epochs, epochs, trialsDone: done, trials: trials.length });
  }, options.signal, new URL('./worker.mjs', import.meta.url));
  return trials.map((t) => results.get(t.trialId)!);
};

export const convEngine: Engine = { name: 'conv', supports: convSupports, trainPack: trainPackConv };
