import type { CellSummary } from '../lib/summary.ts';
import { document, okabeIto, Plot, plotElement } from './plot.ts';
import { pngDataUrl, ramp } from './png.ts';
import { axes, contourPath, esc, linear, open, symbolsPath } from './svg.ts';
import { toNumbers } from '../../../runner/records/typed-array.ts';

const classColor = [okabeIto[0], okabeIto[4]];
const classSymbol = ['circle', 'triangle'];

const probability = ramp([okabeIto[0], '#f7f7f7', okabeIto[4]]);
const classTint = okabeIto.map((c) => ramp([c, '#ffffff'])(0.45));

/**
 * A surface value's colour: p(class 1) blue → white → orange for two classes, a tint of the
 * predicted class for more. Surfaces are quantised, so each distinct value is coloured once.
 */
function surfaceColour(multiclass: boolean): (v: number) => [number, number, number] {
  const seen = new Map<number, [number, number, number]>();
  return (v) => {
    let c = seen.get(v);
    if (!c) seen.set(v, (c = multiclass ? classTint[v % classTint.length] : probability(v)));
    return c;
  };
}

/**
 * The article's overfitting picture: the decision surface (p of class 1, blue → white → orange)
 * with its 0.5 contour, training points filled and validation points hollow. With a variance
 * map (bias-variance analysis), dashed contours show where the seeds disagree.
 */
export function boundary(cell: CellSummary, o: { width?: number; points?: CellSummary['points'] } = {}): string {
  const stored = cell.surface!;
  const s = { ...stored, values: toNumbers(stored.values), variance: stored.variance && toNumbers(stored.variance) };
  // grid points sit at the centres of the image's pixels, so the extent is half a cell wider
  const dx = (s.x1 - s.x0) / (s.n - 1) / 2, dy = (s.y1 - s.y0) / (s.n - 1) / 2;
  const grid = { width: s.n, height: s.n, x1: s.x0 - dx, x2: s.x1 + dx, y1: s.y0 - dy, y2: s.y1 + dy };
  const pts = (which: 'train' | 'val') => ((cell.points ?? o.points)?.[which] ?? []).map(([x, y, label]) => ({ x, y, label }));
  const width = o.width ?? 300;
  const vmax = s.variance ? Math.max(0, ...s.variance.filter(Number.isFinite)) : 0;
  const svg = plotElement({
    width, height: Math.round(width * 0.8), marginLeft: 36,
    x: { label: 'Feature x₀', domain: [grid.x1, grid.x2] },
    y: { label: 'Feature x₁', domain: [grid.y1, grid.y2] },
    marks: [
      ...(s.values.some((v) => v > 1) ? [] : [Plot.contour(s.values, { ...grid, thresholds: [0.5], stroke: 'black', strokeWidth: 1.2, fill: null })]),
      // relative levels: absolute ones either hug the frame (near zero) or miss a small variance
      ...(s.variance && vmax > 0 ? [Plot.contour(s.variance, { ...grid, thresholds: [0.35 * vmax, 0.7 * vmax], stroke: '#CC79A7', strokeDasharray: '3,2', strokeWidth: 1.3, fill: null })] : []),
      ...[0, 1].flatMap((k) => [
        Plot.dot(pts('train').filter((d) => d.label === k), { x: 'x', y: 'y', symbol: classSymbol[k], r: 3.2, fill: classColor[k], stroke: 'black', strokeWidth: 0.7, title: () => `training point, class ${k}` }),
        Plot.dot(pts('val').filter((d) => d.label === k), { x: 'x', y: 'y', symbol: classSymbol[k], r: 2.6, fill: 'none', stroke: classColor[k] === okabeIto[4] ? '#8a5a00' : '#003d66', strokeWidth: 1, title: () => `validation point, class ${k}` }),
      ]),
    ],
  });
  // the surface as one pixelated PNG under the marks; row 0 of the surface is the bottom (y0)
  // values are p(class 1) for two classes, the predicted class index for more
  const multiclass = s.values.some((v) => v > 1);
  const colour = surfaceColour(multiclass);
  const href = pngDataUrl(s.n, s.n, (x, y) => colour(s.values[(s.n - 1 - y) * s.n + x]));
  const [left, right] = [grid.x1, grid.x2].map(svg.scale('x').apply);
  const [bottom, top] = [grid.y1, grid.y2].map(svg.scale('y').apply);
  const image = document.createElementNS('http://www.w3.org/2000/svg', 'image');
  for (const [k, v] of Object.entries({ href, x: left, y: top, width: right - left, height: bottom - top, preserveAspectRatio: 'none', style: 'image-rendering: pixelated', class: 'surface' })) image.setAttribute(k, String(v));
  const firstMark = svg.querySelector('g[aria-label="contour"], g[aria-label="dot"]');
  firstMark?.parentNode?.insertBefore(image, firstMark);
  return svg.outerHTML;
}

/** The pixel scales of boundaryLight for a surface's extent at a width. */
function lightScales(surface: { x0: number; x1: number; y0: number; y1: number; n: number }, width: number) {
  const s = surface;
  const dx = (s.x1 - s.x0) / (s.n - 1) / 2, dy = (s.y1 - s.y0) / (s.n - 1) / 2;
  const height = Math.round(width * 0.8);
  return { width, height, x: linear([s.x0 - dx, s.x1 + dx], [36, width - 20]), y: linear([s.y0 - dy, s.y1 + dy], [height - 30, 20]) };
}

/** Training points filled, validation points hollow, a path per set and class. */
function pointMarks(points: CellSummary['points'], x: (v: number) => number, y: (v: number) => number): string {
  return (['train', 'val'] as const).flatMap((which) => [0, 1].map((k) => {
    const at = (points?.[which] ?? []).filter((p) => p[2] === k).map(([a, b]) => [x(a), y(b)] as [number, number]);
    if (!at.length) return '';
    const d = symbolsPath(at, classSymbol[k] as 'circle' | 'triangle', which === 'train' ? 3.2 : 2.6);
    const style = which === 'train'
      ? `fill="${classColor[k]}" stroke="black" stroke-width="0.7"`
      : `fill="none" stroke="${classColor[k] === okabeIto[4] ? '#8a5a00' : '#003d66'}" stroke-width="1"`;
    return `<path d="${d}" ${style}><title>${which === 'train' ? 'training' : 'validation'} points, class ${k}</title></path>`;
  })).join('');
}

/**
 * boundary() drawn as plain SVG text, for the page of every cell: the same surface image, 0.5
 * contour, variance contours and points, at a small fraction of the cost. With `dotsHref` the
 * points are that image (boundaryDots' file) instead: thousands of cell pages that show the same
 * points then carry them once, not each.
 */
export function boundaryLight(cell: CellSummary, o: { width?: number; points?: CellSummary['points']; dotsHref?: string } = {}): string {
  const stored = cell.surface!;
  const s = { ...stored, values: toNumbers(stored.values), variance: stored.variance && toNumbers(stored.variance) };
  const { width, height, x, y } = lightScales(s, o.width ?? 300);
  // grid index i sits at x0 + i·(x1 − x0)/(n − 1)
  const px = (i: number) => x(s.x0 + (i * (s.x1 - s.x0)) / (s.n - 1));
  const py = (j: number) => y(s.y0 + (j * (s.y1 - s.y0)) / (s.n - 1));
  const multiclass = s.values.some((v) => v > 1);
  const colour = surfaceColour(multiclass);
  const href = pngDataUrl(s.n, s.n, (i, j) => colour(s.values[(s.n - 1 - j) * s.n + i]));
  const [left, right] = x.range, [bottom, top] = y.range;
  const contours: string[] = [];
  if (!multiclass) contours.push(`<path d="${contourPath(s.values, s.n, 0.5, px, py)}" fill="none" stroke="black" stroke-width="1.2"/>`);
  const vmax = s.variance ? Math.max(0, ...s.variance.filter(Number.isFinite)) : 0;
  if (s.variance && vmax > 0) {
    for (const share of [0.35, 0.7]) contours.push(`<path d="${contourPath(s.variance, s.n, share * vmax, px, py)}" fill="none" stroke="#CC79A7" stroke-dasharray="3,2" stroke-width="1.3"/>`);
  }
  const marks = o.dotsHref
    ? `<image class="points" href="${esc(o.dotsHref)}" x="0" y="0" width="${width}" height="${height}"><title>training points filled, validation points hollow</title></image>`
    : pointMarks(cell.points ?? o.points, x, y);
  return `${open(width, height, 'Decision surface')}<image class="surface" href="${href}" x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" preserveAspectRatio="none" style="image-rendering: pixelated"/>`
    + `${axes({ width, height, x, y, xLabel: 'Feature x₀', yLabel: 'Feature x₁' })}<g aria-label="contour">${contours.join('')}</g><g aria-label="dot">${marks}</g></svg>`;
}

/**
 * The points of boundaryLight as an SVG file of their own, for its `dotsHref`: the same marks at
 * the same pixels, for every cell whose surface has this extent and which shows these points.
 */
export function boundaryDots(surface: NonNullable<CellSummary['surface']>, points: CellSummary['points'], width = 300): string {
  const { height, x, y } = lightScales(surface, width);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${pointMarks(points, x, y)}</svg>\n`;
}
