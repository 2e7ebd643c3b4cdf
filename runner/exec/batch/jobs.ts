import type { Store } from '../../store/store.ts';
import type { LaunchRecord } from './submit.ts';
import { jobsKey } from '../../store/keys.ts';

export interface JobsFile {
  sweep: string;
  /** Oldest first; `status` reads the latest. */
  launches: LaunchRecord[];
}

export async function readJobs(store: Store, sweep: string): Promise<JobsFile | undefined> {
  const bytes = await store.get(jobsKey(sweep));
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as JobsFile) : undefined;
}

export async function recordLaunch(store: Store, sweep: string, launch: LaunchRecord): Promise<void> {
  const jobs = (await readJobs(store, sweep)) ?? { sweep, launches: [] };
  jobs.launches.push(launch);
  await store.put(jobsKey(sweep), JSON.stringify(jobs, null, 2), { contentType: 'application/json' });
}
