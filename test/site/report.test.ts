import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseHTML } from 'linkedom';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { report, type ReportResult } from '../../runner/commands/report.ts';
import { serveDir } from '../../runner/commands/serve.ts';
import { buildSite, siteRoot } from '../../runner/report/site-build.ts';
import { summarize } from '../../runner/analysis/summary.ts';
import { summaryKey } from '../../runner/store/keys.ts';
import { generateImageSweep, generateSweep, writeSweep } from '../fixtures/summary/generate.ts';
import { launchTestBrowser } from '../helpers/browser.ts';
import { measureRender } from '../../runner/bench/render.ts';
import { formatReportBench, type ReportBench } from '../../runner/bench/report.ts';

const xss = 'Remedies compared <script>alert(1)</script> & "quotes"';
const pages = ['index.html', 'explore.html', 'curves.html', 'heatmaps.html', 'boundaries.html', 'compare.html'];
const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let tmp: string;
let siteDir: string;
let imageSite: string;
let manySite: string;
let built: ReportResult;
let printed: string[];
let http: Awaited<ReturnType<typeof serveDir>>;
let browser: Browser;
const staleStaging = join(siteRoot, '..', '.fitgrid-site-999999999-killed');
// Any machine with Node runs these: the helper finds a browser, or says in one line why they are skipped.
const testBrowser = await launchTestBrowser();

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fitgrid-site-test-'));
  const store = join(tmp, 'store');
  writeSweep(store, generateSweep({ name: 'demo', description: xss }));
  // an image sweep built at the same time: two builds in one process must not collide
  const images = generateImageSweep();
  const imageSummary = summarize(images.manifest, images.results);
  const pixels = (k: number) => Array.from({ length: 64 }, (_, i) => ((i + k) % 9 === 0 ? 1 : 0));
  imageSummary.images = { width: 8, height: 8, channels: 1, samples: [0, 1, 2].map((k) => ({ label: k, pixels: pixels(k) })), augmented: { 'shift 0.1': [3, 4, 5].map(pixels) } };
  // the galleries: the analysis computed them from the trials' validation predictions; the pixels come with the data
  imageSummary.images.gallery = Object.fromEntries(imageSummary.cells.flatMap((c) => c.mistakes ?? []).map((m) => [m.index, Buffer.from(pixels(m.index).map((v) => v * 255)).toString('base64')]));
  // a summary without the analysis stage's fields, to show the site hides what is absent
  for (const c of imageSummary.cells) { delete c.biasVariance; delete c.verdict; delete c.effect; }
  delete imageSummary.thresholds;
  // what a build killed earlier leaves behind (its process is gone): this build clears it
  mkdirSync(staleStaging, { recursive: true });
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    [built, imageSite, manySite] = await Promise.all([
      report({ sweep: 'demo', store }),
      buildSite(imageSummary, join(tmp, 'image-site')).then(dirname),
      buildSite(manyCells(20), join(tmp, 'many-site')).then(dirname),
    ]);
    printed = write.mock.calls.map((c) => String(c[0]));
  } finally {
    write.mockRestore();
  }
  siteDir = dirname(built.index);
  http = await serveDir(siteDir);
  if (testBrowser) browser = testBrowser.browser;
});

/** The demo sweep's 16 cells copied into `copies` groups: a sweep of hundreds of cells for the pages that list cells. */
function manyCells(copies: number) {
  const { manifest, results } = generateSweep({ name: 'many' });
  const s = summarize(manifest, results);
  s.cells = Array.from({ length: copies }, (_, k) => s.cells.map((c) => ({
    ...structuredClone(c), cellId: k ? `${c.cellId}-g${k}` : c.cellId, label: `${c.label} · group ${k}`,
  }))).flat();
  s.counts.cells = s.cells.length;
  // a sweep still training, two of whose stored results cannot be read
  s.counts.missing = 5;
  s.unreadable = { count: 2, examples: [{ key: 'trials/aaaa.json', reason: 'not complete JSON (100 bytes; truncated?)' }, { key: 'trials/bbbb.json', reason: 'unknown encoding 7' }] };
  return s;
}

afterAll(async () => {
  await browser?.close();
  await http?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Opens a page and collects console errors, failed requests and dialogs while it loads. */
async function open(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
  const response = await page.goto(url, { waitUntil: 'load' });
  if (response && !response.ok()) problems.push(`HTTP ${response.status()} for ${url}`);
  return { page, problems };
}

const fileUrl = (rel: string) => pathToFileURL(join(siteDir, rel)).href;
const httpUrl = (rel: string) => new URL(rel, http.url).href;
const cellPages = () => readdirSync(join(siteDir, 'cells')).filter((f) => f.endsWith('.html')).sort();
const firstCellPage = () => `cells/${cellPages()[0]}`;

describe('fitgrid report', () => {
  it('writes summary.json and prints the path of index.html as its last line', () => {
    expect(printed.join('').trimEnd().split('\n').at(-1)).toBe(built.index);
    expect(existsSync(join(tmp, 'store', summaryKey('demo')))).toBe(true);
    expect(built.index).toBe(join(tmp, 'store', 'sweeps', 'demo', 'site', 'index.html'));
  });

  it("removes a killed build's staging folder", () => {
    expect(existsSync(staleStaging)).toBe(false);
  });

  it('writes one page per cell, none per trial, and no root-absolute URL anywhere', () => {
    expect(cellPages()).toEqual(built.summary.cells.map((c) => `${c.cellId}.html`).sort());
    expect(existsSync(join(siteDir, 'trials'))).toBe(false);
    for (const file of [...pages, firstCellPage()]) {
      const html = readFileSync(join(siteDir, file), 'utf8');
      expect(html, file).not.toMatch(/(href|src)=["']\/(?!\/)/);
    }
  });
});

describe.runIf(testBrowser)('the report site in a browser', () => {
  it('loads every page without console errors from file:// and from 127.0.0.1', async () => {
    for (const rel of [...pages, 'bias-variance.html', firstCellPage()]) {
      for (const url of [fileUrl(rel), httpUrl(rel)]) {
        const { page, problems } = await open(url);
        expect(problems, url).toEqual([]);
        expect(await page.locator('nav a').count(), url).toBeGreaterThanOrEqual(5);
        await page.close();
      }
    }
  });

  it('runs every page served by `fitgrid serve` without a Content-Security-Policy violation', async () => {
    for (const rel of [...pages, 'bias-variance.html', firstCellPage()]) {
      const page = await browser.newPage();
      await page.addInitScript(() => {
        const seen: string[] = [];
        (globalThis as unknown as { cspViolations: string[] }).cspViolations = seen;
        document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const response = await page.goto(httpUrl(rel), { waitUntil: 'load' });
      expect(response?.headers()['content-security-policy'], rel).toMatch(/script-src 'self'/);
      expect(await page.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations), rel).toEqual([]);
      await page.close();
    }
  });

  it('draws learning curves, heatmap squares and a decision boundary for every cell', async () => {
    const cells = built.summary.cells.filter((c) => c.counts.ok > 0).map((c) => c.cellId);
    const { page } = await open(fileUrl('curves.html'));
    for (const id of cells) {
      expect(await page.locator(`figure.chart-loss[data-cell="${id}"] svg path`).count(), id).toBeGreaterThanOrEqual(4);
      expect(await page.locator(`figure.chart-acc[data-cell="${id}"] svg path`).count(), id).toBeGreaterThanOrEqual(4);
    }
    // the no-remedy cell is the article's overfitting picture, flagged in words
    await expect(page.locator('figure.baseline .note').textContent()).resolves.toMatch(/Validation loss rises after epoch \d+/);
    await page.goto(fileUrl('heatmaps.html'));
    // every heatmap has a square per cell
    for (const id of ['gap', 'val-loss']) {
      expect(await page.locator(`#${id} svg g[aria-label="cell"] rect`).count()).toBe(built.summary.cells.length);
    }
    await page.goto(fileUrl('boundaries.html'));
    for (const id of cells) {
      await expect(page.locator(`figure.chart-boundary[data-cell="${id}"] svg image.surface`).getAttribute('href'), id).resolves.toMatch(/^data:image\/png;base64,/);
      expect(await page.locator(`figure.chart-boundary[data-cell="${id}"] svg g[aria-label="contour"] path`).count(), id).toBeGreaterThan(0);
      expect(await page.locator(`figure.chart-boundary[data-cell="${id}"] svg g[aria-label="dot"] > *`).count(), id).toBe(100); // 30 training + 70 validation points
    }
    await page.close();
  });

  it('sorts the leaderboard by a column in both directions', async () => {
    const { page } = await open(fileUrl('index.html'));
    const order = () => page.locator('#leaderboard tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-cell')));
    const values = () => page.locator('#leaderboard tbody tr td:nth-child(2)').evaluateAll((tds) => tds.map((td) => Number((td as HTMLElement).dataset.sort)));
    const before = await order();
    await page.locator('#leaderboard thead button', { hasText: /^Validation loss$/ }).click();
    const ascending = await values();
    expect(await order()).not.toEqual(before);
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.locator('#leaderboard thead button', { hasText: /^Validation loss$/ }).click();
    const descending = await values();
    expect(descending).toEqual([...ascending].reverse());
    await page.close();
  });

  it('filters the leaderboard by the words typed', async () => {
    const { page } = await open(fileUrl('index.html'));
    await page.locator('#filter').fill('dropout 0.5 jitter');
    const visible = await page.locator('#leaderboard tbody tr:visible').count();
    expect(visible).toBe(built.summary.cells.filter((c) => c.label.includes('dropout 0.5') && c.label.includes('jitter')).length);
    await page.close();
  });

  it('resolves every link of every page to a file that exists and loads over HTTP', async () => {
    // parsed rather than opened in the browser: the pages themselves load in the first test
    const seen = new Set<string>();
    const queue = ['index.html'];
    while (queue.length) {
      const rel = queue.shift()!;
      if (seen.has(rel)) continue;
      seen.add(rel);
      const { document } = parseHTML(readFileSync(join(siteDir, rel), 'utf8'));
      for (const a of document.querySelectorAll('a[href]')) {
        const href = a.getAttribute('href')!;
        const url = new URL(href, fileUrl(rel));
        expect(url.protocol, `${href} on ${rel}`).toBe('file:');
        const target = relative(siteDir, fileURLToPath(url));
        expect(existsSync(join(siteDir, target)), `${href} on ${rel}`).toBe(true);
        if (url.hash) expect(readFileSync(join(siteDir, target), 'utf8'), `${href} on ${rel}`).toContain(`id="${decodeURIComponent(url.hash.slice(1))}"`);
        if (!seen.has(target)) queue.push(target);
      }
    }
    // the crawl reaches every page: the nav pages (bias-variance among them when analysed) and every
    // cell page (the leaderboard's links are drawn by its script: the curves pages link every cell here)
    const analysed = built.summary.cells.some((c) => c.biasVariance) ? 1 : 0;
    expect(seen.size).toBe(pages.length + analysed + built.summary.counts.cells);
    for (const rel of seen) expect((await fetch(httpUrl(rel))).status, rel).toBe(200);
  });

  it('pages through the leaderboard and filters it by an axis value', async () => {
    const { page, problems } = await open(fileUrl('index.html'));
    const rows = page.locator('#leaderboard tbody tr');
    const ids = () => rows.evaluateAll((trs) => trs.map((r) => r.getAttribute('data-cell')));
    const all = built.summary.cells.map((c) => c.cellId);
    expect(await ids()).toEqual(all);
    await page.selectOption('#page-size', '10');
    expect(await ids()).toEqual(all.slice(0, 10));
    await expect(page.locator('#page-info').textContent()).resolves.toBe(`cells 1–10 of ${all.length}`);
    await page.locator('#next-page').click();
    expect(await ids()).toEqual(all.slice(10, 20));
    expect(await page.locator('#next-page').isDisabled()).toBe(all.length <= 20);
    await page.selectOption('select[data-axis="dropout"]', '0.5');
    const half = built.summary.cells.filter((c) => c.axes.dropout === 0.5).map((c) => c.cellId);
    expect(await ids()).toEqual(half.slice(0, 10));
    await expect(page.locator('#page-info').textContent()).resolves.toContain(`of ${half.length} (filtered from ${all.length})`);
    // sorting applies to the filtered rows, across pages
    await page.locator('#leaderboard thead button', { hasText: /^Validation loss$/ }).click();
    const sorted = [...built.summary.cells].filter((c) => c.axes.dropout === 0.5).sort((a, b) => a.stats.val_loss.mean - b.stats.val_loss.mean).map((c) => c.cellId);
    expect(await ids()).toEqual(sorted.slice(0, 10));
    await rows.first().locator('a').click();
    await page.waitForURL(new RegExp(`cells/${sorted[0]}\\.html$`));
    expect(problems).toEqual([]);
    await page.close();
  });

  it('gives every cell a page with its seeds\' curves, its boundary and its trials', async () => {
    const cell = built.summary.cells.find((c) => c.counts.ok > 1)!;
    const { page, problems } = await open(fileUrl(`cells/${cell.cellId}.html`));
    expect(problems).toEqual([]);
    // a training and a validation line per finished seed, plus the two means
    expect(await page.locator('figure.chart-loss svg g[aria-label="line"] path').count()).toBe(2 * cell.counts.ok + 2);
    await expect(page.locator('figure.chart-boundary svg image.surface').getAttribute('href')).resolves.toMatch(/^data:image\/png;base64,/);
    expect(await page.locator('figure.chart-boundary svg g[aria-label="contour"] path').count()).toBeGreaterThan(0);
    // the sweep's points: one SVG file beside the cell pages, shared by them all, with every point
    const dots = await page.locator('figure.chart-boundary svg g[aria-label="dot"] image.points').getAttribute('href');
    const layer = readFileSync(join(siteDir, 'cells', dots!), 'utf8');
    expect([...layer.matchAll(/<path d="([^"]*)"/g)].reduce((n, m) => n + m[1].split('M').length - 1, 0)).toBe(100); // 30 training + 70 validation points
    expect(readFileSync(join(siteDir, firstCellPage()), 'utf8')).toContain(`href="${dots}"`);
    expect(await page.locator('table.trials tbody tr').count()).toBe(cell.trials.length);
    expect(await page.locator(`#trial-${cell.trials[0].trialId}`).count()).toBe(1);
    await page.close();
  });

  it('ranks the remedy axes and draws their effects and a parallel-coordinates view', async () => {
    const { page, problems } = await open(fileUrl('explore.html'));
    expect(problems).toEqual([]);
    const ranked = built.summary.axisEffects!.val_loss.axes;
    expect(ranked.length).toBe(4);
    // one bar per axis and one for interactions, in the summary's order of importance
    const bars = await page.locator('figure.importance[data-metric="val_loss"] g[aria-label="bar"] rect title').allTextContents();
    expect(bars.map((t) => t.split(':')[0])).toEqual([...ranked.map((a) => ({ l2: 'L2', dropout: 'Dropout', augmentation: 'Augmentation', patience: 'Early stopping' })[a.axis]), 'interactions']);
    expect(await page.locator('section.effects[data-metric="val_loss"] figure.effect-plot').count()).toBe(4);
    expect(await page.locator('figure.parallel g[aria-label="cells"] path').count()).toBe(built.summary.cells.filter((c) => Number.isFinite(c.stats.val_loss.mean)).length);
    await page.close();
  });

  it('filters the parallel coordinates by brushing axes, with the mouse and from the keyboard', async () => {
    const { page, problems } = await open(fileUrl('explore.html'));
    const byId = new Map(built.summary.cells.map((c) => [c.cellId, c]));
    const drawn = built.summary.cells.filter((c) => Number.isFinite(c.stats.val_loss.mean)).length;
    const kept = () => page.locator('figure.parallel g[aria-label="cells"] path:not(.out)').evaluateAll((ps) => ps.map((p) => p.getAttribute('data-cell')!));
    const out = () => page.locator('figure.parallel g[aria-label="cells"] path.out').evaluateAll((ps) => ps.map((p) => p.getAttribute('data-cell')!));
    const drag = async (name: string, from: number, to: number) => {
      const area = page.locator(`rect.brush-area[data-name="${name}"]`);
      await area.scrollIntoViewIfNeeded();
      const box = (await area.boundingBox())!;
      const x = box.x + box.width / 2;
      await page.mouse.move(x, box.y + from * box.height);
      await page.mouse.down();
      await page.mouse.move(x, box.y + to * box.height, { steps: 5 });
      await page.mouse.up();
    };
    await expect(page.locator('#brush-status').textContent()).resolves.toBe(`All ${drawn} cells shown.`);
    // from the bottom end of the validation-loss axis to its middle: the cells below some loss, and no other
    await drag('Validation loss', 0.995, 0.5);
    const low = await kept();
    const loss = (id: string) => byId.get(id)!.stats.val_loss.mean;
    expect(low.length).toBeGreaterThan(0);
    expect(low.length).toBeLessThan(drawn);
    expect(Math.max(...low.map(loss))).toBeLessThan(Math.min(...(await out()).map(loss)));
    await expect(page.locator('#brush-status').textContent()).resolves.toMatch(new RegExp(`^${low.length} of ${drawn} cells match: Validation loss [\\d.]+–[\\d.]+\\.$`));
    // the matching cells, best first, link to their pages
    const listed = await page.locator('#brushed tbody tr').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-cell')!));
    expect(listed).toEqual([...low].sort((a, b) => loss(a) - loss(b)).slice(0, 10));
    expect(await page.locator('#brushed tbody tr a').first().getAttribute('href')).toBe(`cells/${listed[0]}.html`);
    // a second brush on the dropout axis' lowest value narrows the set further
    await drag('Dropout', 0.995, 0.9);
    const both = await kept();
    expect(both.length).toBeGreaterThan(0);
    expect(both.length).toBeLessThan(low.length);
    expect(both.every((id) => byId.get(id)!.axes.dropout === 0 && low.includes(id))).toBe(true);
    await expect(page.locator('#brush-status').textContent()).resolves.toContain('Dropout 0.');
    // Escape on a focused axis clears its brush; the clear button clears all
    await page.locator('rect.brush-area[data-name="Dropout"]').focus();
    await page.keyboard.press('Escape');
    expect((await kept()).sort()).toEqual([...low].sort());
    await page.locator('#clear-brushes').click();
    expect(await kept()).toHaveLength(drawn);
    // from the keyboard alone: an arrow key on a focused axis makes a range, Shift+arrows resize it
    await page.locator('rect.brush-area[data-name="Gap: val − train loss"]').focus();
    await page.keyboard.press('ArrowDown');
    const first = (await kept()).length;
    expect(first).toBeLessThan(drawn);
    await page.keyboard.press('Shift+ArrowUp');
    await page.keyboard.press('Shift+ArrowUp');
    expect((await kept()).length).toBeGreaterThanOrEqual(first);
    expect(await page.locator('figure.parallel rect.brush').count()).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('overlays the curves of the cells picked on the compare page, up to four', async () => {
    const { page } = await open(fileUrl('compare.html'));
    const lines = () => page.locator('#chart svg polyline').count();
    await expect.poll(lines).toBe(4); // two cells preselected: training and validation each
    const boxes = page.locator('#picker input[type=checkbox]');
    expect(await boxes.count()).toBe(built.summary.cells.length);
    const unchecked = page.locator('#picker input[type=checkbox]:not(:checked)');
    await unchecked.first().check();
    await expect.poll(lines).toBe(6);
    await unchecked.first().check();
    await expect.poll(lines).toBe(8);
    expect(await page.locator('#picker input:disabled').count()).toBe((await boxes.count()) - 4);
    await page.selectOption('#metric', 'acc');
    await expect.poll(() => page.locator('#chart svg text', { hasText: 'Accuracy' }).count()).toBe(1);
    await page.close();
  });

  it('lists the featured cells of a large sweep on the compare page, finds any other, and loads only the curves picked', async () => {
    const { page, problems } = await open(pathToFileURL(join(manySite, 'compare.html')).href);
    const lines = () => page.locator('#chart svg polyline').count();
    await expect.poll(lines).toBe(4);
    const boxes = page.locator('#picker input[type=checkbox]');
    expect(await boxes.count()).toBe(12); // the baseline and the 11 best of 320 cells
    await expect(page.locator('#find-note').textContent()).resolves.toContain('12 of 320 cells listed');
    const curveFiles = readdirSync(join(manySite, 'data', 'curves'));
    expect(curveFiles).toHaveLength(4); // 100 cells a file
    const loaded = () => page.locator('script[src^="data/curves/"]').evaluateAll((ss) => ss.map((s) => s.getAttribute('src')));
    const before = await loaded();
    expect(before.length).toBeLessThan(curveFiles.length);
    // group 19 lies in the last curves file; its baseline copy is found by words of its label
    await page.fill('#find', 'group 19 l2 0.001 dropout 0.5 none early');
    const found = await page.locator('#picker label.pick').evaluateAll((ls) => ls.map((l) => l.textContent ?? ''));
    expect(found).toHaveLength(3); // the two cells picked, and the one match
    expect(found.filter((t) => t.includes('group 19'))).toEqual([expect.stringContaining('l2 0.001 · dropout 0.5 · none · no early stopping · group 19 · val loss ')]);
    await page.locator('#picker label.pick', { hasText: 'group 19' }).first().locator('input').check();
    await expect.poll(lines).toBe(6);
    expect(await loaded()).toContain('data/curves/3.js');
    // the cells already picked stay listed whatever the search shows
    await page.fill('#find', 'no such words');
    expect(await page.locator('#picker input:checked').count()).toBe(3);
    await expect(page.locator('#found-note').textContent()).resolves.toBe('No cell matches these words.');
    await page.fill('#find', 'group');
    expect(await boxes.count()).toBe(40 + 1); // the first 40 matches, and the picked cell of group 19
    await expect(page.locator('#found-note').textContent()).resolves.toContain('more match');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('says on the overview how many trials are not stored yet and which stored results could not be read', async () => {
    const { page, problems } = await open(pathToFileURL(join(manySite, 'index.html')).href);
    expect(problems).toEqual([]);
    const note = await page.locator('#missing').textContent();
    expect(note).toContain('5 of');
    expect(note).toContain('3 not stored yet: the sweep may still be training');
    expect(note).toContain('2 stored but unreadable (below): delete those files and run the sweep again');
    expect(await page.locator('details.unreadable li').allTextContents()).toEqual(['trials/aaaa.json: not complete JSON (100 bytes; truncated?)', 'trials/bbbb.json: unknown encoding 7']);
    await page.close();
    // a complete sweep says nothing of the kind
    const demo = await open(fileUrl('index.html'));
    expect(await demo.page.locator('#missing').count()).toBe(0);
    await demo.page.close();
  });

  it('shows a grid description with a script tag as text and runs no script from it', async () => {
    const { page, problems } = await open(httpUrl('index.html'));
    await expect(page.locator('p.description').textContent()).resolves.toBe(xss);
    await expect(page.locator('pre').textContent()).resolves.toContain('<script>alert(1)</script>');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows each chosen cell\'s most confidently wrong validation images with true and predicted class', async () => {
    const { page, problems } = await open(pathToFileURL(join(imageSite, 'boundaries.html')).href);
    expect(problems).toEqual([]);
    const visible = page.locator('section.gallery-cell:visible');
    expect(await visible.count()).toBe(1);
    const shown = await visible.locator('figure.mistake').count();
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThanOrEqual(12);
    await expect(visible.locator('figcaption').first().textContent()).resolves.toMatch(/ → .* \(\d\.\d\d\)/);
    const options = await page.locator('#gallery-cell option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    await page.selectOption('#gallery-cell', options[1]);
    expect(await page.locator('section.gallery-cell:visible').getAttribute('data-cell')).toBe(options[1]);
    await page.close();
    const cell = await open(pathToFileURL(join(imageSite, 'cells', `${options[1]}.html`)).href);
    expect(cell.problems).toEqual([]);
    const own = cell.page.locator(`#cell-images section.gallery-cell[data-cell="${options[1]}"] figure.mistake`);
    expect(await own.count()).toBeGreaterThan(0);
    await cell.page.close();
  });

  it('shows sample images, augmented versions and a confusion matrix per chosen cell for image data', async () => {
    const { page, problems } = await open(pathToFileURL(join(imageSite, 'boundaries.html')).href);
    expect(problems).toEqual([]);
    expect(await page.locator('table.samples td img.pixels').count()).toBe(6);
    const visible = page.locator('figure.confusion:visible');
    expect(await visible.count()).toBe(1);
    const first = await visible.getAttribute('data-cell');
    expect(await visible.locator('svg g[aria-label="cell"] rect').count()).toBe(100);
    const options = await page.locator('#confusion-cell option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    await page.selectOption('#confusion-cell', options[1]);
    expect(await page.locator('figure.confusion:visible').getAttribute('data-cell')).not.toBe(first);
    await page.close();
  });

  it('shows verdicts and the bias-variance page when the analysis produced them, and hides them otherwise', async () => {
    const { page, problems } = await open(fileUrl('index.html'));
    expect(await page.locator('#leaderboard th', { hasText: 'Verdict' }).count()).toBe(1);
    const verdicts = built.summary.cells.map((c) => c.verdict?.label ?? '—');
    expect(await page.locator('#leaderboard tbody td:last-child').allTextContents()).toEqual(verdicts);
    // seed-paired effects against the no-remedy cell get their own column
    expect(await page.locator('#leaderboard th', { hasText: 'Δ validation loss vs no remedy' }).count()).toBe(built.summary.cells.some((c) => c.effect?.val_loss) ? 1 : 0);
    await page.locator('nav a', { hasText: 'Bias-variance' }).click();
    await page.waitForURL(/bias-variance\.html$/);
    const kinds = (['mse', 'zeroOne'] as const).filter((k) => built.summary.cells.some((c) => c.biasVariance?.[k]));
    expect(kinds.length).toBeGreaterThan(0);
    // loss, bias and variance: a line each, per decomposition
    expect(await page.locator('section.bias-variance svg g[aria-label="line"] path').count()).toBe(3 * kinds.length);
    expect(await page.locator('tbody tr').count()).toBe(built.summary.cells.length);
    expect(problems).toEqual([]);
    await page.goto(pathToFileURL(join(imageSite, 'index.html')).href);
    expect(await page.locator('nav a', { hasText: 'Bias-variance' }).count()).toBe(0);
    expect(await page.locator('#leaderboard th', { hasText: 'Verdict' }).count()).toBe(0);
    await page.close();
  });

  it('times every page kind in headless Chromium for `fitgrid bench --report`, and prints the figures', async () => {
    const render = await measureRender(siteDir, 1);
    if ('skipped' in render) throw new Error(render.skipped);
    expect(render.pages.map((p) => p.page)).toEqual(['index.html', 'explore.html', 'curves.html', 'boundaries.html', 'heatmaps.html', 'bias-variance.html', 'compare.html', expect.stringMatching(/^cells\/.+\.html$/)]);
    for (const p of render.pages) {
      expect(p.loadMs, p.page).toBeGreaterThan(0);
      expect(p.readyMs, p.page).toBeGreaterThanOrEqual(p.loadMs);
    }
    const figures = { trials: 1, cells: 1, grid: 'g.yaml', storedMB: 0, summary: { wallSeconds: 1, seconds: 1, peakRssMB: 1, summaryMB: 1 }, render } as ReportBench;
    const printed = formatReportBench(figures).split('\n');
    expect(printed).toContain('  render in headless Chromium from file:// (slowest of 1; load event / charts drawn):');
    expect(printed.filter((l) => /^ {4}\S+\.html +\d+\.\d\d s \/ \d+\.\d\d s$/.test(l))).toHaveLength(render.pages.length);
  });

  it('saves screenshots of the overview and the curves', async () => {
    mkdirSync(artifacts, { recursive: true });
    for (const name of ['index', 'curves', 'boundaries', 'explore']) {
      const { page } = await open(fileUrl(`${name}.html`));
      const path = join(artifacts, `report-${name}.png`);
      await page.screenshot({ path, fullPage: name === 'index' });
      expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
      await page.close();
    }
  });
});

describe('fitgrid serve', () => {
  const get = (path: string) => new Promise<{ status: number; type?: string }>((ok, fail) => {
    const u = new URL(http.url);
    request({ host: u.hostname, port: u.port, path }, (res) => { res.resume(); ok({ status: res.statusCode!, type: res.headers['content-type'] }); }).on('error', fail).end();
  });

  it('serves pages with their content type and refuses paths outside the site', async () => {
    expect(await get('/index.html')).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    expect((await get('/')).status).toBe(200);
    expect((await get('/nope.html')).status).toBe(404);
    expect((await get('/..%2f..%2f..%2fsummary.json')).status).toBe(403);
    expect((await get('/../../summary.json')).status).not.toBe(200);
  });
});
