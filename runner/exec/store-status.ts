import pLimit from 'p-limit';
import type { Manifest } from '../grid/types.ts';
import type { Store } from '../store/store.ts';
import { trialIdFromKey, trialKey, trialsPrefix } from '../store/keys.ts';
import type { TrialStatus } from '../train/types.ts';

export type StoreCounts = Record<TrialStatus | 'missing', number> & { total: number };

/** The sweep's trials in the store by status (one list, then one read per stored trial, 16 at a time). */
export async function storeStatus(store: Store, manifest: Manifest): Promise<StoreCounts> {
  const present = new Set((await store.list(trialsPrefix)).map(trialIdFromKey));
  const counts: StoreCounts = { ok: 0, failed: 0, diverged: 0, missing: 0, total: manifest.trials.length };
  const limit = pLimit(16);
  await Promise.all(
    manifest.trials.map((t) =>
      limit(async () => {
        if (!present.has(t.trialId)) return void (counts.missing += 1);
        const bytes = await store.get(trialKey(t.trialId));
        let status: TrialStatus = 'failed';
        try {
          status = (JSON.parse(new TextDecoder().decode(bytes)) as { status: TrialStatus }).status ?? 'failed';
        } catch {
          // An unreadable result counts as failed: the report will say which.
        }
        counts[status] = (counts[status] ?? 0) + 1;
      }),
    ),
  );
  return counts;
}
