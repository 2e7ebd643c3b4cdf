/**
 * A stored record (manifest, result, summary) that cannot be read: not JSON, truncated, not the
 * shape it should have, or of a format this fitgrid does not read. `where` names the file or
 * key, so the one line a user sees says which record to look at.
 */
export class RecordError extends Error {
  override name = 'RecordError';
  constructor(message: string, readonly where?: string) {
    super(where ? `${where}: ${message}` : message);
  }
}
