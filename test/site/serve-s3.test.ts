import { request } from 'node:http';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { serve } from '../../runner/commands/serve.ts';
import { siteKey } from '../../runner/store/keys.ts';
import { s3ForThisFile } from '../helpers/s3.ts';

const s3 = s3ForThisFile({ prefix: 'runs' });
const site = `runs/${siteKey('demo')}`;
beforeAll(async () => {
  await s3().seed({
    [`${site}index.html`]: '<h1>demo</h1><script>1</script>',
    [`${site}trials/a.html`]: '<h1>a</h1>',
    [`${site}_astro/app.js`]: 'console.log(1)',
    // beside the site, in the same bucket: never reachable through it
    'runs/sweeps/demo/summary.json': '{"secret":true}',
  });
});

/** Starts `fitgrid serve` on the store and returns its URL and a way to stop it. */
async function serving(sweep: string) {
  let stop!: () => void;
  const until = new Promise<void>((done) => { stop = done; });
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const running = serve({ sweep, store: s3().url, until });
  let printed = '';
  try {
    await vi.waitFor(() => expect(write).toHaveBeenCalled(), { timeout: 10_000 });
    printed = write.mock.calls.map((c) => String(c[0])).join('');
  } finally {
    write.mockRestore();
  }
  const url = printed.trim().split('\n').at(-1)!;
  return { url, stop: async () => { stop(); await running; } };
}

const get = (url: string, path: string) => new Promise<{ status: number; type?: string; csp?: string; body: string }>((ok, fail) => {
  const u = new URL(url);
  request({ host: u.hostname, port: u.port, path }, (r) => {
    let body = '';
    r.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () =>
      ok({ status: r.statusCode!, type: r.headers['content-type'], csp: r.headers['content-security-policy'] as string, body }));
  }).on('error', fail).end();
});

describe('fitgrid serve --store s3://…', () => {
  it('serves the published site from the bucket, object by object, with the hardened headers', async () => {
    const { url, stop } = await serving('demo');
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/index\.html$/);
      const index = await get(url, '/index.html');
      expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', body: '<h1>demo</h1><script>1</script>' });
      expect(index.csp).toMatch(/script-src 'self' 'sha256-/);
      expect((await get(url, '/')).body).toBe('<h1>demo</h1><script>1</script>');
      expect(await get(url, '/trials/a.html')).toMatchObject({ status: 200, body: '<h1>a</h1>' });
      expect(await get(url, '/_astro/app.js')).toMatchObject({ status: 200, body: 'console.log(1)' });
      // a file published later is served at once: nothing is cached
      await s3().seed({ [`${site}late.html`]: 'late' });
      expect((await get(url, '/late.html')).body).toBe('late');
      expect((await get(url, '/nope.html')).status).toBe(404);
      expect((await get(url, '/..%2fsummary.json')).status).toBe(403);
      expect((await get(url, '/../summary.json')).status).not.toBe(200);
    } finally {
      await stop();
    }
  });

  it('says how to publish when the bucket has no site for the sweep', async () => {
    await expect(serve({ sweep: 'other', store: s3().url })).rejects.toThrow(/no built site in s3:\/\/fitgrid-test\/runs\/sweeps\/other\/site\/.*fitgrid report other --store s3:\/\/fitgrid-test\/runs\/ --publish/);
  });
});
