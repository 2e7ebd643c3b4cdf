import pLimit from 'p-limit';
import type { Manifest } from '../records/manifest.ts';
import type { Store } from '../store/store.ts';
import { packLogsPrefix, trialIdFromKey, trialKey, trialsPrefix } from '../store/keys.ts';
import { parseEvent } from '../records/events.ts';
import type { TrialStatus } from '../records/result.ts';

export type StoreCounts = Record<TrialStatus | 'missing', number> & { total: number };

/** Trial statuses as the pack logs recorded them (small files, one per pack). */
async function loggedStatuses(store: Store, sweep: string): Promise<Map<string, TrialStatus>> {
  const statuses = new Map<string, TrialStatus>();
  for (const key of await store.list(packLogsPrefix(sweep))) {
    for (const line of new TextDecoder().decode(await store.get(key)).split('\n')) {
      const event = parseEvent(line);
      if (event?.event === 'trial') statuses.set(event.trialId, event.status);
    }
  }
  return statuses;
}

/**
 * The sweep's trials in the store by status: one list, the pack logs, then a read of each
 * stored trial the logs do not mention (results are large: reading all would be slow on S3).
 */
export async function storeStatus(store: Store, manifest: Manifest): Promise<StoreCounts> {
  const present = new Set((await store.list(trialsPrefix)).map(trialIdFromKey));
  const logged = await loggedStatuses(store, manifest.sweep);
  const counts: StoreCounts = { ok: 0, failed: 0, diverged: 0, missing: 0, total: manifest.trials.length };
  const limit = pLimit(16);
  await Promise.all(
    manifest.trials.map((t) =>
      limit(async () => {
        if (!present.has(t.trialId)) return void (counts.missing += 1);
        const known = logged.get(t.trialId);
        if (known) return void (counts[known] += 1);
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
