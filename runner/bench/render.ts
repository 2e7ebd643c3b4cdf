import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Milliseconds from navigation start: to the load event, and to the page's charts being there. */
interface PageRender { page: string; loadMs: number; readyMs: number }

export interface RenderFigures {
  /** Where the browser came from. */
  browser: string;
  /** Per page, the slowest of `runs` openings (each in a fresh page, from file://). */
  pages: PageRender[];
  runs: number;
}

/**
 * What "drawn" means per page: the static charts are in the HTML (the load event covers them);
 * the scripted parts are the leaderboard's rows, the brushable parallel coordinates' status and
 * the compare page's overlaid curves.
 */
const READY: Record<string, string> = {
  'index.html': '#leaderboard tbody tr',
  'explore.html': '#brush-status:not(:empty)',
  'compare.html': '#chart svg polyline',
};

/**
 * Opens the overview, every page of the nav and one cell page of a built site in headless
 * Chromium from disk, `runs` times each, and times the load event and the moment the page's
 * charts are drawn (polled every animation frame). Undefined, with the reason, when no browser
 * can be launched.
 */
export async function measureRender(siteDir: string, runs = 3): Promise<RenderFigures | { skipped: string }> {
  const { findBrowser } = await import('./browser.ts').catch(() => ({ findBrowser: undefined }));
  const found = findBrowser ? await findBrowser().catch((e: Error) => ({ why: e.message })) : { why: 'playwright-core is not installed (a development dependency)' };
  if (!('browser' in found)) return { skipped: found.why };
  const { browser, source } = found;
  try {
    const files = new Set(await readdir(siteDir));
    const cells = (await readdir(path.join(siteDir, 'cells'))).filter((f) => f.endsWith('.html')).sort();
    const pages = ['index.html', 'explore.html', 'curves.html', 'boundaries.html', 'heatmaps.html', 'bias-variance.html', 'compare.html']
      .filter((p) => files.has(p))
      .concat(cells.length ? [`cells/${cells[Math.floor(cells.length / 2)]}`] : []);
    const out: PageRender[] = [];
    for (const page of pages) {
      let worst: PageRender = { page, loadMs: 0, readyMs: 0 };
      for (let run = 0; run < runs; run++) {
        const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await tab.goto(pathToFileURL(path.join(siteDir, page)).href, { waitUntil: 'load', timeout: 120_000 });
        const ready = READY[page];
        if (ready) await tab.waitForSelector(ready, { state: 'attached', timeout: 120_000 });
        // performance.now() counts from navigation start; a string, so no bundler helper leaks into the page
        const [loadMs, readyMs] = await tab.evaluate(`new Promise((done) => requestAnimationFrame(() => done([
          performance.getEntriesByType('navigation')[0].loadEventEnd, performance.now()])))`) as [number, number];
        await tab.close();
        if (readyMs > worst.readyMs) worst = { page, loadMs: Math.round(loadMs), readyMs: Math.round(readyMs) };
      }
      out.push(worst);
    }
    return { browser: source, pages: out, runs };
  } finally {
    await browser.close();
  }
}
