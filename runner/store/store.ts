/**
 * A byte store addressed by `/`-separated keys, identical in layout under a folder and under
 * `s3://bucket/prefix` (see keys.ts for the layout).
 *
 * Contract:
 * - `put` is atomic: a reader sees the old object, or the whole new one, never a part.
 *   It overwrites unless `ifAbsent` is set, in which case an existing key is left untouched.
 * - `get` returns `undefined` for a missing key; any other failure throws.
 * - `list(prefix)` returns every key starting with `prefix`, sorted, no matter how many.
 * - `listStamped(prefix)` returns the same keys, each with a stamp that changes whenever its
 *   object is written again (size, modification time and inode in a folder, size and ETag on S3).
 * - Keys are relative, never contain `..`, `\`, a leading `/` or empty segments; others throw.
 */
export interface Store {
  /** `file:///abs/path` or `s3://bucket/prefix`, for messages and manifests. */
  readonly url: string;
  put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  exists(key: string): Promise<boolean>;
  list(prefix: string): Promise<string[]>;
  listStamped(prefix: string): Promise<Map<string, string>>;
}

export interface PutOptions {
  contentType?: string;
  ifAbsent?: boolean;
  /**
   * false: the write stays atomic but may be lost in a crash (a folder store skips its fsyncs),
   * for what can be made again, such as synthetic results. Stores that are durable anyway ignore it.
   */
  durable?: boolean;
}
