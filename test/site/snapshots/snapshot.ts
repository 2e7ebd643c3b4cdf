/**
 * Snapshot files for chart markup, after Observable Plot's own tests: the markup is normalised
 * (generated ids renumbered, numbers rounded, data URLs reduced to a hash, one element per line)
 * so a snapshot diff shows what changed in the picture, not in floating-point noise.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseHTML } from 'linkedom';

const OUTPUT = join(import.meta.dirname, 'output');

// text-like attributes hold labels and ids, where "0.001" must stay "0.001"
const TEXT_ATTRIBUTE = /^(class|id|alt|role|href|src|xlink:href|aria-.*|data-.*)$/;
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const SVG_NS = 'http://www.w3.org/2000/svg';
// the HTML parser lowercases tag names; SVG's mixed-case ones the charts can hold, restored
const SVG_TAGS = new Map(['clipPath', 'foreignObject', 'linearGradient', 'radialGradient', 'textPath'].map((t) => [t.toLowerCase(), t]));

// decimals only: integers are exact already, and a colour like #2e8b57 is not a number
const round = (text: string) => text.replace(/-?(?:\d+\.\d*|\.\d+)(?:e[-+]?\d+)?/g, (s) => {
  const r = Math.round(Number(s) * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
});

// a PNG changes with every pixel: its hash says that as well as its text, at a fraction of the size
const dataUrl = (text: string) => text.replace(/^data:([^;,]*)(;base64)?,(.*)$/s, (_, type: string, b64: string | undefined, body: string) =>
  `data:${type}${b64 ?? ''},[sha256 ${createHash('sha256').update(body).digest('hex').slice(0, 16)}, ${body.length} chars]`);

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\n/g, '&#10;');
const escapeAttribute = (s: string) => escapeText(s).replace(/"/g, '&quot;');

/** Renumbers every match of `pattern` in order of first appearance. */
function renumber(text: string, pattern: RegExp, name: (n: number) => string): string {
  const seen = new Map<string, string>();
  return text.replace(pattern, (s) => {
    if (!seen.has(s)) seen.set(s, name(seen.size + 1));
    return seen.get(s)!;
  });
}

/** The normalised, pretty-printed form of chart markup (SVG or HTML), as stored in a snapshot. */
export function normalize(markup: string): string {
  const { document } = parseHTML(`<!doctype html><html><body>${markup}</body></html>`);
  const ids = new Map([...document.querySelectorAll('[id]')].map((e, i) => [e.getAttribute('id')!, `id-${i + 1}`]));
  const reference = (v: string) => v.replace(/url\(#([^)]+)\)/g, (s, id: string) => (ids.has(id) ? `url(#${ids.get(id)})` : s))
    .replace(/^#(.+)$/, (s, id: string) => (ids.has(id) ? `#${ids.get(id)}` : s));
  const attribute = (name: string, value: string) => {
    const v = name === 'id' ? ids.get(value) ?? value : reference(value);
    return TEXT_ATTRIBUTE.test(name) ? dataUrl(v) : round(v);
  };
  const lines: string[] = [];
  const print = (node: Node, depth: number) => {
    const pad = '  '.repeat(depth);
    if (node.nodeType === 3) {
      const text = node.textContent ?? '';
      if (text.trim()) lines.push(pad + escapeText(text.trim()));
      return;
    }
    if (node.nodeType !== 1) return;
    const e = node as Element;
    const tag = SVG_TAGS.get(e.localName) ?? e.localName;
    // a top-level SVG snapshot names its namespace, so it opens as a picture
    const xmlns = depth === 0 && tag === 'svg' && !e.hasAttribute('xmlns') ? ` xmlns="${SVG_NS}"` : '';
    const attrs = xmlns + e.getAttributeNames().map((n) => ` ${n}="${escapeAttribute(attribute(n, e.getAttribute(n)!))}"`).join('');
    const children = [...e.childNodes];
    if (tag === 'style') {
      // one CSS line per line, so a changed rule shows as one changed line
      lines.push(`${pad}<style${attrs}>`, ...(e.textContent ?? '').split('\n').filter((l) => l.trim()).map((l) => `${pad}  ${l.trimEnd()}`), `${pad}</style>`);
    } else if (!children.length) {
      lines.push(`${pad}<${tag}${attrs}${VOID.has(tag) ? '>' : e.namespaceURI === SVG_NS ? '/>' : `></${tag}>`}`);
    } else if (children.every((c) => c.nodeType === 3)) {
      lines.push(`${pad}<${tag}${attrs}>${escapeText(e.textContent ?? '')}</${tag}>`);
    } else {
      lines.push(`${pad}<${tag}${attrs}>`);
      for (const c of children) print(c, depth + 1);
      lines.push(`${pad}</${tag}>`);
    }
  };
  for (const c of document.body.childNodes) print(c, 0);
  // Plot's class names (plot-d6a7b5 and its -figure, -swatch… variants) depend on the Plot version
  return `${renumber(lines.join('\n'), /\bplot-[0-9a-f]{6}\b/g, (n) => `plot-${n}`)}\n`;
}

/**
 * Compares markup with `output/<name>.<ext>`. On a difference it writes `<name>-changed.<ext>`
 * beside it and fails naming both. A missing snapshot is written and reported, except under CI,
 * where it fails: a snapshot nobody committed must not pass unseen.
 */
export function expectSnapshot(name: string, markup: string): void {
  const ext = /^\s*<svg[\s>]/.test(markup) ? 'svg' : 'html';
  const expected = join(OUTPUT, `${name}.${ext}`);
  const changed = join(OUTPUT, `${name}-changed.${ext}`);
  const actual = normalize(markup);
  const shown = (p: string) => relative(process.cwd(), p);
  if (!existsSync(expected)) {
    if (process.env.CI) throw new Error(`no snapshot ${shown(expected)}: run the test outside CI to create it, look at it, and commit it`);
    mkdirSync(OUTPUT, { recursive: true });
    writeFileSync(expected, actual);
    console.warn(`created snapshot ${shown(expected)}: look at it and commit it`);
    return;
  }
  if (readFileSync(expected, 'utf8') === actual) {
    rmSync(changed, { force: true });
    return;
  }
  writeFileSync(changed, actual);
  throw new Error(`${name} differs from its snapshot: compare ${shown(changed)} with ${shown(expected)} (copy it over if the change is intended)`);
}
