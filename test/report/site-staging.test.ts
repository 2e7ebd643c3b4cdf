import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleStaging } from '../../runner/report/site-staging.ts';

const root = mkdtempSync(path.join(tmpdir(), 'fitgrid-staging-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const module = fileURLToPath(new URL('../../runner/report/site-staging.ts', import.meta.url));
const child = path.join(root, 'child.mts');
writeFileSync(child, [
  `import { makeStaging } from ${JSON.stringify(module)};`,
  'const dir = await makeStaging(process.argv[2]!);',
  "process.stdout.write(dir + '\\n');",
  "if (process.argv[3] === 'exit') process.exit(0);",
  'setInterval(() => {}, 1000);',
].join('\n'));

/** A process that makes a staging folder in `dir`, as a site build does, and then exits or waits. */
function builder(dir: string, mode: 'exit' | 'wait') {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const made = new Promise<string>((ok, fail) => {
    proc.stdout.setEncoding('utf8').once('data', (d: string) => ok(d.trim()));
    proc.once('exit', (code) => fail(new Error(`the builder exited (${code}) before making its folder`)));
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => proc.once('exit', (code, signal) => ok({ code, signal })));
  return { proc, made, ended };
}

describe('site build staging folders', () => {
  it('removes those of ended processes and old unnamed ones, and keeps live and unrelated folders', async () => {
    const dir = path.join(root, 'stale');
    for (const name of ['.fitgrid-site-999999999-aaaaaa', `.fitgrid-site-${process.pid}-bbbbbb`, '.fitgrid-site-oldone', '.fitgrid-site-newone', 'keep']) {
      mkdirSync(path.join(dir, name, 'site'), { recursive: true });
    }
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(path.join(dir, '.fitgrid-site-oldone'), old, old);
    expect((await removeStaleStaging(dir)).sort()).toEqual(['.fitgrid-site-999999999-aaaaaa', '.fitgrid-site-oldone']);
    expect(readdirSync(dir).sort()).toEqual(['.fitgrid-site-newone', `.fitgrid-site-${process.pid}-bbbbbb`, 'keep'].sort());
  });

  it('leaves a killed build\'s folder to the next build, which removes it', async () => {
    const dir = path.join(root, 'killed');
    mkdirSync(dir);
    const b = builder(dir, 'wait');
    const staging = await b.made;
    expect(path.basename(staging)).toMatch(new RegExp(`^\\.fitgrid-site-${b.proc.pid}-`));
    b.proc.kill('SIGKILL');
    await b.ended;
    expect(existsSync(staging)).toBe(true);
    expect(await removeStaleStaging(dir)).toEqual([path.basename(staging)]);
    expect(existsSync(staging)).toBe(false);
  });

  it('removes its own folder on exit and on SIGTERM, still dying of the signal', async () => {
    const dir = path.join(root, 'signalled');
    mkdirSync(dir);
    const exiting = builder(dir, 'exit');
    const first = await exiting.made;
    expect(await exiting.ended).toEqual({ code: 0, signal: null });
    expect(existsSync(first)).toBe(false);
    const terminated = builder(dir, 'wait');
    const second = await terminated.made;
    terminated.proc.kill('SIGTERM');
    expect(await terminated.ended).toEqual({ code: null, signal: 'SIGTERM' });
    expect(existsSync(second)).toBe(false);
  });
});
