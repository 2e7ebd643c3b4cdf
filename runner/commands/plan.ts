import { augmentationLabel, dropoutLabel } from '../grid/labels.ts';
import { planCells, planTotals, type CellPlan, type PlanTotals } from '../grid/cells.ts';
import { expandGrid } from '../grid/expand.ts';
import { loadGrid } from '../grid/load.ts';
import { defaultPackSize, planPacks } from '../grid/plan.ts';
import { availableParallelism } from 'node:os';
import { trialIdFromKey, trialsPrefix } from '../store/keys.ts';
import { UserError } from '../errors.ts';
import { loadCalibration } from '../exec/batch/costs.ts';
import { planCloud, summarizeCloud, type QueueSummary } from '../exec/batch/routing.ts';
import { DEFAULT_CPU_VCPUS, DEFAULT_TARGET_MINUTES, GPU_PACK_BYTES } from './launch.ts';
import { terminal, type Output } from './output.ts';

export interface PlanOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  grid: string;
  store: string;
  packSize?: number;
  /** The AWS Batch part: how long a child should train, a CPU child's vCPUs, the calibration. */
  targetMinutes?: number;
  cpuVcpus?: number;
  calibration?: string;
  /** `--data-root`: folders data files may lie in. */
  dataRoot?: string[];
}

export interface PlanResult {
  cells: CellPlan[];
  totals: PlanTotals;
  cloud: QueueSummary[];
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(header: string[], rows: string[][], numeric: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * `fitgrid plan`: the grid's cells, what the store already holds and the trial-epochs left.
 * Reads the store's trial list once (one listing, not a request per trial).
 */
export async function plan(options: PlanOptions): Promise<PlanResult> {
  const output = options.output ?? terminal;
  const grid = await loadGrid(options.grid, { dataRoots: options.dataRoot ?? [] });
  const trials = expandGrid(grid);
  // The packs `fitgrid run` would make with its default of one worker per core.
  const packs = planPacks(trials, { packSize: options.packSize ?? defaultPackSize(trials.length, availableParallelism()) });
  const { openStore } = await import('../store/open.ts');
  const store = await openStore(options.store);
  const stored = new Set((await store.list(trialsPrefix)).map(trialIdFromKey).filter((id): id is string => id !== undefined));

  const cells = planCells(grid, trials, stored);
  const totals = planTotals(trials, packs.length, stored);
  const showChanges = cells.some((c) => c.changes.length > 0);
  const header = ['cell', 'l2', 'dropout', 'augmentation', 'patience', ...(showChanges ? ['changes'] : []), 'trials', 'stored', 'trial-epochs left'];
  const rows = cells.map((c) => [
    c.cellId,
    String(c.config.l2),
    dropoutLabel(c.config.dropout),
    augmentationLabel(c.config.augmentation),
    String(c.config.patience ?? '-'),
    ...(showChanges ? [c.changes.join(' ') || '-'] : []),
    String(c.trials),
    String(c.stored),
    n(c.epochsLeft),
  ]);
  const numeric = header.map((h) => ['trials', 'stored', 'trial-epochs left'].includes(h));
  output.print(
    `${[grid.name, grid.description.trim()].filter(Boolean).join(': ')}\nstore: ${store.url}\n\n` +
      formatTable(header, rows, numeric) +
      `\ntotal: ${n(totals.trials)} trials in ${n(totals.cells)} cells, ${n(totals.packs)} packs; ` +
      `${n(totals.stored)} stored; ${n(totals.trialEpochsLeft)} trial-epochs left ` +
      `(${n(totals.epochsToTrain)} to train: patience values replay one run)\n`,
  );
  const cloud = await cloudSection(grid, trials, stored, options, output);
  return { cells, totals, cloud };
}

const duration = (seconds: number) => (seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min`);

/** What `fitgrid launch` would submit: packs per queue, children, estimated child time. */
async function cloudSection(grid: Awaited<ReturnType<typeof loadGrid>>, trials: ReturnType<typeof expandGrid>, stored: Set<string>, options: PlanOptions, output: Output): Promise<QueueSummary[]> {
  if (options.targetMinutes !== undefined && !(options.targetMinutes > 0))
    throw new UserError(`Expected \`--target-minutes\` to be a number above 0, got ${options.targetMinutes}`, { field: 'target-minutes' });
  const targetMinutes = options.targetMinutes ?? DEFAULT_TARGET_MINUTES;
  const cpuVcpus = options.cpuVcpus ?? DEFAULT_CPU_VCPUS;
  const { calibration, file } = await loadCalibration(options.calibration);
  const cloud = await planCloud(grid, trials, { calibration, targetSeconds: targetMinutes * 60, cpuVcpus, gpuBytes: GPU_PACK_BYTES, packSize: options.packSize });
  const queues = summarizeCloud(cloud, trials, stored, cpuVcpus);
  const rows = queues.map((q) => [
    q.placement === 'cpu' ? `CPU (Fargate, ${cpuVcpus} vCPUs)` : 'GPU (EC2)',
    q.engines.join(', '),
    n(q.trials),
    n(q.packs),
    n(q.children),
    q.children > 0 ? `~${duration(q.longestSeconds)}` : '-',
    q.figures.includes('assumed') ? 'assumed' : 'measured',
  ]);
  output.print(
    `\non AWS Batch (\`fitgrid launch\`: packs sized for children of ~${targetMinutes} min; speeds from ${file}):\n` +
      formatTable(['queue', 'engine', 'trials', 'packs', 'children', 'longest child', 'speed'], rows, [false, false, true, true, true, true, false]) +
      'estimates: training time only; container start and queueing come on top\n',
  );
  return queues;
}
