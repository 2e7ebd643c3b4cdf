import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSweep } from '../../runner/exec/prepare.ts';
import { openStore } from '../../runner/store/open.ts';
import type { Manifest } from '../../runner/records/manifest.ts';
import { cli, trialFiles } from '../helpers/cli.ts';

let store: string;
let manifest: Manifest;
beforeAll(async () => {
  store = await mkdtemp(path.join(tmpdir(), 'fitgrid-worker-'));
  manifest = (await prepareSweep('grids/smoke.yaml', await openStore(store), 2)).manifest;
});
afterAll(() => rm(store, { recursive: true, force: true }));

describe('fitgrid worker', () => {
  it('trains the pack of AWS_BATCH_JOB_ARRAY_INDEX with only FITGRID_* settings, as the container runs it', async () => {
    const result = await cli(['worker'], { FITGRID_STORE: store, FITGRID_SWEEP: 'smoke', AWS_BATCH_JOB_ARRAY_INDEX: '1' });
    expect(result.code).toBe(0);
    const files = await trialFiles(store);
    expect([...files.keys()]).toEqual(manifest.packs[1].trialIds.map((id) => `${id}.json`).sort());
    const events = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: 'start', pack: 1, todo: 2 });
    expect(events.at(-1)).toMatchObject({ event: 'end', pack: 1, trained: 2, failed: 0 });
    expect(await readFile(path.join(store, 'sweeps/smoke/logs/pack-1.jsonl'), 'utf8')).toContain('"event":"end"');
  });

  it('rejects --pack out of range with one line and exit 2', async () => {
    const result = await cli(['worker', '--store', store, '--sweep', 'smoke', '--pack', String(manifest.packs.length)]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`fitgrid: field \`pack\`: Expected \`pack\` to be an integer from 0 to ${manifest.packs.length - 1} (sweep "smoke" has ${manifest.packs.length} packs), got ${manifest.packs.length}`);
  });

  it('says which sweep has no manifest', async () => {
    const result = await cli(['worker', '--store', store, '--sweep', 'other']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no manifest for sweep "other"/);
  });
});
