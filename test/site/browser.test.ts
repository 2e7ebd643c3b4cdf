import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENABLE_HINT, launchTestBrowser } from '../helpers/browser.ts';

afterEach(() => vi.restoreAllMocks());

describe('launchTestBrowser', () => {
  it.runIf(process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch))(
    "falls back to @sparticuz/chromium's bundled build, which runs page scripts",
    async () => {
      const found = await launchTestBrowser({ ...process.env, FITGRID_TEST_BROWSERS: 'bundled', CI: 'true' });
      try {
        expect(found?.source).toMatch(/^@sparticuz\/chromium 153\.0\.0$/);
        const page = await found!.browser.newPage();
        await page.setContent('<p id="p"></p><script>document.getElementById("p").textContent = String(6 * 7)</script>');
        expect(await page.locator('#p').textContent()).toBe('42');
      } finally {
        await found?.browser.close();
      }
    },
  );

  it('without any browser, skips with one line saying why and how to enable the tests', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(launchTestBrowser({ FITGRID_TEST_BROWSERS: '' })).resolves.toBeUndefined();
    const lines = write.mock.calls.map((c) => String(c[0]));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fitgrid tests: browser tests skipped: no browser could be launched/);
    expect(lines[0]).toContain(ENABLE_HINT);
  });

  it('without any browser under CI=true, fails instead of skipping', async () => {
    await expect(launchTestBrowser({ FITGRID_TEST_BROWSERS: '', CI: 'true' })).rejects.toThrow(/CI=true and no browser could be launched/);
  });

  it('fails when FITGRID_CHROMIUM names a browser that does not launch', async () => {
    await expect(launchTestBrowser({ FITGRID_CHROMIUM: '/nonexistent/chrome' })).rejects.toThrow(/FITGRID_CHROMIUM=\/nonexistent\/chrome does not launch/);
  });
});
