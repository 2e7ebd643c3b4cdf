import { canonicalJson, cellId, isPlainObject, trialId } from './canonical.ts';
import type { Grid, PartialConfig, Trial, TrialConfig } from '../records/config.ts';


/**
 * Whether `value` has everything `partial` names: mappings match by subset at any depth,
 * everything else (lists included) by equality.
 */
export function matchesPartial(value: unknown, partial: unknown): boolean {
  if (isPlainObject(partial) && isPlainObject(value)) {
    return Object.entries(partial).every(([k, v]) => v === undefined || matchesPartial(value[k], v));
  }
  return canonicalJson(value ?? null) === canonicalJson(partial ?? null);
}

/** The cartesian product of the axes, in the file's order (l2 outermost, patience innermost). */
function axisConfigs(grid: Grid): TrialConfig[] {
  const { data, model, train, axes } = grid;
  const configs: TrialConfig[] = [];
  for (const l2 of axes.l2)
    for (const dropout of axes.dropout)
      for (const augmentation of axes.augmentation)
        for (const patience of axes.patience) configs.push({ data, model, train, l2, dropout, augmentation, patience });
  return configs;
}

/**
 * An include over the base config. A loaded grid's includes hold whole sections (load.ts merged
 * and checked them); axis values it leaves out take each axis' first value.
 */
function includeConfig(grid: Grid, p: PartialConfig): TrialConfig {
  const pick = <K extends keyof TrialConfig>(key: K, fallback: TrialConfig[K]) =>
    (p[key] === undefined ? fallback : p[key]) as TrialConfig[K];
  return {
    data: pick('data', grid.data),
    model: pick('model', grid.model),
    train: pick('train', grid.train),
    l2: pick('l2', grid.axes.l2[0]),
    dropout: pick('dropout', grid.axes.dropout[0]),
    augmentation: pick('augmentation', grid.axes.augmentation[0]!),
    patience: pick('patience', grid.axes.patience[0]!),
  };
}

/**
 * Every trial of a grid: (axes product − exclude + include) × seeds × bootstrap replicates, in a
 * deterministic order; a trial reachable twice (an include equal to an axis cell) appears once.
 */
export function expandGrid(grid: Grid): Trial[] {
  const configs = [
    ...axisConfigs(grid).filter((c) => !grid.exclude.some((p) => matchesPartial(c, p))),
    ...grid.include.map((p) => includeConfig(grid, p)),
  ];
  const replicates = grid.bootstrap > 0 ? Array.from({ length: grid.bootstrap }, (_, i) => i) : [null];
  const trials = new Map<string, Trial>();
  for (const config of configs) {
    const cell = cellId(config);
    for (const seed of grid.seeds) {
      for (const replicate of replicates) {
        const id = trialId(config, seed, replicate);
        if (!trials.has(id)) trials.set(id, { trialId: id, cellId: cell, config, seed, replicate });
      }
    }
  }
  return [...trials.values()];
}

/** Distinct cells of a list of trials, in first-seen order. */
export const countCells = (trials: Trial[]) => new Set(trials.map((t) => t.cellId)).size;
