import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Trial } from '../records/config.ts';
import type { TrainPack } from '../train/engine.ts';
import { loadGrid } from '../grid/load.ts';
import { expandGrid } from '../grid/expand.ts';
import { loadDataset } from '../data/load.ts';
import { initBackend } from '../train/backend.ts';
import { planTrainings } from '../train/replay.ts';
import { epochFlops } from '../train/flops.ts';

/**
 * `fitgrid bench`: the seed workload (the seed article's Dense(500) on 30 make_moons points: no
 * penalty, dropout, augmentation or early stopping) for a fixed number of epochs, trained
 * several ways in one process, each through its TrainPack: one trial at a time by the layers
 * engine, K seeds of it as one packed computation, and the packed engine with patience replay
 * over the moons-sweep grid's shape (grids/moons-sweep.yaml: L2, dropout, jitter and patience, 216 trials).
 */
export interface WayFigures {
  trials: number;
  /** Trainings actually run (fewer than trials when patience values share one). */
  trainings: number;
  seconds: number;
  /** Wall milliseconds per trial-epoch, result building included. */
  msPerTrialEpoch: number;
  /** Trials (of `epochs` epochs) finished per second. */
  trialsPerSecond: number;
  /** CPU milliseconds (all of the process's threads) per trial-epoch: steadier than wall time on a shared machine. */
  cpuMsPerTrialEpoch: number;
  /** Arithmetic done per second: trainings × epochs × BenchReport.mflopPerEpoch over the wall time. */
  gflops: number;
}

export interface BenchReport {
  backend: string;
  device: string;
  epochs: number;
  K: number;
  /** Floating-point work of one training-epoch of the seed workload (one step over the training set, one validation pass). */
  mflopPerEpoch: number;
  ways: { layers: WayFigures; packed: WayFigures; replay: WayFigures; fused?: WayFigures };
  speedups: { packedVsLayers: number; replayVsLayers: number; fusedVsLayers?: number };
}

export interface BenchOptions {
  quick?: boolean;
  epochs?: number;
  /** Trials in the packed way (default 216, or 54 with quick). */
  k?: number;
  /** Trials the layers way trains one at a time (default 6, or 1 with quick): the slowest figure to steady. */
  layersTrials?: number;
  /** Include the fused engine when it is present (default true). */
  fused?: boolean;
  log?: (line: string) => void;
}

const gridFile = fileURLToPath(new URL('../../grids/moons-sweep.yaml', import.meta.url));

export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const epochs = options.epochs ?? (quick ? 20 : 200);
  const k = options.k ?? (quick ? 54 : 216);
  const log = options.log ?? (() => {});
  const backend = await initBackend();
  const grid = await loadGrid(gridFile);
  const data = await loadDataset(grid.data, { baseDir: path.dirname(gridFile) });
  const all = expandGrid(grid).map((t) => withEpochs(t, epochs));
  // The seed workload itself, once per seed: every trial trains the same number of epochs, so per trial-epoch times compare.
  const w = seedWorkload(all);
  const packedTrials = Array.from({ length: k }, (_, seed) => ({ ...w, seed, trialId: `${w.trialId}-${seed}` }));
  const layersTrials = packedTrials.slice(0, options.layersTrials ?? (quick ? 1 : 6));
  // The moons-sweep grid's shape: the first k/3 runs with all their patience values, as the planner packs them.
  const groups = planTrainings(all).slice(0, Math.max(1, Math.round(k / 3)));
  const replayTrials = groups.flatMap((g) => g.members.map((m) => all[m]));

  const mflopPerEpoch = epochFlops(all[0], data) / 1e6;
  const { trainPackLayers } = await import('../train/layers/train.ts');
  const { trainPacked } = await import('../train/packed/train.ts');
  const run = async (name: string, train: TrainPack, trials: Trial[], trainings: number): Promise<WayFigures> => {
    log(`${name}: ${trials.length} trials, ${trainings} trainings × ${epochs} epochs…`);
    // A first call pays for compiling, kernel set-up and memory growth, and V8 optimises the
    // layers engine's JS only after some hundred steps: time the steady state.
    await train(trials.map((t) => withEpochs(t, Math.min(epochs, 100))), data, { sweep: 'bench' });
    const started = performance.now();
    const cpu = process.cpuUsage();
    await train(trials, data, { sweep: 'bench' });
    const used = process.cpuUsage(cpu);
    const seconds = (performance.now() - started) / 1000;
    const trialEpochs = trials.length * epochs;
    const figures = {
      trials: trials.length, trainings, seconds,
      msPerTrialEpoch: (seconds * 1000) / trialEpochs,
      trialsPerSecond: trials.length / seconds,
      cpuMsPerTrialEpoch: (used.user + used.system) / 1000 / trialEpochs,
      gflops: (trainings * epochs * mflopPerEpoch) / 1000 / seconds,
    };
    log(`${name}: ${figures.msPerTrialEpoch.toFixed(3)} ms per trial-epoch`);
    return figures;
  };
  const layers = await run('layers', trainPackLayers, layersTrials, layersTrials.length);
  const packed = await run('packed', (t, d, o) => trainPacked(t, d, o, { replay: false }), packedTrials, packedTrials.length);
  const replay = await run('replay', (t, d, o) => trainPacked(t, d, o), replayTrials, groups.length);
  const ways: BenchReport['ways'] = { layers, packed, replay };
  const speedups: BenchReport['speedups'] = {
    packedVsLayers: layers.msPerTrialEpoch / packed.msPerTrialEpoch,
    replayVsLayers: layers.msPerTrialEpoch / replay.msPerTrialEpoch,
  };
  const fusedModule = fileURLToPath(new URL('../train/fused/index.ts', import.meta.url));
  if ((options.fused ?? true) && existsSync(fusedModule)) {
    const fused = await import('../train/fused/index.ts').then((m) => m.trainPackFused as TrainPack, (e: Error) => {
      log(`fused: not measured (${e.message.split('\n')[0]})`);
      return undefined;
    });
    if (fused) {
      ways.fused = await run('fused', fused, replayTrials, groups.length);
      speedups.fusedVsLayers = layers.msPerTrialEpoch / ways.fused.msPerTrialEpoch;
    }
  }
  return { backend: backend.name, device: backend.device, epochs, K: packedTrials.length, mflopPerEpoch, ways, speedups };
}


/** The moons-sweep grid's no-remedy trial, i.e. the seed workload: no penalty, dropout, augmentation or early stopping. */
function seedWorkload(trials: Trial[]): Trial {
  const w = trials.find((t) => t.config.l2 === 0 && t.config.dropout === 0 && !t.config.augmentation);
  if (!w) throw new Error('grids/moons-sweep.yaml lost its no-remedy cell');
  return { ...w, config: { ...w.config, patience: null } };
}

const withEpochs = (t: Trial, epochs: number): Trial => ({ ...t, config: { ...t.config, train: { ...t.config.train, epochs } } });

/** The report as a few aligned lines. */
export function formatBench(r: BenchReport): string {
  const row = (name: string, w: WayFigures) =>
    `  ${name.padEnd(7)} ${String(w.trials).padStart(4)} trials ${String(w.trainings).padStart(4)} trainings` +
    `  wall ${w.msPerTrialEpoch.toFixed(3).padStart(8)} ms/trial-epoch ${w.trialsPerSecond.toFixed(2).padStart(8)} trials/s` +
    `  cpu ${w.cpuMsPerTrialEpoch.toFixed(3).padStart(8)} ms/trial-epoch ${w.gflops.toFixed(2).padStart(7)} GFLOP/s`;
  const lines = [
    `fitgrid bench: the seed workload (2→500→1, 30 points, Adam), ${r.epochs} epochs, backend ${r.backend} (${r.device})`,
    `  layers and packed train it (packed: ${r.K} seeds at once); replay and fused train the moons-sweep grid's shape (L2, dropout, jitter, patience)`,
    row('layers', r.ways.layers),
    row('packed', r.ways.packed),
    row('replay', r.ways.replay),
    ...(r.ways.fused ? [row('fused', r.ways.fused)] : []),
    `  speedups: packed ${r.speedups.packedVsLayers.toFixed(1)}×, replay ${r.speedups.replayVsLayers.toFixed(1)}×` +
      (r.speedups.fusedVsLayers !== undefined ? `, fused ${r.speedups.fusedVsLayers.toFixed(1)}×` : '') + ' vs layers (wall per trial-epoch)',
    `  work: ${r.mflopPerEpoch.toFixed(3)} MFLOP per training-epoch (a floor); GFLOP/s counts trainings, so replay's shared runs are not counted twice`,
  ];
  return lines.join('\n') + '\n';
}
