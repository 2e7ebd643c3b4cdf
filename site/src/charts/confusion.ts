import { Plot, render } from './plot.ts';

/** Counts of validation predictions: rows the true class, columns the predicted one. */
export function confusion(matrix: number[][], classes: string[]): string {
  const data = matrix.flatMap((row, t) => row.map((count, p) => ({ truth: classes[t] ?? String(t), predicted: classes[p] ?? String(p), count })));
  // Room for the longest class name (≈6 px a character at 10 px), and wider cells for fewer classes.
  const longest = Math.max(...classes.map((c) => c.length), 1);
  const cell = Math.max(34, Math.min(80, longest * 7 + 10));
  const rotate = longest > 4 ? -30 : 0;
  return render({
    width: 20 + longest * 6 + cell * classes.length, height: 50 + (rotate ? longest * 4 : 0) + 30 * classes.length,
    marginLeft: 20 + longest * 6, marginTop: 30 + (rotate ? longest * 4 : 0),
    x: { label: 'Predicted class', axis: 'top', domain: classes, tickRotate: rotate },
    y: { label: 'True class', domain: classes },
    color: { type: 'sqrt', scheme: 'viridis', label: 'Validation examples' },
    marks: [
      Plot.cell(data, { x: 'predicted', y: 'truth', fill: 'count', inset: 0.5, title: (d: { truth: string; predicted: string; count: number }) => `true ${d.truth}, predicted ${d.predicted}: ${d.count}` }),
      Plot.text(data, { x: 'predicted', y: 'truth', text: 'count', fill: 'white', stroke: 'black', strokeWidth: 2, fontSize: 9 }),
    ],
  });
}

/** One grayscale image as a small raster (pixels row-major in [0, 1]). */
export function image(pixels: number[], width: number, height: number, size = 56): string {
  return render({
    width: size, height: size, margin: 0, axis: null,
    x: { domain: [0, width] }, y: { domain: [height, 0] },
    color: { type: 'linear', domain: [0, 1], range: ['white', 'black'] },
    marks: [Plot.rect(pixels.map((v, i) => ({ x: i % width, y: Math.floor(i / width), v })), { x1: 'x', x2: (d: { x: number }) => d.x + 1, y1: 'y', y2: (d: { y: number }) => d.y + 1, fill: 'v' })],
  });
}
