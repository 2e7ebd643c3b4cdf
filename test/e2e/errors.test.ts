import { mkdtemp, readFile, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInfrastructure } from '../../runner/commands/worker.ts';
import { UserError } from '../../runner/errors.ts';
import { prepareSweep } from '../../runner/exec/prepare.ts';
import { manifestKey } from '../../runner/store/keys.ts';
import { openStore } from '../../runner/store/open.ts';
import { s3ForThisFile } from '../helpers/s3.ts';
import { cli, type CliResult } from '../helpers/cli.ts';

/** A user mistake as the CLI should report it: exit 2 and one line, no stack trace. */
function expectOneLine(result: CliResult, pattern: RegExp) {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at |this is a bug/);
}

const s3 = s3ForThisFile({ prefix: 'runs' });
let tmp: string;
let store: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'fitgrid-errors-'));
  store = path.join(tmp, 'store');
  await prepareSweep('grids/smoke.yaml', await openStore(store), 2);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('errors are classified: user mistakes get one line and exit 2', () => {
  it('a YAML alias bomb', async () => {
    const file = path.join(tmp, 'bomb.yaml');
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) levels.push(`${name}: &${name} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`);
    await writeFile(file, `name: bomb\n${levels.join('\n')}\n`);
    expectOneLine(await cli(['validate', file]), /bomb\.yaml: YAML aliases expand too far/);
  });

  it('an unsafe sweep name in report, status, pull, serve and worker', async () => {
    const commands = [
      ['report', '../..', '--store', store],
      ['status', '../..', '--store', store],
      ['pull', '../..', '--store', store, '--to', path.join(tmp, 'to')],
      ['serve', '../..', '--store', store],
      ['worker', '--store', store, '--sweep', '../..'],
    ];
    const results = await Promise.all(commands.map((argv) => cli(argv)));
    for (const result of results) expectOneLine(result, /Expected the sweep name to be lowercase letters, digits and dashes .*got "\.\.\/\.\."/);
  });

  it('a key listed by the bucket that no folder could hold stops `pull` before anything is copied', async () => {
    const manifest = await readFile(path.join(store, manifestKey('smoke')));
    await s3().seed({ [`runs/${manifestKey('smoke')}`]: manifest, 'runs/sweeps/smoke/logs/..\\..\\..\\evil.jsonl': 'x' });
    const to = path.join(tmp, 'pulled');
    const result = await cli(['pull', 'smoke', '--store', s3().url, '--to', to], s3().env);
    expectOneLine(result, /lists a key that cannot be copied safely, so nothing was pulled: unsafe store key .*contains a backslash/);
    await expect(readdir(to)).rejects.toThrow(/ENOENT/);
  });

  it('`worker` with a manifest whose pack names a trial it lacks (never retried)', async () => {
    const broken = path.join(tmp, 'broken');
    const manifest = JSON.parse(await readFile(path.join(store, manifestKey('smoke')), 'utf8'));
    manifest.packs[0].trialIds[0] = 'not-a-trial';
    await mkdir(path.dirname(path.join(broken, manifestKey('smoke'))), { recursive: true });
    await writeFile(path.join(broken, manifestKey('smoke')), JSON.stringify(manifest));
    expectOneLine(await cli(['worker', '--store', broken, '--sweep', 'smoke', '--pack', '0']), /manifest of sweep "smoke" is broken \(pack 0 names trial "not-a-trial"/);
  });

  it('`worker` exits 75 (worth a retry) only when the store cannot be reached', async () => {
    const result = await cli(['worker', '--store', 's3://fitgrid-test/runs', '--sweep', 'smoke', '--pack', '0'], {
      ...s3().env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', FITGRID_S3_RETRY_MS: '1',
    });
    expect(result.code, result.stderr).toBe(75);
    expect(result.stderr).toMatch(/infrastructure failure \(exit 75, worth a retry\): cannot reach s3:\/\/fitgrid-test\/runs\//);
  });
});

describe('isInfrastructure', () => {
  it('counts store, system, AWS and memory failures, and nothing a retry would repeat', () => {
    expect(isInfrastructure(new UserError('cannot reach s3://b/', {}, 1))).toBe(true);
    expect(isInfrastructure(Object.assign(new Error('read ECONNRESET'), { errno: -104, code: 'ECONNRESET', syscall: 'read' }))).toBe(true);
    expect(isInfrastructure(Object.assign(new Error('slow down'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isInfrastructure(new RangeError('WebAssembly.Memory(): could not allocate memory'))).toBe(true);
    expect(isInfrastructure(new UserError('pack out of range'))).toBe(false);
    expect(isInfrastructure(new TypeError("Cannot read properties of undefined (reading 'config')"))).toBe(false);
    expect(isInfrastructure(new RangeError('Invalid array length'))).toBe(false);
  });
});
