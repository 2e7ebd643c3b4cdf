/**
 * One snapshot per chart function of the site: the whole picture, held still, so a change to a
 * colour, a margin or a mark shows up as a diff to look at. The behaviour tests are in
 * ../charts.test.ts; these catch what they do not assert.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tradeOff } from '../../../site/src/charts/bias-variance.ts';
import { boundary, boundaryLight } from '../../../site/src/charts/boundary.ts';
import { confusion, image } from '../../../site/src/charts/confusion.ts';
import { cellCurves, cellCurvesLight } from '../../../site/src/charts/curves.ts';
import { effectPlot, importanceBars, parallelCoordinates } from '../../../site/src/charts/explore.ts';
import { gallery, thumbnail, unitThumbnail } from '../../../site/src/charts/gallery.ts';
import { heatmap } from '../../../site/src/charts/heatmap.ts';
import { axes, contourPath, lineChart, linear, open, symbolsPath } from '../../../site/src/charts/svg.ts';
import { summarize } from '../../../runner/analysis/summary.ts';
import type { ImagesSummary } from '../../../runner/records/summary.ts';
import { generateSweep } from '../../fixtures/summary/generate.ts';
import { expectSnapshot, normalize } from './snapshot.ts';

// a short sweep keeps each curve, and so each snapshot, small
const sweep = generateSweep({ epochs: 24 });
const summary = summarize(sweep.manifest, sweep.results);
const cell = summary.cells[0];
const effects = summary.axisEffects!.val_loss;

// a 3×2 RGB image and a 2×2 grey one: enough pixels to tell channels and rows apart
const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0, 0, 255, 255, 40, 40, 40];
const grey: ImagesSummary = {
  width: 2, height: 2, channels: 1,
  gallery: { 3: Buffer.from([0, 85, 170, 255]).toString('base64'), 8: Buffer.from([255, 0, 0, 255]).toString('base64') },
};

// a saddle on a 4×4 grid: the 0.5 level crosses it in two separate segments
const saddle = [0, 0.2, 0.8, 1, 0.2, 0.4, 0.6, 0.8, 0.8, 0.6, 0.4, 0.2, 1, 0.8, 0.2, 0];

const charts: Record<string, () => string> = {
  'bias-variance-trade-off': () => tradeOff(summary.cells.slice(0, 6), 'mse'),
  'boundary': () => boundary(cell, { points: summary.points }),
  'boundary-light': () => boundaryLight(cell, { points: summary.points }),
  'confusion': () => confusion([[7, 0, 1], [0, 6, 2], [0, 1, 8]], ['setosa', 'versicolor', 'virginica']),
  'confusion-image': () => image([0, 0.25, 0.5, 0.75, 1, 0.5], 3, 2),
  'curves': () => cellCurves(cell, 'loss'),
  'curves-light': () => cellCurvesLight(cell, 'acc'),
  'explore-parallel-coordinates': () => parallelCoordinates(summary),
  'explore-importance-bars': () => importanceBars(effects),
  'explore-effect-plot': () => effectPlot(effects.axes[0], 'validation loss'),
  'gallery': () => gallery([{ index: 3, label: 1, predicted: 2, confidence: 0.875 }, { index: 8, label: 0, predicted: 1, confidence: 0.6 }], grey, ['zero', 'one', 'two & <more>']),
  'gallery-thumbnail': () => thumbnail((k) => rgb[k], { width: 3, height: 2, channels: 3 }, 60, 'a "quoted" alt'),
  'gallery-unit-thumbnail': () => unitThumbnail([0, 0.5, 1.2, -0.1], { width: 2, height: 2, channels: 1 }),
  'heatmap': () => heatmap(summary, (s) => s.val_loss, 'Validation loss'),
  'svg-line-chart': () => lineChart({
    series: [
      { points: [[1, 0.9], [2, 0.5], [3, 0.4], [4, NaN], [5, 0.3]], stroke: '#0072B2', dash: '3,2', title: 'training' },
      { points: [[1, 1], [2, 0.7], [3, 0.65], [4, 0.7], [5, 0.8]], stroke: '#D55E00', opacity: 0.5 },
    ],
    dots: [{ x: 3, y: 0.65, title: 'kept epoch 3' }],
    xDomain: [1, 5], yDomain: [0, 1], xLabel: 'Epoch', yLabel: 'Loss', label: 'Loss by epoch',
  }),
  'svg-axes': () => {
    const x = linear([0, 1e5], [40, 280]), y = linear([0.0001, 0.0005], [170, 20]);
    return `${open(300, 190, 'Axes <alone>')}${axes({ width: 300, height: 190, x, y, xLabel: 'Examples', yLabel: 'Rate', grid: true })}</svg>`;
  },
  'svg-paths': () => {
    const at = (i: number) => 20 + 40 * i;
    const contour = contourPath(saddle, 4, 0.5, at, at);
    const symbols = symbolsPath([[20.4, 30.6], [90, 100]], 'circle', 3) + symbolsPath([[60, 60]], 'triangle', 2.6);
    return `${open(160, 160, 'Paths')}<path d="${contour}" fill="none" stroke="black"/><path d="${symbols}"/></svg>`;
  },
};

describe('chart snapshots', () => {
  for (const [name, draw] of Object.entries(charts)) it(name, () => expectSnapshot(name, draw()));
});

describe('snapshot normalisation', () => {
  it('renumbers ids and their references, rounds decimals outside labels and hashes data URLs', () => {
    const markup = '<svg class="plot-d6a7b5"><defs><clipPath id="plot-clip-7"><rect x="0.123456" width="-0.001"/></clipPath></defs>'
      + '<g clip-path="url(#plot-clip-7)" aria-label="l2 0.001" fill="#2e8b57"><image href="data:image/png;base64,AAAA"/><use href="#plot-clip-7"/><text>0.12345</text></g></svg>';
    expect(normalize(markup)).toBe([
      '<svg xmlns="http://www.w3.org/2000/svg" class="plot-1">',
      '  <defs>',
      '    <clipPath id="id-1">',
      '      <rect x="0.12" width="0"/>',
      '    </clipPath>',
      '  </defs>',
      '  <g clip-path="url(#id-1)" aria-label="l2 0.001" fill="#2e8b57">',
      `    <image href="data:image/png;base64,[sha256 ${createHash('sha256').update('AAAA').digest('hex').slice(0, 16)}, 4 chars]"/>`,
      '    <use href="#id-1"/>',
      '    <text>0.12345</text>',
      '  </g>',
      '</svg>',
      '',
    ].join('\n'));
  });
});
