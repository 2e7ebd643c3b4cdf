import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SchemaElement } from 'hyparquet';
import type { Cell, Column, ColumnType } from './tidy.ts';

export type TableFormat = 'parquet' | 'csv';

/**
 * A table written row by row to a file with bounded memory: rows are buffered up to one row
 * group (Parquet) or streamed (CSV). The file appears under its name only when `close` succeeds
 * (written beside it, then renamed); `abort` removes the partial file.
 */
export interface TableFile {
  append(rows: Cell[][]): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export interface TableOptions {
  /** Rows per Parquet row group: memory holds about this many rows. */
  rowGroupSize?: number;
  /** Key-value metadata in the Parquet footer. */
  metadata?: Record<string, string>;
}

export async function openTable(file: string, format: TableFormat, columns: Column[], options: TableOptions = {}): Promise<TableFile> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const table = format === 'parquet' ? await parquetTable(tmp, columns, options) : await csvTable(tmp, columns);
  return {
    append: (rows) => table.append(rows),
    close: async () => {
      await table.close();
      await rename(tmp, file);
    },
    abort: async () => {
      await table.close().catch(() => {});
      await rm(tmp, { force: true });
    },
  };
}

const parquetTypes: Record<ColumnType, Omit<SchemaElement, 'name'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  double: { type: 'DOUBLE' },
  int32: { type: 'INT32' },
  int64: { type: 'INT64' },
};

/** Parquet through hyparquet-writer: one row group per `rowGroupSize` rows, every column nullable. */
async function parquetTable(file: string, columns: Column[], options: TableOptions): Promise<Omit<TableFile, 'abort'>> {
  const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
  const rowGroupSize = options.rowGroupSize ?? 100_000;
  const schema: SchemaElement[] = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c): SchemaElement => ({ name: c.name, ...parquetTypes[c.type], repetition_type: 'OPTIONAL' })),
  ];
  const writer = new ParquetWriter({
    writer: fileWriter(file),
    schema,
    kvMetadata: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    createdBy: 'fitgrid export (hyparquet-writer)',
  });
  let buffered: Cell[][] = [];
  const flush = async () => {
    if (!buffered.length) return;
    const rows = buffered;
    buffered = [];
    const columnData = columns.map((c, j) => ({
      name: c.name,
      data: rows.map((r) => (c.type === 'int64' && r[j] !== null ? BigInt(r[j] as number) : r[j])),
    }));
    await writer.write({ columnData, rowGroupSize: rows.length });
  };
  let closed = false;
  return {
    async append(rows) {
      for (const r of rows) {
        buffered.push(r);
        if (buffered.length >= rowGroupSize) await flush();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await flush();
      await writer.finish();
    },
  };
}

/** RFC 4180 CSV with a header row; a missing value is an empty field, numbers in JavaScript's shortest round-trip form. */
async function csvTable(file: string, columns: Column[]): Promise<Omit<TableFile, 'abort'>> {
  const out: WriteStream = createWriteStream(file, { flags: 'wx' });
  await new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject));
  let failure: Error | undefined;
  out.on('error', (e) => (failure ??= e));
  const write = async (text: string) => {
    if (failure) throw failure;
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  await write(columns.map((c) => csvField(c.name)).join(',') + '\n');
  let closed = false;
  return {
    async append(rows) {
      await write(rows.map((r) => r.map(csvField).join(',')).join('\n') + (rows.length ? '\n' : ''));
    },
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      if (failure) throw failure;
    },
  };
}

function csvField(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
