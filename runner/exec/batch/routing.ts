import path from 'node:path';
import type { Dataset } from '../../data/types.ts';
import type { Grid, Trial } from '../../records/config.ts';
import type { Pack } from '../../records/manifest.ts';
import { canonicalJson } from '../../grid/canonical.ts';
import { packKey, planPacks, runsOf } from '../../grid/plan.ts';
import { epochFlops } from '../../train/flops.ts';
import { chooseEngine, placementFor, type Placement } from '../../train/train-pack.ts';
import type { Calibration } from './costs.ts';
import { sizeGroup, type GroupSizing, type SizingOptions } from './sizing.ts';

/** A group of compatible trials as the cloud plan sees it: where it trains, with which engine, how fast. */
export interface GroupPlan {
  placement: Placement;
  engine: string;
  trials: number;
  runs: number;
  epochs: number;
  secondsPerRunEpoch: number;
  /** Whether the speed comes from a measured calibration figure or an assumption. */
  figure: 'measured' | 'assumed';
  sizing: GroupSizing;
}

export interface CloudPlan {
  packs: Pack[];
  groups: GroupPlan[];
  /** The group of each pack, by pack index. */
  groupOfPack: number[];
}

export interface CloudPlanOptions extends SizingOptions {
  calibration: Calibration;
  /** An explicit --pack-size: every group gets it, sizing only estimates. */
  packSize?: number;
  loadDataset?: (trial: Trial) => Promise<Dataset>;
}

/** Device bytes one run of an MLP adds to a batched GPU model: weights, gradients and Adam's two moments, activations, its copy of the data. */
function packedBytesPerRun(trial: Trial, data: Dataset): number {
  const model = trial.config.model;
  if (model.kind !== 'mlp') return 0;
  const inputs = data.inputShape.reduce((a, b) => a * b, 1);
  const widths = [inputs, ...model.hidden, Math.max(1, data.classNames.length > 2 ? data.classNames.length : 1)];
  let parameters = 0;
  for (let i = 1; i < widths.length; i++) parameters += widths[i - 1] * widths[i] + widths[i];
  const activations = trial.config.train.batchSize * widths.reduce((a, b) => a + b, 0) * 3;
  return 4 * (4 * parameters + activations + data.train.y.length * inputs);
}

/** The speed figure for a group: measured per GFLOP where the engine has one, else an assumed per-step figure. */
function speedOf(trial: Trial, data: Dataset, placement: Placement, calibration: Calibration): Pick<GroupPlan, 'engine' | 'secondsPerRunEpoch' | 'figure'> & { deviceBytesPerRun?: number } {
  const choice = trial.config.train.engine;
  const steps = Math.ceil(data.train.y.length / trial.config.train.batchSize);
  if (placement === 'cpu') {
    const engine = chooseEngine(choice, trial.config.model, 'wasm');
    const flops = epochFlops(trial, data);
    const measured = calibration.engines[engine];
    if (measured && Number.isFinite(flops)) return { engine, secondsPerRunEpoch: (flops / 1e9) * measured.cpuSecondsPerGflop, figure: 'measured' };
    return { engine, secondsPerRunEpoch: steps * calibration.assumed.cpuSecondsPerStep, figure: 'assumed' };
  }
  const engine = chooseEngine(choice, trial.config.model, 'tensorflow');
  if (engine === 'packed')
    return { engine, secondsPerRunEpoch: calibration.assumed.gpuPackedSecondsPerTrialEpoch, figure: 'assumed', deviceBytesPerRun: packedBytesPerRun(trial, data) };
  return { engine, secondsPerRunEpoch: steps * calibration.assumed.gpuLayersSecondsPerStep, figure: 'assumed' };
}

/**
 * Packs for AWS Batch: each group of compatible trials placed where auto's engine trains it
 * (placementFor) and sized for its queue (sizeGroup). Trial ids are untouched; only the packing
 * differs from a local run's.
 */
export async function planCloud(grid: Grid, trials: Trial[], options: CloudPlanOptions): Promise<CloudPlan> {
  const load = options.loadDataset ?? (async (trial: Trial) => {
    const { loadDataset } = await import('../../data/load.ts');
    return loadDataset(trial.config.data, { baseDir: path.dirname(grid.file) });
  });
  // One dataset per distinct data spec (a grid has one, unless `include` changes it).
  const datasets = new Map<string, Dataset>();
  const firstOfGroup = new Map<string, Trial>();
  for (const t of trials) if (!firstOfGroup.has(packKey(t))) firstOfGroup.set(packKey(t), t);
  for (const t of firstOfGroup.values()) {
    const key = canonicalJson(t.config.data);
    if (!datasets.has(key)) datasets.set(key, await load(t));
  }
  const groups: GroupPlan[] = [];
  const groupIndex = new Map<string, number>();
  const packs = planPacks(trials, {
    packSize: (compatible) => {
      const first = compatible[0];
      const data = datasets.get(canonicalJson(first.config.data))!;
      const placement = placementFor(first.config.train.engine, first.config.model);
      const speed = speedOf(first, data, placement, options.calibration);
      const work = { placement, trials: compatible.length, runs: runsOf(compatible).length, epochs: first.config.train.epochs, ...speed };
      const sizing = sizeGroup(work, options);
      groupIndex.set(packKey(first), groups.length);
      groups.push({ placement, engine: speed.engine, trials: work.trials, runs: work.runs, epochs: work.epochs, secondsPerRunEpoch: speed.secondsPerRunEpoch, figure: speed.figure, sizing });
      return options.packSize ?? sizing.packSize;
    },
  });
  const byId = new Map(trials.map((t) => [t.trialId, t]));
  const groupOfPack = packs.map((p) => groupIndex.get(packKey(byId.get(p.trialIds[0])!))!);
  return { packs, groups, groupOfPack };
}

/**
 * Estimated training seconds of a pack's missing trials: its runs in rounds of one per vCPU on
 * CPU, one after another on a GPU.
 */
export function packSeconds(group: GroupPlan, missingTrials: Trial[], cpuVcpus: number): number {
  const runs = runsOf(missingTrials).length;
  const runSeconds = group.epochs * group.secondsPerRunEpoch;
  return (group.placement === 'cpu' ? Math.ceil(runs / cpuVcpus) : runs) * runSeconds;
}

/** One queue's share of a cloud plan, for `fitgrid plan`. */
export interface QueueSummary {
  placement: Placement;
  trials: number;
  packs: number;
  /** Packs with a trial still missing: the children a launch would start. */
  children: number;
  longestSeconds: number;
  engines: string[];
  figures: GroupPlan['figure'][];
}

export function summarizeCloud(plan: CloudPlan, trials: Trial[], stored: Set<string>, cpuVcpus: number): QueueSummary[] {
  const byId = new Map(trials.map((t) => [t.trialId, t]));
  const queues = new Map<Placement, QueueSummary>();
  plan.packs.forEach((pack, i) => {
    const group = plan.groups[plan.groupOfPack[i]];
    const q = queues.get(group.placement) ?? { placement: group.placement, trials: 0, packs: 0, children: 0, longestSeconds: 0, engines: [], figures: [] };
    queues.set(group.placement, q);
    const missing = pack.trialIds.filter((id) => !stored.has(id)).map((id) => byId.get(id)!);
    q.trials += pack.trialIds.length;
    q.packs += 1;
    if (missing.length > 0) q.children += 1;
    q.longestSeconds = Math.max(q.longestSeconds, packSeconds(group, missing, cpuVcpus));
    if (!q.engines.includes(group.engine)) q.engines.push(group.engine);
    if (!q.figures.includes(group.figure)) q.figures.push(group.figure);
  });
  return (['cpu', 'gpu'] as const).flatMap((p) => (queues.has(p) ? [queues.get(p)!] : []));
}
