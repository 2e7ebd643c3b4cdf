import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SweepSummary } from '../records/summary.ts';
import { cellPageBody, pointsLayer } from '../../site/src/lib/cell-page.ts';
import { cellTitle } from '../../site/src/lib/summary.ts';
import { esc } from '../../site/src/charts/svg.ts';

/** What site/src/pages/cells/shell.astro leaves for each page to fill in. */
const TITLE = 'FITGRID_CELL_TITLE';
const BODY = '<fitgrid-cell-body></fitgrid-cell-body>';
/** The shell's styles, shared by every cell page as one file rather than inlined thousands of times. */
const CELL_STYLESHEET = 'page.css';
/** Files written at once. */
const WRITES = 16;

/**
 * Writes `cells/<cellId>.html` for every cell into a built site, from the shell page Astro built
 * (`cells/shell.html`, removed here): Astro's cost per route is paid once, and each page is
 * string templates around charts drawn as SVG text. Returns how many pages it wrote.
 */
export async function writeCellPages(s: SweepSummary, siteDir: string): Promise<number> {
  const dir = join(siteDir, 'cells');
  const shellFile = join(dir, 'shell.html');
  const shell = await readFile(shellFile, 'utf8');
  await rm(shellFile);
  const at = shell.indexOf(BODY);
  if (at < 0 || !shell.includes(TITLE)) throw new Error(`${shellFile} lacks the ${BODY} or ${TITLE} placeholder`);
  const styles: string[] = [];
  const head = shell.slice(0, at).replace(/<style>([\s\S]*?)<\/style>/g, (_, css: string) => {
    styles.push(css);
    return styles.length === 1 ? `<link rel="stylesheet" href="${CELL_STYLESHEET}">` : '';
  });
  const [before, after] = [head.split(TITLE), shell.slice(at + BODY.length)];
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, CELL_STYLESHEET), styles.join('\n'));
  const pending = new Set<Promise<void>>();
  const layers = new Set<string>();
  for (let i = 0; i < s.cells.length; i++) {
    const cell = s.cells[i];
    const layer = pointsLayer(s, cell);
    if (layer && !layers.has(layer.file)) {
      layers.add(layer.file);
      await writeFile(join(dir, layer.file), layer.svg());
    }
    const html = before.join(esc(cellTitle(s, cell))) + cellPageBody(s, i) + after;
    const write = writeFile(join(dir, `${cell.cellId}.html`), html).then(() => { pending.delete(write); });
    pending.add(write);
    if (pending.size >= WRITES) await Promise.race(pending);
  }
  await Promise.all(pending);
  return s.cells.length;
}
