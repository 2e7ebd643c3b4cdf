/**
 * Small charts written straight as SVG text, for pages built once per cell: a sweep of
 * thousands of cells cannot afford a DOM-based renderer per chart. They follow the look of the
 * Plot charts (same colours, fonts, ticks and frame).
 */

export interface Scale { (v: number): number; domain: [number, number]; range: [number, number] }

export function linear(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain[0] === domain[1] ? [domain[0] - 0.5, domain[1] + 0.5] : domain;
  const f = ((v: number) => range[0] + ((v - d0) / (d1 - d0)) * (range[1] - range[0])) as Scale;
  f.domain = [d0, d1];
  f.range = range;
  return f;
}

/** About `count` round tick values inside [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const out: number[] = [];
  // multiples of the step, not sums of it: no 2e-18 where 0 belongs
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

const f1 = (v: number) => (Math.round(v * 10) / 10).toString();
/** Text for HTML or SVG markup, inside elements and in quoted attributes. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const tickText = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(v));

export interface Frame { width: number; height: number; x: Scale; y: Scale; xLabel: string; yLabel: string; grid?: boolean; yTicks?: boolean }

/** The frame of a chart: axes with ticks and labels, horizontal grid lines when asked. */
export function axes(f: Frame): string {
  const [left, right] = f.x.range;
  const [bottom, top] = f.y.range;
  const parts: string[] = [];
  for (const v of f.yTicks === false ? [] : ticks(...f.y.domain)) {
    const y = f1(f.y(v));
    if (f.grid) parts.push(`<line x1="${left}" x2="${right}" y1="${y}" y2="${y}" stroke="currentColor" stroke-opacity="0.1"/>`);
    parts.push(`<line x1="${left - 6}" x2="${left}" y1="${y}" y2="${y}" stroke="currentColor"/><text x="${left - 9}" y="${y}" dy="0.32em" text-anchor="end">${tickText(v)}</text>`);
  }
  for (const v of ticks(...f.x.domain, Math.max(2, Math.round((right - left) / 60)))) {
    const x = f1(f.x(v));
    parts.push(`<line x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 6}" stroke="currentColor"/><text x="${x}" y="${bottom + 9}" dy="0.71em" text-anchor="middle">${tickText(v)}</text>`);
  }
  parts.push(`<text x="${right}" y="${f.height - 3}" text-anchor="end">${esc(f.xLabel)} →</text>`);
  if (f.yLabel) parts.push(`<text x="3" y="${top - 8}">↑ ${esc(f.yLabel)}</text>`);
  return parts.join('');
}

export function open(width: number, height: number, label: string): string {
  return `<svg class="light-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}" font-family="system-ui, sans-serif" font-size="11" fill="currentColor" style="overflow: visible">`;
}

export interface Series {
  points: [number, number][];
  stroke: string;
  width?: number;
  opacity?: number;
  dash?: string;
  title?: string;
}

export interface Dot { x: number; y: number; title: string }

/** Lines on linear axes, each series one `<path>`; dots as hollow circles with a title. */
export function lineChart(o: {
  series: Series[]; dots?: Dot[]; xDomain: [number, number]; yDomain: [number, number];
  xLabel: string; yLabel: string; width?: number; height?: number; label: string;
}): string {
  const width = o.width ?? 300, height = o.height ?? 190;
  const x = linear(o.xDomain, [44, width - 20]);
  // room under the plot for the tick labels and, below them, the axis label
  const y = linear(o.yDomain, [height - 34, 20]);
  const body = o.series.map((s) => {
    const d = pathOf(s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)).map(([a, b]) => [x(a), y(b)]));
    if (!d) return '';
    const title = s.title ? `<title>${esc(s.title)}</title>` : '';
    return `<path d="${d}" fill="none" stroke="${s.stroke}" stroke-width="${s.width ?? 1.5}"${s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : ''}${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round">${title}</path>`;
  }).join('');
  const dots = (o.dots ?? []).filter((d) => Number.isFinite(d.y)).map((d) =>
    `<circle cx="${f1(x(d.x))}" cy="${f1(y(d.y))}" r="3.5" fill="white" stroke="black" stroke-width="1.2"><title>${esc(d.title)}</title></circle>`).join('');
  return `${open(width, height, o.label)}${axes({ width, height, x, y, xLabel: o.xLabel, yLabel: o.yLabel, grid: true })}<g aria-label="line">${body}</g><g aria-label="dot">${dots}</g></svg>`;
}

/**
 * A polyline in whole pixels, relative after the first point, repeated pixels dropped: at a few
 * hundred pixels wide nobody sees less, and a flat stretch of a curve costs nothing.
 */
function pathOf(points: number[][]): string {
  if (!points.length) return '';
  let [px, py] = [Math.round(points[0][0]), Math.round(points[0][1])];
  let d = `M${px},${py}`;
  for (let i = 1; i < points.length; i++) {
    const x = Math.round(points[i][0]), y = Math.round(points[i][1]);
    if (x === px && y === py) continue;
    d += `l${x - px},${y - py}`;
    px = x; py = y;
  }
  return d;
}

/**
 * Marching squares on an n×n grid (row-major, row 0 at y0): the segments where the values cross
 * `level`, in grid units, as one path. Segments are not joined into rings: a stroke needs none.
 */
export function contourPath(values: ArrayLike<number>, n: number, level: number, px: (i: number) => number, py: (j: number) => number): string {
  const out: string[] = [];
  const at = (i: number, j: number) => values[j * n + i];
  const cross = (a: number, b: number) => (level - a) / (b - a);
  for (let j = 0; j + 1 < n; j++) {
    for (let i = 0; i + 1 < n; i++) {
      const v = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)] as const;
      // most cells lie wholly on one side: decided before any allocation
      const above = v[0] >= level;
      if (above === v[1] >= level && above === v[2] >= level && above === v[3] >= level) continue;
      if (!v.every(Number.isFinite)) continue;
      const edges: [number, number][] = [];
      // corners 0 (i, j), 1 (i+1, j), 2 (i+1, j+1), 3 (i, j+1); an edge is crossed when its ends straddle the level
      const corner = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
      for (let e = 0; e < 4; e++) {
        const a = v[e], b = v[(e + 1) % 4];
        if ((a >= level) !== (b >= level)) {
          const t = cross(a, b);
          const [x0, y0] = corner[e], [x1, y1] = corner[(e + 1) % 4];
          edges.push([x0 + t * (x1 - x0), y0 + t * (y1 - y0)]);
        }
      }
      for (let k = 0; k + 1 < edges.length; k += 2) {
        const [a, b] = [edges[k], edges[k + 1]];
        const x0 = Math.round(px(a[0])), y0 = Math.round(py(a[1]));
        out.push(`M${x0},${y0}l${Math.round(px(b[0])) - x0},${Math.round(py(b[1])) - y0}`);
      }
    }
  }
  return out.join('');
}

/** Point marks of one kind as one path: circles or triangles of radius r, centred on whole pixels. */
export function symbolsPath(points: [number, number][], symbol: 'circle' | 'triangle', r: number): string {
  const arc = `a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`;
  const [h, v] = [f1(r), f1(r * 1.8)];
  return points.map(([x, y]) => symbol === 'circle'
    ? `M${f1(Math.round(x) - r)},${Math.round(y)}${arc}`
    : `M${Math.round(x)},${f1(Math.round(y) - r * 1.15)}l${h},${v}h${f1(-2 * r)}z`).join('');
}
