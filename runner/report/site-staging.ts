import { rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The folders a site build works in (`.fitgrid-site-<pid>-<random>` in the project folder).
 * A build that is killed leaves its folder behind: each folder names its process, so the next
 * build removes those whose process is gone; an exit or a Ctrl-C removes this process's own.
 */
const PREFIX = '.fitgrid-site-';
/** Folders from before the pid was in the name are stale once this old. */
const UNNAMED_STALE_MS = 24 * 3600 * 1000;

const mine = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the staging folders in `root` whose process has ended; returns their names. */
export async function removeStaleStaging(root: string, alive: (pid: number) => boolean = pidAlive): Promise<string[]> {
  const names = (await readdir(root).catch(() => [] as string[])).filter((n) => n.startsWith(PREFIX));
  const stale: string[] = [];
  for (const name of names) {
    const pid = /^\.fitgrid-site-(\d+)-/.exec(name)?.[1];
    const gone = pid !== undefined
      ? !alive(Number(pid))
      : Date.now() - ((await stat(join(root, name)).catch(() => undefined))?.mtimeMs ?? Date.now()) > UNNAMED_STALE_MS;
    if (!gone || mine.has(join(root, name))) continue;
    await rm(join(root, name), { recursive: true, force: true });
    stale.push(name);
  }
  return stale;
}

/** A new staging folder in `root`, after clearing stale ones; removed on exit if still there. */
export async function makeStaging(root: string): Promise<string> {
  await removeStaleStaging(root);
  const dir = await mkdtemp(join(root, `${PREFIX}${process.pid}-`));
  if (mine.size === 0) watchExit();
  mine.add(dir);
  return dir;
}

/** Removes a staging folder made by makeStaging. */
export async function dropStaging(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  mine.delete(dir);
  if (mine.size === 0) unwatchExit();
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function removeMine() {
  for (const dir of mine) rmSync(dir, { recursive: true, force: true });
  mine.clear();
}

/**
 * While a build runs, a signal first removes its folders. When nothing else listens for that
 * signal, the process then dies of it as it would have (exit code 128 + n for the shell).
 */
function onSignal(signal: NodeJS.Signals) {
  removeMine();
  unwatchExit();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function watchExit() {
  process.on('exit', removeMine);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unwatchExit() {
  process.off('exit', removeMine);
  for (const s of SIGNALS) process.off(s, onSignal);
}
