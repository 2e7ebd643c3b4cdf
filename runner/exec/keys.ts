import { sweepPrefix } from '../store/keys.ts';

/** Executor-owned keys, beside the layout in store/keys.ts (same prefixes, nothing overlapping). */
export const manifestVersionKey = (sweep: string, hash: string) => `${sweepPrefix(sweep)}manifests/${hash}.json`;
/** The AWS Batch jobs of every launch of a sweep, for `fitgrid status`. */
export const jobsKey = (sweep: string) => `${sweepPrefix(sweep)}jobs.json`;
/** The pack indices one launch's array children map to, when only some packs were missing. */
export const packListKey = (sweep: string, id: string) => `${sweepPrefix(sweep)}launches/${id}.json`;
