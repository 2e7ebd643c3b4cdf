import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../runner/errors.ts';
import { readDataFiles } from '../../runner/grid/data-files.ts';
import { dataRoots } from '../../runner/grid/data-roots.ts';
import { expandGrid } from '../../runner/grid/expand.ts';
import { loadGrid } from '../../runner/grid/load.ts';
import { main } from '../../runner/main.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fitgrid-roots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

// A grid in its own folder, a CSV beside it and one in a folder elsewhere.
const gridDir = path.join(dir, 'grids');
const elsewhere = path.join(dir, 'elsewhere');
mkdirSync(gridDir);
mkdirSync(elsewhere);
const csv = 'a,b,label\n0,0,x\n1,1,y\n0,1,x\n1,0,y\n';
writeFileSync(path.join(gridDir, 'near.csv'), csv);
writeFileSync(path.join(elsewhere, 'far.csv'), csv);
symlinkSync(path.join(elsewhere, 'far.csv'), path.join(gridDir, 'link.csv'));

let n = 0;
function grid(dataPath: string, extra = ''): string {
  const file = path.join(gridDir, `g${n++}.yaml`);
  writeFileSync(file, [
    'name: roots',
    `data: { kind: csv, path: ${JSON.stringify(dataPath)}, label: label, split: { train: 2 } }`,
    'model: { kind: mlp, hidden: [4] }',
    'train: { epochs: 2 }',
    extra,
  ].join('\n'));
  return file;
}

async function failure(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('data paths in grid files', () => {
  it('reads data beside the grid file', async () => {
    expect((await loadGrid(grid('near.csv'))).data).toMatchObject({ kind: 'csv', path: 'near.csv' });
  });

  it('refuses /etc/passwd with file, line, field, the rule and how to allow it, quoting nothing of the file', async () => {
    const file = grid('/etc/passwd');
    const e = await failure(loadGrid(file));
    expect(e.message).toMatch(new RegExp(`^${file}:2: field \`data.path\`: Data file /etc/passwd is outside the folders fitgrid reads data from \\(the grid file's folder, /usr/share/datasets, --data-root and FITGRID_DATA_ROOTS: .*\\); to allow it, pass --data-root /etc or add that folder to FITGRID_DATA_ROOTS$`));
    expect(e.message).not.toMatch(/root:/);
  });

  it('compares real paths: a symlink beside the grid that leads elsewhere is refused', async () => {
    const e = await failure(loadGrid(grid('link.csv')));
    expect(e.message).toContain(`link.csv (really ${path.join(elsewhere, 'far.csv')}) is outside`);
    await expect(loadGrid(grid('../elsewhere/far.csv'))).rejects.toThrow(/is outside the folders/);
  });

  it('reads data under a folder named with --data-root or FITGRID_DATA_ROOTS', async () => {
    expect((await loadGrid(grid('link.csv'), { dataRoots: [elsewhere] })).data.kind).toBe('csv');
    vi.stubEnv('FITGRID_DATA_ROOTS', ['/nonexistent', elsewhere].join(path.delimiter));
    expect((await loadGrid(grid('../elsewhere/far.csv'))).data.kind).toBe('csv');
  });

  it('applies the same rule to the data of an include', async () => {
    const file = grid('near.csv', 'include:\n  - data: { path: /etc/hostname }\n');
    await expect(loadGrid(file)).rejects.toThrow(new RegExp(`${file}:6: field \`include\\[0\\]\\.data\\.path\`: Data file /etc/hostname is outside`));
  });

  it('checks again when the files are read into the manifest', async () => {
    const loaded = await loadGrid(grid('near.csv'));
    const moved = { ...loaded, data: { ...loaded.data, path: '/etc/passwd' } } as typeof loaded;
    const trials = expandGrid(moved);
    await expect(readDataFiles(moved, trials)).rejects.toThrow(/Data file \/etc\/passwd is outside/);
  });

  it('always allows Debian\'s read-only dataset folder', () => {
    expect(dataRoots('/x/g.yaml', ['rel'], {})).toEqual(['/x', '/usr/share/datasets', path.resolve('rel')]);
  });

  it('takes --data-root on the command line, repeatable', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'fitgrid', 'validate', grid('link.csv'), '--data-root', '/nonexistent', '--data-root', elsewhere])).toBe(0);
      expect(await main(['node', 'fitgrid', 'validate', grid('link.csv')])).toBe(2);
      expect(String(stderr.mock.calls.at(-1)?.[0])).toMatch(/is outside the folders fitgrid reads data from/);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});

describe('__proto__ in a grid file', () => {
  it('is refused like any unknown field, inside include and exclude too', async () => {
    const file = grid('near.csv', 'include:\n  - model:\n      __proto__: { hidden: [8] }\n');
    await expect(loadGrid(file)).rejects.toThrow(new RegExp(`${file}:7: field \`include\\[0\\]\\.model\\.__proto__\`: Unknown field \`__proto__\``));
    const excluded = grid('near.csv', 'exclude:\n  - { __proto__: { l2: 0 } }\n');
    await expect(loadGrid(excluded)).rejects.toThrow(/field `exclude\[0\]\.__proto__`: Unknown field `__proto__`/);
  });
});
