import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore } from '../../runner/store/open.ts';
import { manifestKey, summaryKey, trialKey } from '../../runner/store/keys.ts';
import { s3ForThisFile } from '../helpers/s3.ts';
import { generateSweep } from '../fixtures/summary/generate.ts';

// The Astro build is exercised in report.test.ts; here a stand-in writes a two-file site, so
// this file tests only what `report` does around it with an S3 store.
vi.mock('../../runner/report/site-build.ts', () => ({
  buildSite: async (summary: { sweep: string }, out: string) => {
    mkdirSync(join(out, 'trials'), { recursive: true });
    writeFileSync(join(out, 'index.html'), `<h1>${summary.sweep}</h1>`);
    writeFileSync(join(out, 'trials', 'a.html'), 'a');
    return join(out, 'index.html');
  },
}));

const s3 = s3ForThisFile({ prefix: 'runs' });
beforeAll(async () => {
  const sweep = generateSweep({ name: 'demo', epochs: 10 });
  await s3().seed(Object.fromEntries([
    [`runs/${manifestKey('demo')}`, JSON.stringify(sweep.manifest)],
    ...sweep.results.map((r) => [`runs/${trialKey(r.trialId)}`, JSON.stringify(r)]),
  ]));
});
describe('fitgrid report on an S3 store', () => {
  it("writes summary.json to S3, uploads the site under the sweep's site/ prefix and prints its URL last", async () => {
    const { report } = await import('../../runner/commands/report.ts');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let out = '';
    try {
      const result = await report({ sweep: 'demo', store: s3().url, publish: true });
      out = write.mock.calls.map((c) => String(c[0])).join('');
      expect(result.url).toBe(`${s3().url}sweeps/demo/site/index.html`);
      expect(existsSync(dirname(result.index))).toBe(false); // the temporary build folder is gone once uploaded
    } finally {
      write.mockRestore();
    }
    expect(out.trimEnd().split('\n').at(-1)).toBe(`${s3().url}sweeps/demo/site/index.html`);
    const store = await openStore(s3().url);
    const summary = JSON.parse(new TextDecoder().decode(await store.get(summaryKey('demo'))));
    expect(summary.counts.trials).toBe(32);
    expect(await store.list('sweeps/demo/site/')).toEqual(['sweeps/demo/site/index.html', 'sweeps/demo/site/trials/a.html']);
    expect(new TextDecoder().decode(await store.get('sweeps/demo/site/index.html'))).toBe('<h1>demo</h1>');
  });

  it('publishes to another s3://bucket/prefix when --publish names one', async () => {
    const { report } = await import('../../runner/commands/report.ts');
    const target = `s3://${s3().bucket}/public/reports/`;
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const result = await report({ sweep: 'demo', store: s3().url, publish: target });
      expect(result.url).toBe(`${target}index.html`);
    } finally {
      write.mockRestore();
    }
    expect(await (await openStore(target)).list('')).toEqual(['index.html', 'trials/a.html']);
  });
});
