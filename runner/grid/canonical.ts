import { createHash } from 'node:crypto';
import { RESULT_FORMAT } from '../records/result.ts';
import type { DataSpec, TrialConfig } from '../records/config.ts';

/**
 * JSON with object keys sorted at every depth and undefined members left out, so equal values
 * always give equal text whatever order the YAML wrote them in. Numbers are JSON numbers
 * (shortest round-trip form, -0 as 0); non-finite numbers cannot be ids and throw.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
}

/** A JSON object (not an array, not null): what YAML mappings and partial configs are. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const hash16 = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);

/** A file's place on disk is not part of what is trained on: its content hash is. */
function portableData(data: DataSpec): Omit<DataSpec, 'path'> {
  if (data.kind === 'idx') {
    const hash = (f: { sha256: string }) => ({ sha256: f.sha256 });
    return { ...data, images: hash(data.images), labels: hash(data.labels), val: data.val && { ...data.val, images: hash(data.val.images), labels: hash(data.val.labels) } } as never;
  }
  if (data.kind !== 'csv' && data.kind !== 'images') return data;
  const { path: _path, ...rest } = data;
  return rest;
}

/** The config as ids see it: identical on every machine for the same data bytes. */
export const idConfig = (config: TrialConfig) => ({ ...config, data: portableData(config.data) });

/** Content address of a cell (a config): what seeds and replicates of it share. */
export const cellId = (config: TrialConfig) => hash16({ format: RESULT_FORMAT, config: idConfig(config) });

/** Content address of one trial: a stored result with this id is never trained again. */
export const trialId = (config: TrialConfig, seed: number, replicate: number | null) =>
  hash16({ format: RESULT_FORMAT, config: idConfig(config), seed, replicate });
