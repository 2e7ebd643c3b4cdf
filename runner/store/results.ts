import type { TrialResult } from '../records/result.ts';
import { trialKey } from './keys.ts';
import { readTrialResult, ResultFormatError } from '../records/result-codec.ts';
import type { Store } from './store.ts';

/**
 * A trial result in a store, by id: the worker's write (encodeTrialResult, `ifAbsent`) and the
 * codec's reader, for the commands that read results one at a time (export, the report benchmark).
 */

/**
 * A trial's stored result, or undefined when it is not stored. One that cannot be read
 * (truncated, unknown encoding) throws the codec's ResultFormatError, its message naming the key.
 */
export async function getTrialResult(store: Store, trialId: string): Promise<TrialResult | undefined> {
  const key = trialKey(trialId);
  const bytes = await store.get(key);
  if (bytes === undefined) return undefined;
  try {
    return readTrialResult(bytes);
  } catch (error) {
    if (error instanceof ResultFormatError) throw new ResultFormatError(`${key}: ${error.message}`);
    throw error;
  }
}
