import os from 'node:os';
import type { Trial } from '../../records/config.ts';
import type { Dataset, Split } from '../../data/types.ts';
import { requireSupport, type Engine, type TrainPack } from '../engine.ts';
import type { History, TrialResult } from '../../records/result.ts';
import { planTrainings, type Training } from '../replay.ts';
import { buildResult, surfaceGrid, trainingSet, truncateHistory } from '../result.ts';
import { toClassProba } from '../metrics.ts';
import { fusedSupports, kernelJob } from './jobs.ts';
import { runJobs, threadCount } from './pool.ts';
import { kernelVariant, type KernelResult } from './kernel.mjs';

/**
 * The fused engine: each training (a trial, or the trials of a patience group, which share one
 * run and keep snapshots at their best epochs) runs start to finish inside the WebAssembly
 * kernel, on one worker thread per core. It trains MLPs with the augmentations the kernel draws
 * and up to 64 classes (fusedSupports); train-pack gives the other trials to layers.
 */
export const trainPackFused: TrainPack = async (trials, data, options) => {
  requireSupport(fusedEngine, trials, data);
  const threads = threadCount();
  const backend = { name: 'wasm', device: `${os.cpus()[0]?.model?.trim() || 'CPU'} (fused wasm ${kernelVariant === 'relaxed' ? 'SIMD128 + relaxed SIMD' : 'SIMD128'}, ${threads} threads)` };
  const grid = surfaceGrid(data);
  const results = new Map<string, TrialResult>();
  const jobs = planTrainings(trials).map((training) => {
    const first = trials[training.members[0]];
    const train = trainingSet(first, data);
    return { tag: { training, train }, job: kernelJob(first, training, data, train, grid?.points) };
  });
  let done = 0;
  await runJobs(jobs, threads, async ({ tag, result, seconds }) => {
    for (const r of trainingResults(trials, tag.training, tag.train, result, data, options.sweep, backend, seconds)) {
      results.set(r.trialId, r);
      await options.onResult?.(r);
    }
    done += tag.training.members.length;
    const epochs = trials[0].config.train.epochs;
    options.onProgress?.({ epoch: epochs, epochs, trialsDone: done, trials: trials.length });
  }, options.signal);
  return trials.map((t) => results.get(t.trialId)!);
};

export const fusedEngine: Engine = { name: 'fused', supports: fusedSupports, trainPack: trainPackFused };

/** Each member's result from its training's run: history up to its stop, metrics at its kept weights. */
export function trainingResults(trials: readonly Trial[], training: Training, train: Split, run: KernelResult, data: Dataset,
  sweep: string, backend: { name: string; device: string }, seconds: number): TrialResult[] {
  const classes = data.classNames.length;
  const epochs = trials[training.members[0]].config.train.epochs;
  const full: History = {
    loss: Array.from(run.history.subarray(0, run.epochsRun)),
    val_loss: Array.from(run.history.subarray(epochs, epochs + run.epochsRun)),
    // accuracies are counts over the split: exact ratios, as accuracy() in result.ts gives them
    acc: ratios(run.history.subarray(2 * epochs, 2 * epochs + run.epochsRun), train.x.length),
    val_acc: ratios(run.history.subarray(3 * epochs, 3 * epochs + run.epochsRun), data.val.x.length),
  };
  return training.members.map((index, j) => {
    const slot = training.slotOf[j];
    const point = { stoppedEpoch: run.stops[2 * slot], bestEpoch: run.stops[2 * slot + 1] };
    const proba = run.proba[slot]!;
    return buildResult({
      trial: trials[index], sweep, engine: 'fused', backend, data, train,
      seconds: seconds / training.members.length,
      history: truncateHistory(full, point.stoppedEpoch),
      ...point,
      probaTrain: toClassProba(proba.train, train.x.length, classes),
      probaVal: toClassProba(proba.val, data.val.x.length, classes),
      ...(proba.surface ? { probaSurface: toClassProba(proba.surface, proba.surface.length / (classes === 2 ? 1 : classes), classes) } : {}),
    });
  });
}

const ratios = (values: Float32Array, n: number) => Array.from(values, (v) => Math.round(v * n) / n);
