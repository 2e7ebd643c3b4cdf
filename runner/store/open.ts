import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { FolderStore } from './folder.ts';
import type { Store } from './store.ts';

/** Where results go when no `--store` is given: a folder beside the user's grid files. */
export const DEFAULT_STORE = './fitgrid-runs';

/**
 * A store from what a user typed after `--store`: a folder path or `file://` URL gives a
 * folder store (created on first write), `s3://bucket/prefix` an S3 store. The S3 module is
 * imported only when asked for, so local commands never load the AWS SDK.
 */
export async function openStore(url: string): Promise<Store> {
  if (typeof url !== 'string' || url.trim() === '') throw new UserError('Expected `--store` to be a folder or s3://bucket/prefix, got nothing');
  if (/^s3:\/\//i.test(url)) {
    const { S3Store, parseS3Url } = await import('./s3.ts');
    return new S3Store(parseS3Url(url));
  }
  if (/^file:/i.test(url)) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (error) {
      throw new UserError(`Expected \`--store\` to be a valid file:// URL, got ${url} (${(error as Error).message})`);
    }
    return new FolderStore(dir);
  }
  // Anything else with a scheme (http://, gs://) is a mistake, not a folder named "http:".
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(url)) {
    throw new UserError(`Expected \`--store\` to be a folder or s3://bucket/prefix, got ${url}`);
  }
  return new FolderStore(path.resolve(url));
}

/** The folder behind a store, when it has one (the report builds its site there). */
export function localRoot(store: Store): string | undefined {
  return store instanceof FolderStore ? store.root : undefined;
}
