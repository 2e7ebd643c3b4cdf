import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Readable } from 'node:stream';
import { serve, serveDir } from '../../runner/commands/serve.ts';
import { inlineScriptHashes } from '../../runner/report/site-csp.ts';
import { serveSite } from '../../runner/report/site-server.ts';
import { UserError } from '../../runner/errors.ts';
import { launchTestBrowser } from '../helpers/browser.ts';

// `open` is wrapped so that a test can make one call fail as a file removed at that moment would.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return { ...real, open: vi.fn(real.open) };
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fitgrid-serve-'));
  mkdirSync(join(dir, 'store', 'sweeps', 'demo', 'site', 'trials'), { recursive: true });
  writeFileSync(join(dir, 'store', 'sweeps', 'demo', 'site', 'index.html'), '<h1>demo</h1>');
  writeFileSync(join(dir, 'store', 'sweeps', 'demo', 'site', 'trials', 'a.html'), '<h1>a</h1>');
  writeFileSync(join(dir, 'store', 'sweeps', 'demo', 'secret.json'), '{}');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('serve', () => {
  it("serves the sweep's site from a folder store and prints its URL until stopped", async () => {
    let stop!: () => void;
    const until = new Promise<void>((done) => { stop = done; });
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const running = serve({ sweep: 'demo', store: join(dir, 'store'), until });
    await vi.waitFor(() => expect(write).toHaveBeenCalled());
    const out = write.mock.calls.map((c) => String(c[0])).join('');
    write.mockRestore();
    const url = out.trim().split('\n').at(-1)!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/index\.html$/);
    expect(await (await fetch(url)).text()).toBe('<h1>demo</h1>');
    expect(await (await fetch(new URL('trials/a.html', url))).text()).toBe('<h1>a</h1>');
    stop();
    await running;
    await expect(fetch(url)).rejects.toThrow();
  });

  it('refuses, as a user mistake, a folder without a built site', async () => {
    await expect(serve({ sweep: 'other', store: join(dir, 'store') })).rejects.toThrow(UserError);
    await expect(serve({ sweep: 'other', store: join(dir, 'store') })).rejects.toThrow(/fitgrid report other/);
  });

  it('reports a port in use as a user mistake', async () => {
    const first = await serveDir(join(dir, 'store', 'sweeps', 'demo', 'site'));
    try {
      const port = Number(new URL(first.url).port);
      await expect(serveDir(join(dir, 'store', 'sweeps', 'demo', 'site'), port)).rejects.toThrow(UserError);
    } finally {
      await first.close();
    }
  });

  it('never serves a file outside the site folder', async () => {
    const site = await serveDir(join(dir, 'store', 'sweeps', 'demo', 'site'));
    try {
      const { port } = new URL(site.url);
      const status = (path: string) => new Promise<number>((ok) => request({ host: '127.0.0.1', port, path }, (r) => { r.resume(); ok(r.statusCode!); }).end());
      expect(await status('/..%2fsecret.json')).toBe(403);
      expect(await status('/../secret.json')).not.toBe(200);
      expect(await status('/%2e%2e/secret.json')).not.toBe(200);
    } finally {
      await site.close();
    }
  });
});

describe('serve, hardened', () => {
  let site: Awaited<ReturnType<typeof serveDir>>;
  let port: string;
  beforeAll(async () => {
    const root = join(dir, 'store', 'sweeps', 'demo', 'site');
    symlinkSync('/etc/passwd', join(root, 'leak.txt'));
    symlinkSync(join(dir, 'store', 'sweeps', 'demo'), join(root, 'up'));
    symlinkSync(join(root, 'trials', 'a.html'), join(root, 'alias.html'));
    writeFileSync(join(root, 'page.html'), '<script>1</script><script type="application/json">{}</script><script src="x.js"></script>');
    site = await serveDir(root);
    port = new URL(site.url).port;
  });
  afterAll(() => site.close());

  const get = (path: string, host = `127.0.0.1:${port}`) => new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((ok, fail) => {
    request({ host: '127.0.0.1', port, path, headers: { host } }, (r) => {
      let body = '';
      r.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => ok({ status: r.statusCode!, headers: r.headers, body }));
    }).on('error', fail).end();
  });

  it('never serves a file whose real path leaves the site, through a symlink to a file or a folder', async () => {
    expect((await get('/leak.txt')).status).toBe(403);
    expect((await get('/up/secret.json')).status).toBe(403);
    expect((await get('/up/')).status).toBe(403);
    // a symlink that stays inside the site is an ordinary file
    expect((await get('/alias.html')).body).toBe('<h1>a</h1>');
  });

  it('answers only to the loopback names it listens on (DNS rebinding gets 421)', async () => {
    expect((await get('/index.html', `evil.example:${port}`)).status).toBe(421);
    expect((await get('/index.html', '127.0.0.1')).status).toBe(421);
    expect((await get('/index.html', `localhost:${port}`)).status).toBe(200);
    expect((await get('/index.html', `127.0.0.1:${port}`)).status).toBe(200);
  });

  it('sends nosniff and a Content-Security-Policy naming the hashes of the inline scripts of each page', async () => {
    const page = await get('/page.html');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain(`script-src 'self' ${inlineScriptHashes('<script>1</script>')[0]}`);
    expect(csp.match(/sha256-/g)).toHaveLength(1);
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toMatch(/https?:/);
    const missing = await get('/nope.html');
    expect(missing.status).toBe(404);
    expect(missing.headers['x-content-type-options']).toBe('nosniff');
    expect(missing.headers['content-security-policy']).toBeDefined();
  });

  it('answers 404 for a file removed between the check and the open, and keeps serving', async () => {
    vi.mocked(open).mockRejectedValueOnce(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }));
    expect((await get('/index.html')).status).toBe(404);
    expect((await get('/index.html')).body).toBe('<h1>demo</h1>');
  });

  it('survives a read that fails half-way and a source that throws', async () => {
    let calls = 0;
    const flaky = await serveSite({
      async read(rel) {
        calls += 1;
        if (rel === 'boom.js') throw new Error('store exploded');
        if (rel === 'half.js') {
          const body = new Readable({ read() { this.push('abc'); this.destroy(new Error('EIO: i/o error')); } });
          return { name: rel, size: 1000, body };
        }
        return { name: 'ok.txt', size: 2, body: new TextEncoder().encode('ok') };
      },
    });
    try {
      const { port: p } = new URL(flaky.url);
      const hit = (path: string) => new Promise<string>((ok) => {
        request({ host: '127.0.0.1', port: p, path }, (r) => {
          r.on('data', () => {}).on('end', () => ok(`status ${r.statusCode}`)).on('error', () => ok('aborted'));
        }).on('error', () => ok('aborted')).end();
      });
      expect(await hit('/boom.js')).toBe('status 500');
      expect(await hit('/half.js')).toBe('aborted');
      expect(await hit('/fine.txt')).toBe('status 200');
      expect(calls).toBe(3);
    } finally {
      await flaky.close();
    }
  });

  it('refuses an unsafe sweep name before touching the store', async () => {
    await expect(serve({ sweep: '../..', store: join(dir, 'store') })).rejects.toThrow(/Expected the sweep name to be lowercase letters, digits and dashes/);
  });
});

describe('inlineScriptHashes', () => {
  it('hashes executable inline scripts only, exactly as written', () => {
    const html = '<script>a()</script><script type="module">b()</script><script type="application/json">{"c":1}</script><script src="d.js"></script><script>a()</script>';
    const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    expect(inlineScriptHashes(html)).toEqual([sha('a()'), sha('b()')].sort());
  });
});

// Any machine with Node runs this: the helper finds a browser, or says in one line why it is skipped.
const testBrowser = await launchTestBrowser();
afterAll(() => testBrowser?.browser.close());

describe.runIf(testBrowser)('the Content-Security-Policy in a browser', () => {
  it("runs a page's own inline scripts and reports an injected inline event handler as a violation", async () => {
    const root = join(dir, 'csp-site');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title><script>document.title = "script ran"</script><img src="missing.png" onerror="document.title = \'handler ran\'">');
    const site = await serveDir(root);
    const page = await testBrowser!.browser.newPage();
    try {
      const violations: string[] = [];
      await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
      await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) =>
        (globalThis as unknown as { reportViolation: (v: string) => void }).reportViolation(e.violatedDirective)));
      await page.goto(site.url, { waitUntil: 'load' });
      await vi.waitFor(() => expect(violations).toContain('script-src-attr'), { timeout: 10_000 });
      expect(await page.title()).toBe('script ran');
    } finally {
      await page.close();
      await site.close();
    }
  });
});
