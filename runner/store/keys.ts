/** The store layout, in one place. */
export const trialsPrefix = 'trials/';
export const trialKey = (trialId: string) => `${trialsPrefix}${trialId}.json`;
export const sweepPrefix = (sweep: string) => `sweeps/${sweep}/`;
export const manifestKey = (sweep: string) => `${sweepPrefix(sweep)}manifest.json`;
export const packLogKey = (sweep: string, pack: number) => `${sweepPrefix(sweep)}logs/pack-${pack}.jsonl`;
export const summaryKey = (sweep: string) => `${sweepPrefix(sweep)}summary.json`;
export const siteKey = (sweep: string) => `${sweepPrefix(sweep)}site/`;
/** A cell's aggregates from the last report, keyed by the trials they were made from. */
export const cellCacheKey = (sweep: string, cellId: string) => `${sweepPrefix(sweep)}cache/cells/${cellId}.json`;
export const trialIdFromKey = (key: string) =>
  key.startsWith(trialsPrefix) && key.endsWith('.json') ? key.slice(trialsPrefix.length, -'.json'.length) : undefined;
/** Present in a store that holds synthetic results (`fitgrid synth`), which must never pass for trained ones. */
export const syntheticMarkerKey = 'synthetic.json';
