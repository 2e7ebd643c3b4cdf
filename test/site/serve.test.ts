import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serve, serveDir } from '../../runner/commands/serve.ts';
import { UserError } from '../../runner/errors.ts';

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
      const { request } = await import('node:http');
      const status = (path: string) => new Promise<number>((ok) => request({ host: '127.0.0.1', port, path }, (r) => { r.resume(); ok(r.statusCode!); }).end());
      expect(await status('/..%2fsecret.json')).toBe(403);
      expect(await status('/../secret.json')).not.toBe(200);
      expect(await status('/%2e%2e/secret.json')).not.toBe(200);
    } finally {
      await site.close();
    }
  });
});
