import { toNumbers } from '../../runner/records/typed-array.ts';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { pngDataUrl, ramp } from '../../site/src/charts/png.ts';
import { boundary } from '../../site/src/charts/boundary.ts';
import { heatmap } from '../../site/src/charts/heatmap.ts';
import { confusion } from '../../site/src/charts/confusion.ts';
import { cellCurves, cellCurvesLight, drawnSeedsNote, risesAfterMinimum } from '../../site/src/charts/curves.ts';
import { jsonForScript } from '../../site/src/lib/summary.ts';
import { cellPageBody, LISTED_TRIALS } from '../../site/src/lib/cell-page.ts';
import { relativizeUrls } from '../../runner/report/site-build.ts';
import { summarize } from '../../runner/analysis/summary.ts';
import { generateSweep } from '../fixtures/summary/generate.ts';

const summary = summarize(generateSweep().manifest, generateSweep().results);
const svgOf = (html: string) => parseHTML(`<html><body>${html}</body></html>`).document;

describe('pngDataUrl', () => {
  const decode = (url: string) => {
    const png = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
    const chunk = (type: string) => {
      const at = png.indexOf(type);
      return at < 0 ? undefined : png.subarray(at + 4, at + 4 + png.readUInt32BE(at - 4));
    };
    return { png, type: png[25], plte: chunk('PLTE'), raw: inflateSync(chunk('IDAT')!) };
  };

  it('encodes the pixels given, row by row, with a palette when they have at most 256 colours', () => {
    const { png, type, plte, raw } = decode(pngDataUrl(2, 2, (x, y) => [x * 255, y * 255, 7]));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([2, 2]);
    expect(type).toBe(3);
    // each row: filter byte 0, then one palette index a pixel
    expect([...raw]).toEqual([0, 0, 1, 0, 2, 3]);
    expect([...plte!]).toEqual([0, 0, 7, 255, 0, 7, 0, 255, 7, 255, 255, 7]);
  });

  it('encodes an image of more than 256 colours as RGB', () => {
    const { type, plte, raw } = decode(pngDataUrl(17, 17, (x, y) => [x, y, 9]));
    expect(type).toBe(2);
    expect(plte).toBeUndefined();
    expect([...raw.subarray(0, 7)]).toEqual([0, 0, 0, 9, 1, 0, 9]);
    const last = 16 * (17 * 3 + 1) + 1 + 16 * 3;
    expect([...raw.subarray(last, last + 3)]).toEqual([16, 16, 9]);
  });

  it('interpolates a colour ramp between its stops', () => {
    const r = ramp(['#000000', '#ff0000', '#ffffff']);
    expect(r(0)).toEqual([0, 0, 0]);
    expect(r(0.5)).toEqual([255, 0, 0]);
    expect(r(0.75)).toEqual([255, 128, 128]);
    expect(r(2)).toEqual([255, 255, 255]);
  });
});

describe('chart helpers', () => {
  it('boundary puts the surface image exactly under the plot area, below the points', () => {
    const cell = summary.cells[0];
    const doc = svgOf(boundary(cell, { width: 300, points: summary.points }));
    const image = doc.querySelector('image.surface')!;
    expect(Number(image.getAttribute('x'))).toBe(36); // marginLeft: the x domain starts at the image's edge
    expect(Number(image.getAttribute('width'))).toBeGreaterThan(200);
    const order = [...doc.querySelector('svg')!.children].map((e) => e.tagName.toLowerCase() === 'image' ? 'image' : e.getAttribute('aria-label'));
    expect(order.indexOf('image')).toBeLessThan(order.indexOf('dot'));
    expect(doc.querySelectorAll('g[aria-label="dot"] > *').length).toBe(100);
  });

  it('boundary overlays dashed variance contours only when the surface has a variance map', () => {
    const { variance: _, ...plain } = summary.cells[0].surface!;
    const cell = { ...summary.cells[0], surface: plain };
    expect(svgOf(boundary(cell)).querySelectorAll('g[aria-label="contour"]').length).toBe(1);
    const variance = toNumbers(plain.values).map((p) => p * (1 - p));
    const doc = svgOf(boundary({ ...cell, surface: { ...plain, variance } }));
    const contours = doc.querySelectorAll('g[aria-label="contour"]');
    expect(contours.length).toBe(2);
    expect(contours[1].getAttribute('stroke-dasharray')).toBe('3,2');
  });

  it('heatmap draws one square per cell with its mean and interval as text', () => {
    const doc = svgOf(heatmap(summary, (s) => s.val_loss, 'Validation loss'));
    expect(doc.querySelectorAll('g[aria-label="cell"] rect').length).toBe(summary.cells.length);
    const texts = [...doc.querySelectorAll('g[aria-label="text"] text')].map((t) => t.textContent);
    expect(texts).toContain(`${summary.cells[0].stats.val_loss.mean.toPrecision(3)}±${(summary.cells[0].stats.val_loss.ci[1] - summary.cells[0].stats.val_loss.mean).toPrecision(2)}`);
  });

  it('cellCurves draws a thin line per seed and a bold mean, for training and validation', () => {
    const doc = svgOf(cellCurves(summary.cells[0], 'loss'));
    const lines = doc.querySelectorAll('g[aria-label="line"]');
    expect(lines.length).toBe(4);
    expect(doc.querySelectorAll('g[aria-label="dot"] > *').length).toBe(2); // each seed's kept epoch
  });

  it('draws only the seeds whose curves a large sweep kept, and says so', () => {
    const cell = summary.cells[0];
    expect(drawnSeedsNote(cell)).toBe('');
    const [first, ...rest] = cell.trials;
    const few = { ...cell, trials: [first, ...rest.map(({ curves: _c, ...t }) => t)] };
    const paths = (c: typeof cell) => svgOf(cellCurves(c, 'loss')).querySelectorAll('g[aria-label="line"] path').length;
    expect(cell.counts.ok).toBeGreaterThan(1);
    expect(paths(cell)).toBe(2 * cell.counts.ok + 2); // each seed's training and validation, and the two means
    expect(paths(few)).toBe(4);
    const doc = svgOf(cellCurves(few, 'loss'));
    expect(doc.querySelectorAll('g[aria-label="dot"] > *').length).toBe(1);
    const light = svgOf(cellCurvesLight(few, 'loss'));
    expect(light.querySelectorAll('title').length).toBeGreaterThan(0);
    expect([...light.querySelectorAll('title')].map((t) => t.textContent).filter((t) => t?.startsWith('seed ')).length).toBe(3); // two lines and the dot of one seed
    expect(drawnSeedsNote(few)).toBe(`Thin lines: the first of the cell's ${cell.counts.ok} finished seeds (the summary keeps the curves of a few seeds per cell); the mean is over all of them.`);
  });

  it('lists the first trials of a cell with thousands, then those that failed, and says so', () => {
    const cell = summary.cells[0];
    const [ok] = cell.trials;
    const trials = Array.from({ length: 3000 }, (_, i) => ({ ...ok, trialId: `t${i}`, seed: i, ...(i % 500 === 7 ? { status: 'failed' as const, error: `boom ${i}` } : {}) }));
    const doc = svgOf(cellPageBody({ ...summary, cells: [{ ...cell, trials }] }, 0));
    const rows = [...doc.querySelectorAll('table.trials tbody tr')].map((r) => r.getAttribute('id'));
    // the first LISTED_TRIALS by seed (t7 among them), then the failed ones after them
    expect(rows).toEqual([...trials.slice(0, LISTED_TRIALS).map((t) => `trial-${t.trialId}`), ...[507, 1007, 1507, 2007, 2507].map((i) => `trial-t${i}`)]);
    expect(doc.querySelector('.trials-note')?.textContent).toBe(`${LISTED_TRIALS + 5} of the cell's 3000 stored trials: the first ${LISTED_TRIALS} by seed, then 5 that failed or diverged. fitgrid export writes every trial and epoch as a table.`);
    expect(svgOf(cellPageBody(summary, 0)).querySelector('.trials-note')).toBeNull();
  });

  it('flags the no-remedy cell as rising after its minimum, and not a strongly regularised one', () => {
    expect(risesAfterMinimum(summary.cells[0])?.epoch).toBeGreaterThan(5);
    const strong = summary.cells.find((c) => c.label === 'l2 0.001 · dropout 0.5 · jitter 0.05 · no early stopping')!;
    expect(risesAfterMinimum(strong)).toBeUndefined();
  });

  it('jsonForScript leaves no "<" that could close a script element', () => {
    const text = jsonForScript({ d: '</script><script>alert(1)</script>' });
    expect(text).not.toContain('<');
    expect(JSON.parse(text)).toEqual({ d: '</script><script>alert(1)</script>' });
  });
});

describe('relativizeUrls', () => {
  it('rewrites root-absolute URLs relative to each file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fitgrid-rel-'));
    try {
      mkdirSync(join(dir, 'trials'));
      writeFileSync(join(dir, 'index.html'), '<a href="/curves.html"></a><script src="/_astro/a.js"></script><a href="//cdn.example/x">');
      writeFileSync(join(dir, 'trials', 't.html'), `<link href='/_astro/s.css'><img src="/_astro/i.png">`);
      writeFileSync(join(dir, 'trials', 's.css'), 'a{background:url(/_astro/i.png)}');
      await relativizeUrls(dir);
      expect(readFileSync(join(dir, 'index.html'), 'utf8')).toBe('<a href="./curves.html"></a><script src="./_astro/a.js"></script><a href="//cdn.example/x">');
      expect(readFileSync(join(dir, 'trials', 't.html'), 'utf8')).toBe(`<link href='../_astro/s.css'><img src="../_astro/i.png">`);
      expect(readFileSync(join(dir, 'trials', 's.css'), 'utf8')).toBe('a{background:url(../_astro/i.png)}');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('confusion', () => {
  it('draws one cell per pair of classes and leaves room for long class names', () => {
    const svg = confusion([[7, 0, 1], [0, 6, 2], [0, 0, 8]], ['setosa', 'versicolor', 'virginica']);
    const { document } = parseHTML(`<body>${svg}</body>`);
    expect(document.querySelectorAll('[aria-label="cell"] rect').length).toBe(9);
    const texts = [...document.querySelectorAll('text')].map((t) => t.textContent);
    for (const name of ['setosa', 'versicolor', 'virginica']) expect(texts).toContain(name);
    const left = Number(document.querySelector('svg')!.getAttribute('width')) - 3 * 80;
    expect(left).toBeGreaterThanOrEqual('versicolor'.length * 6);
  });
});
