import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';

/** Okabe–Ito: distinguishable with every common colour-vision deficiency. */
export const okabeIto = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];
export const trainColor = '#0072B2';
export const valColor = '#D55E00';

const { document } = parseHTML('<!doctype html><html><body></body></html>');

/** Renders a Plot to SVG markup at build time, so pages show charts without JavaScript. */
export function render(options: Plot.PlotOptions): string {
  return plotElement(options).outerHTML;
}

/** The rendered chart, for helpers that add to it (Plot's `scale(name)` maps data to pixels). */
export function plotElement(options: Plot.PlotOptions): Element & { scale: (name: string) => { apply: (v: number) => number } } {
  return Plot.plot({ document, style: { fontSize: '11px' }, ...options } as Plot.PlotOptions) as never;
}

export { document };

export { Plot };
