/**
 * A sweep as two tidy tables for analysts (pandas, DuckDB, polars): one row per trial, one row
 * per trial-epoch. Pure: the columns follow from the manifest alone (so a file's schema is known
 * before its first row), a row from one trial and its result.
 */
import type { Augmentation, Trial } from '../records/config.ts';
import type { Manifest } from '../records/manifest.ts';
import type { TrialResult } from '../records/result.ts';
import { augmentationLabel, modelDescription } from '../grid/labels.ts';

export type ColumnType = 'string' | 'double' | 'int32' | 'int64';
export interface Column { name: string; type: ColumnType }
export type Cell = string | number | null;

/** A stored result, or why there is none: not stored yet, or stored but unreadable. */
export type Outcome = { result: TrialResult } | { missing: true } | { unreadable: string };

export interface TrialTable {
  columns: Column[];
  row(trial: Trial, outcome: Outcome): Cell[];
}

const augmentationOptions = ['jitter', 'scale', 'rotation', 'shift', 'zoom', 'shear', 'flip'] as const satisfies readonly (keyof Augmentation)[];

/**
 * The trials table: ids, each axis value as its own column (dropout as a number, or as text when
 * some cell sets a rate per layer; augmentation as a label plus one column per option the sweep
 * uses), the setup, the seed, then how the trial went and its final metrics at the kept weights.
 */
export function trialTable(manifest: Manifest): TrialTable {
  const trials = manifest.trials;
  const dropoutAsText = trials.some((t) => Array.isArray(t.config.dropout));
  const options = augmentationOptions.filter((o) => trials.some((t) => t.config.augmentation?.[o] !== undefined));
  const columns: Column[] = [
    { name: 'sweep', type: 'string' }, { name: 'trialId', type: 'string' }, { name: 'cellId', type: 'string' },
    { name: 'l2', type: 'double' }, { name: 'dropout', type: dropoutAsText ? 'string' : 'double' },
    { name: 'augmentation', type: 'string' },
    ...options.map((o): Column => ({ name: `augmentation_${o}`, type: 'double' })),
    { name: 'patience', type: 'int32' },
    { name: 'model', type: 'string' }, { name: 'epochs', type: 'int32' },
    { name: 'seed', type: 'int64' }, { name: 'replicate', type: 'int32' },
    { name: 'status', type: 'string' }, { name: 'error', type: 'string' },
    { name: 'engine', type: 'string' }, { name: 'backend', type: 'string' }, { name: 'device', type: 'string' },
    { name: 'seconds', type: 'double' }, { name: 'stoppedEpoch', type: 'int32' }, { name: 'bestEpoch', type: 'int32' },
    { name: 'loss', type: 'double' }, { name: 'acc', type: 'double' }, { name: 'val_loss', type: 'double' }, { name: 'val_acc', type: 'double' },
  ];
  return {
    columns,
    row(trial, outcome) {
      const c = trial.config;
      const r = 'result' in outcome ? outcome.result : undefined;
      const status = r ? r.status : 'missing' in outcome ? 'missing' : 'unreadable';
      const error = r ? (r.error ?? null) : 'unreadable' in outcome ? outcome.unreadable : null;
      const dropout = dropoutAsText ? JSON.stringify(c.dropout) : (c.dropout as number);
      const option = (o: (typeof options)[number]) => {
        const v = c.augmentation?.[o];
        return v === undefined ? null : Number(v);
      };
      return [
        manifest.sweep, trial.trialId, trial.cellId,
        c.l2, dropout, augmentationLabel(c.augmentation), ...options.map(option), c.patience,
        modelDescription(c.model), c.train.epochs, trial.seed, trial.replicate,
        status, error, r?.engine ?? null, r?.backend ?? null, r?.device ?? null,
        r ? r.seconds : null, r ? r.stoppedEpoch : null, r ? r.bestEpoch : null,
        finite(r?.final.loss), finite(r?.final.acc), finite(r?.final.val_loss), finite(r?.final.val_acc),
      ];
    },
  };
}

export const epochColumns: Column[] = [
  { name: 'trialId', type: 'string' }, { name: 'epoch', type: 'int32' },
  { name: 'loss', type: 'double' }, { name: 'acc', type: 'double' },
  { name: 'val_loss', type: 'double' }, { name: 'val_acc', type: 'double' },
];

/** One row per epoch of a result's history (1-based epochs); a trial that failed before training has none. */
export function epochRows(result: TrialResult): Cell[][] {
  const h = result.history;
  return h.loss.map((loss, e) => [result.trialId, e + 1, finite(loss), finite(h.acc[e]), finite(h.val_loss[e]), finite(h.val_acc[e])]);
}

/** NaN and infinities (null in stored JSON) become a missing value. */
function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
