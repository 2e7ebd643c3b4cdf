import { realpath } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where a grid file may read data from. A grid file can come from someone else, and its data
 * files travel into the manifest (and to S3 with `launch`): without a rule, `data.path:
 * ~/.aws/credentials` would upload the user's keys. Data must lie under the grid file's own
 * folder, under Debian's read-only public datasets, or under a folder the user names with
 * `--data-root DIR` or in FITGRID_DATA_ROOTS (separated like PATH). Real paths are compared,
 * so a symlink cannot lead out.
 */
const SYSTEM_DATA_ROOTS = ['/usr/share/datasets'];

/** The folders a grid file's data may lie under, as the user gave them (not yet resolved). */
export function dataRoots(gridFile: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.FITGRID_DATA_ROOTS ?? '').split(path.delimiter).filter(Boolean);
  return [path.dirname(path.resolve(gridFile)), ...SYSTEM_DATA_ROOTS, ...fromEnv, ...extra].map((r) => path.resolve(r));
}

export type DataFile = { file: string } | { problem: string };

/**
 * The real path of a data file a grid names (`relative` to the grid file), or why it may not
 * be read: missing, or outside every root. The one gate every data kind's path goes through.
 */
export async function resolveDataFile(relative: string, gridFile: string, roots: readonly string[]): Promise<DataFile> {
  const file = path.resolve(path.dirname(path.resolve(gridFile)), relative);
  let real: string;
  try {
    real = await realpath(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { problem: `Cannot read data file ${file} (${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message})` };
  }
  const realRoots = (await Promise.all(roots.map((r) => realpath(r).catch(() => undefined)))).filter((r): r is string => !!r);
  if (realRoots.some((root) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep))) return { file: real };
  const shown = file === real ? file : `${file} (really ${real})`;
  return {
    problem: `Data file ${shown} is outside the folders fitgrid reads data from (the grid file's folder, ` +
      `${SYSTEM_DATA_ROOTS.join(', ')}, --data-root and FITGRID_DATA_ROOTS: ${[...new Set(realRoots)].join(', ')}); ` +
      `to allow it, pass --data-root ${path.dirname(real)} or add that folder to FITGRID_DATA_ROOTS`,
  };
}
