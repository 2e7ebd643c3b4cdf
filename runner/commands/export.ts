import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { DEFAULT_STORE } from '../store/open.ts';
import { UserError } from '../errors.ts';
import type { Outcome } from '../report/tidy.ts';
import type { TableFile, TableFormat } from '../report/table-files.ts';
import { terminal, type Output } from './output.ts';

export interface ExportOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  sweep: string;
  store?: string;
  out: string;
  format?: TableFormat;
  /** Results read at once. */
  concurrency?: number;
}

export interface ExportSummary {
  files: { trials: string; epochs: string };
  trials: number;
  epochs: number;
  statuses: Record<string, number>;
}

/** Trials read per step: memory holds this many results and their epoch rows, whatever the sweep's size. */
const step = 256;

/**
 * `fitgrid export`: a sweep's trials and per-epoch histories as two tidy tables (Parquet or CSV)
 * for pandas, DuckDB or polars. Results are read through the store's result reader with bounded
 * concurrency and appended in manifest order; trials not stored yet, or unreadable, still get a
 * row saying so. Both files appear only once complete.
 */
export async function exportSweep(options: ExportOptions): Promise<ExportSummary> {
  const output = options.output ?? terminal;
  const format = options.format ?? 'parquet';
  const [{ openStore }, { readManifest }, { getTrialResult }, { ResultFormatError }, tidy, { openTable }, { fitgridVersion }] = await Promise.all([
    import('../store/open.ts'), import('../store/manifest.ts'), import('../store/results.ts'), import('../records/result-codec.ts'),
    import('../report/tidy.ts'), import('../report/table-files.ts'), import('../version.ts'),
  ]);
  const store = await openStore(options.store ?? DEFAULT_STORE);
  const manifest = await readManifest(store, options.sweep);
  const out = path.resolve(options.out);
  try {
    await mkdir(out, { recursive: true });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new UserError(`cannot write to --out ${out} (${e.code ?? e.message})`);
  }
  const files = { trials: path.join(out, `trials.${format}`), epochs: path.join(out, `epochs.${format}`) };
  const metadata = { 'fitgrid.sweep': manifest.sweep, 'fitgrid.version': fitgridVersion, 'fitgrid.store': store.url };
  const trialTable = tidy.trialTable(manifest);
  const opened: TableFile[] = [];
  const open = async (file: string, columns: Parameters<typeof openTable>[2], rowGroupSize: number) => {
    try {
      const table = await openTable(file, format, columns, { rowGroupSize, metadata });
      opened.push(table);
      return table;
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new UserError(`cannot write to --out ${out} (${e.code ?? e.message})`);
    }
  };

  const summary: ExportSummary = { files, trials: 0, epochs: 0, statuses: {} };
  try {
    const trialsFile = await open(files.trials, trialTable.columns, 10_000);
    const epochsFile = await open(files.epochs, tidy.epochColumns, 100_000);
    const limit = pLimit(options.concurrency ?? 16);
    const read = async (trialId: string): Promise<Outcome> => {
      try {
        const result = await getTrialResult(store, trialId);
        return result ? { result } : { missing: true };
      } catch (error) {
        // one bad object is a row saying so; a store that cannot be reached stops the export
        if (error instanceof ResultFormatError) return { unreadable: error.message };
        throw error;
      }
    };
    for (let i = 0; i < manifest.trials.length; i += step) {
      const trials = manifest.trials.slice(i, i + step);
      const outcomes = await Promise.all(trials.map((t) => limit(() => read(t.trialId))));
      const rows = trials.map((t, k) => trialTable.row(t, outcomes[k]));
      for (const row of rows) {
        const status = String(row[trialTable.columns.findIndex((c) => c.name === 'status')]);
        summary.statuses[status] = (summary.statuses[status] ?? 0) + 1;
      }
      await trialsFile.append(rows);
      for (const o of outcomes) {
        if (!('result' in o)) continue;
        const epochs = tidy.epochRows(o.result);
        summary.epochs += epochs.length;
        await epochsFile.append(epochs);
      }
      summary.trials += trials.length;
    }
    await trialsFile.close();
    await epochsFile.close();
  } catch (error) {
    await Promise.all(opened.map((t) => t.abort()));
    throw error;
  }
  const counts = Object.entries(summary.statuses).map(([s, n]) => `${n} ${s}`).join(', ');
  output.print(`${summary.trials} trials (${counts}) and ${summary.epochs} epochs of sweep "${manifest.sweep}" exported\n${files.trials}\n${files.epochs}\n`);
  return summary;
}
