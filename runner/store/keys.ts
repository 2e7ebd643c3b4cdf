import { UserError } from '../errors.ts';

/** The store layout, in one place. */
export const trialsPrefix = 'trials/';
export const trialKey = (trialId: string) => `${trialsPrefix}${trialId}.json`;
/**
 * A sweep name as a grid file's `name` allows it. Every sweep key is built from one, so a name
 * such as `../..` typed after any command (or set in FITGRID_SWEEP) stops here, before any I/O.
 */
function checkSweepName(sweep: string): string {
  if (typeof sweep !== 'string' || !/^[a-z0-9-]+$/.test(sweep)) {
    throw new UserError(`Expected the sweep name to be lowercase letters, digits and dashes (a grid file's \`name\`), got ${JSON.stringify(sweep)}`);
  }
  return sweep;
}
export const sweepPrefix = (sweep: string) => `sweeps/${checkSweepName(sweep)}/`;
export const manifestKey = (sweep: string) => `${sweepPrefix(sweep)}manifest.json`;
export const packLogsPrefix = (sweep: string) => `${sweepPrefix(sweep)}logs/`;
export const packLogKey = (sweep: string, pack: number) => `${packLogsPrefix(sweep)}pack-${pack}.jsonl`;
/** An earlier manifest of a sweep whose grid changed, by the hash of its bytes. */
export const manifestVersionKey = (sweep: string, hash: string) => `${sweepPrefix(sweep)}manifests/${hash}.json`;
/** The AWS Batch jobs of every launch of a sweep, for `fitgrid status`. */
export const jobsKey = (sweep: string) => `${sweepPrefix(sweep)}jobs.json`;
/** The pack indices one launch's array children map to, when only some packs were missing. */
export const packListKey = (sweep: string, id: string) => `${sweepPrefix(sweep)}launches/${id}.json`;
export const summaryKey = (sweep: string) => `${sweepPrefix(sweep)}summary.json`;
export const siteKey = (sweep: string) => `${sweepPrefix(sweep)}site/`;
/** A large data file (idx), stored once by content hash and shared by every sweep that reads it. */
export const dataKey = (sha256: string) => `data/${sha256}`;
/** A cell's aggregates from the last report, keyed by the trials they were made from. */
export const cellCacheKey = (sweep: string, cellId: string) => `${sweepPrefix(sweep)}cache/cells/${cellId}.json`;
export const trialIdFromKey = (key: string) =>
  key.startsWith(trialsPrefix) && key.endsWith('.json') ? key.slice(trialsPrefix.length, -'.json'.length) : undefined;
/** Present in a store that holds synthetic results (`fitgrid synth`), which must never pass for trained ones. */
export const syntheticMarkerKey = 'synthetic.json';
