import { countCells, expandGrid } from '../grid/expand.ts';
import { loadGrid } from '../grid/load.ts';
import { checkGridData } from '../data/check-grid.ts';
import { terminal, type Output } from './output.ts';

export interface ValidateOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  grid: string;
  /** `--data-root`: folders data files may lie in. */
  dataRoot?: string[];
}

export interface ValidateResult {
  trials: number;
  cells: number;
}

/** `fitgrid validate`: loads and expands a grid; prints `ok: N trials in M cells` or fails with the first mistake. */
export async function validate(options: ValidateOptions): Promise<ValidateResult> {
  const output = options.output ?? terminal;
  const grid = await loadGrid(options.grid, { dataRoots: options.dataRoot ?? [] });
  const trials = expandGrid(grid);
  await checkGridData(grid, trials);
  const result = { trials: trials.length, cells: countCells(trials) };
  output.print(`ok: ${result.trials} trials in ${result.cells} cells\n`);
  return result;
}
