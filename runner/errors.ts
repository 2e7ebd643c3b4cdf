/** Where a user mistake is: a grid file line and field, or a CSV row and column. */
export interface Place {
  file?: string;
  line?: number;
  field?: string;
  row?: number;
  column?: string;
}

/**
 * A mistake the user can fix: bad input, a missing file, an unwritable store. The CLI prints
 * its one-line message (no stack) and exits with `exitCode` (2 for bad input, 1 otherwise).
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly place: Place = {}, readonly exitCode = 2) {
    super(formatPlace(place) + message);
  }
}

/** Stop the CLI with this code after a message was already printed. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** A trainer failure tied to one trial's config: recorded as a failed result, never retried. */
export class NonRetriableError extends Error {
  override readonly name = 'NonRetriableError';
}

function formatPlace(p: Place): string {
  const where: string[] = [];
  if (p.file) where.push(p.line ? `${p.file}:${p.line}` : p.file);
  if (p.row !== undefined) where.push(`row ${p.row}`);
  if (p.column !== undefined) where.push(`column ${JSON.stringify(p.column)}`);
  if (p.field) where.push(`field \`${p.field}\``);
  return where.length ? where.join(': ') + ': ' : '';
}

/** The first line of an error's message (or of what was thrown): enough for a log line or a stored result. */
export function firstLine(error: unknown): string {
  return String((error as Error | undefined)?.message ?? error).split('\n')[0];
}
