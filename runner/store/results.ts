import type { TrialResult } from '../train/types.ts';
import { trialKey } from './keys.ts';
import type { Store } from './store.ts';

/**
 * Stored trial results, written and read in one place so that every writer (the worker, the
 * synthetic generator) and every reader (the report, the export) agree on the encoding.
 */

const decoder = new TextDecoder();

/** Writes a result under trials/<trialId>; an existing one is kept (results are never rewritten). */
export async function putTrialResult(store: Store, result: TrialResult): Promise<void> {
  await store.put(trialKey(result.trialId), JSON.stringify(result), { ifAbsent: true, contentType: 'application/json' });
}

/** A trial's stored result, or undefined when it is not stored; one that cannot be decoded throws naming its key. */
export async function getTrialResult(store: Store, trialId: string): Promise<TrialResult | undefined> {
  const key = trialKey(trialId);
  const bytes = await store.get(key);
  return bytes === undefined ? undefined : decodeTrialResult(bytes, key);
}

export function decodeTrialResult(bytes: Uint8Array, key: string): TrialResult {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new Error(`${key} is not a readable trial result (${(error as Error).message})`);
  }
  const r = value as Partial<TrialResult> | null;
  if (!r || typeof r !== 'object' || typeof r.trialId !== 'string' || !r.history || typeof r.status !== 'string') {
    throw new Error(`${key} is not a trial result of a format this fitgrid reads`);
  }
  return r as TrialResult;
}
