import { createHash } from 'node:crypto';
import { parseManifest, type Manifest } from '../records/manifest.ts';
import { RecordError } from '../records/record-error.ts';
import type { Store } from './store.ts';
import { manifestKey, manifestVersionKey } from './keys.ts';
import { UserError } from '../errors.ts';

export type ManifestWrite = 'created' | 'unchanged' | 'replaced';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** Same trials in the same packs: workers of either manifest do identical work. */
// The grid's text counts too: a new description or verdict thresholds change the report, not the trials.
const samePlan = (a: Manifest, b: Manifest) =>
  JSON.stringify([a.trials.map((t) => t.trialId), a.packs, a.gridSource]) === JSON.stringify([b.trials.map((t) => t.trialId), b.packs, b.gridSource]);

/** A stored manifest that cannot be read is the user's to fix: one line, exit 2, never a retry. */
export function parseStoredManifest(bytes: Uint8Array, where: string, format?: number): Manifest {
  try {
    return parseManifest(bytes, where, format);
  } catch (error) {
    if (error instanceof RecordError) throw new UserError(error.message);
    throw error;
  }
}

/**
 * Writes the sweep's manifest. An identical plan is left as it is (its createdAt too); a
 * different one replaces it after the old one is kept under manifests/<sha256>.json. Trials are
 * content-addressed, so a replaced manifest loses no result. Another format version is refused:
 * nothing is written.
 */
export async function writeManifest(store: Store, manifest: Manifest): Promise<ManifestWrite> {
  const key = manifestKey(manifest.sweep);
  const where = `${store.url}/${key}`;
  const old = await store.get(key);
  if (old) {
    const existing = parseStoredManifest(old, where, manifest.formatVersion);
    if (samePlan(existing, manifest)) return 'unchanged';
    await store.put(manifestVersionKey(manifest.sweep, sha256(old)), old, { ifAbsent: true, contentType: 'application/json' });
  }
  await store.put(key, JSON.stringify(manifest), { contentType: 'application/json' });
  return old ? 'replaced' : 'created';
}

/** Reads a sweep's manifest; a missing one or one of another format is a UserError. */
export async function readManifest(store: Store, sweep: string, formatVersion?: number): Promise<Manifest> {
  const key = manifestKey(sweep);
  const where = `${store.url}/${key}`;
  const bytes = await store.get(key);
  if (!bytes) throw new UserError(`no manifest for sweep "${sweep}" in ${store.url} (expected ${key}); run \`fitgrid run\` or \`fitgrid launch\` with its grid first`);
  return parseStoredManifest(bytes, where, formatVersion);
}
