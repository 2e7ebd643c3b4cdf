import { RESULT_FORMAT } from '../records/result.ts';
import { fitgridVersion } from '../version.ts';
import { canonicalJson, idConfig } from './canonical.ts';
import type { Grid, Trial } from '../records/config.ts';
import type { Manifest, Pack } from '../records/manifest.ts';

/**
 * Most trials trained together in one pack. A packed engine's cost per trial-epoch falls as
 * a pack grows and flattens past a few dozen trainings; 108 is past that, and splits a
 * 216-trial sweep (the moons-sweep grid's size) into one pack per core of a 2-core machine,
 * where a smaller size would leave packs waiting for a second round. Larger machines or GPUs:
 * pass --pack-size.
 */
export const DEFAULT_PACK_SIZE = 108;

/**
 * The pack size used when none is asked for: DEFAULT_PACK_SIZE, but small enough that the
 * sweep makes at least one pack per worker, so a small grid (a CNN pack trains on one core)
 * still uses every core.
 */
export function defaultPackSize(trials: number, workers = 1): number {
  return Math.max(1, Math.min(DEFAULT_PACK_SIZE, Math.ceil(trials / Math.max(1, workers))));
}

/** What makes trials trainable as one batched model: the same data, architecture and training spec. */
export const packKey = (t: Trial) => {
  const { data, model, train } = idConfig(t.config);
  return canonicalJson({ data, model, train });
};

/**
 * Trials that share one training: early stopping only truncates a run, so every patience value
 * of the same config, seed and replicate is replayed from the one full run.
 */
export const replayKey = (t: Trial) =>
  canonicalJson({ config: { ...idConfig(t.config), patience: undefined }, seed: t.seed, replicate: t.replicate });

/** Epochs a trial costs to train: the full run, since early-stopped trials are replayed from it. */
export const trialEpochs = (t: Trial) => t.config.train.epochs;

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/**
 * Groups compatible trials into packs of at most `packSize` trials, in the trials' order, as even
 * in size as the runs allow. A replay group (the patience values of one run) is never split; one
 * larger than `packSize` is a pack alone. `packSize` may be a function of each compatible group
 * (the cloud sizes CPU and GPU groups differently).
 */
export function planPacks(trials: Trial[], options: { packSize?: number | ((compatible: Trial[]) => number) } = {}): Pack[] {
  const check = (packSize: number) => {
    if (!Number.isInteger(packSize) || packSize < 1) throw new TypeError(`Expected \`packSize\` to be an integer from 1 and up, got ${packSize}`);
    return packSize;
  };
  const fixed = typeof options.packSize === 'function' ? undefined : check(options.packSize ?? DEFAULT_PACK_SIZE);
  const packs: Pack[] = [];
  for (const compatible of groupBy(trials, packKey)) {
    const packSize = fixed ?? check((options.packSize as (compatible: Trial[]) => number)(compatible));
    // Packs of even size: 216 trials at 64 a pack train as 4 × 54, not 63, 63, 63 and a late 27.
    const fill = Math.ceil(compatible.length / Math.ceil(compatible.length / packSize));
    let current: string[] = [];
    for (const replay of groupBy(compatible, replayKey)) {
      if (current.length > 0 && current.length + replay.length > fill) {
        packs.push({ index: packs.length, trialIds: current });
        current = [];
      }
      current.push(...replay.map((t) => t.trialId));
    }
    if (current.length > 0) packs.push({ index: packs.length, trialIds: current });
  }
  return packs;
}

/** Trainings (full runs) the given trials need, patience values of one run counted once. */
export const runsOf = (trials: Trial[]) => groupBy(trials, replayKey);

/**
 * The sweep as workers see it. `dataFiles` maps a csv/images file's sha256 to its bytes in
 * base64 (see readDataFiles), so a worker elsewhere trains on exactly these bytes.
 */
export function buildManifest(grid: Grid, source: string, trials: Trial[], packs: Pack[], dataFiles: Record<string, string> = {}): Manifest {
  return {
    fitgridVersion,
    formatVersion: RESULT_FORMAT,
    sweep: grid.name,
    createdAt: new Date().toISOString(),
    grid,
    gridSource: source,
    dataFiles,
    trials,
    packs,
  };
}
