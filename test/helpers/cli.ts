import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'bin/fitgrid.js');

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Starts `fitgrid …` as a user would, on the wasm backend unless told otherwise. */
export function start(args: string[], env: Record<string, string> = {}, options: { detached?: boolean } = {}): ChildProcess {
  return spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, FITGRID_BACKEND: 'wasm', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
}

export function finish(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export const cli = (args: string[], env: Record<string, string> = {}) => finish(start(args, env));

/** Every stored trial result of a folder store: file name → bytes as text. */
export async function trialFiles(store: string): Promise<Map<string, string>> {
  const dir = path.join(store, 'trials');
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = new Map<string, string>();
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) files.set(name, await readFile(path.join(dir, name), 'utf8'));
  return files;
}
