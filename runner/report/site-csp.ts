import { createHash } from 'node:crypto';

/** Script types a browser executes; `application/json` data blocks and the like are not scripts. */
const EXECUTABLE = /^(|module|text\/javascript|application\/javascript|text\/ecmascript)$/i;

/**
 * The `sha256-…` sources of a page's inline scripts, exactly as the page carries them: Astro
 * inlines small scripts and `is:inline` ones, and the report's pages keep their code there.
 */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    const attributes = m[1];
    if (/\bsrc\s*=/i.test(attributes)) continue;
    const type = /\btype\s*=\s*(["']?)([^"'\s>]*)\1/i.exec(attributes)?.[2] ?? '';
    if (!EXECUTABLE.test(type) || m[2].length === 0) continue;
    hashes.add(`'sha256-${createHash('sha256').update(m[2], 'utf8').digest('base64')}'`);
  }
  return [...hashes].sort();
}

/**
 * The Content-Security-Policy `fitgrid serve` sends: nothing from another origin, scripts only
 * from the site itself or inline ones whose hash the page was served with (so no inline event
 * handler, `javascript:` URL or eval runs), images also as data: URIs (charts are inlined PNGs),
 * styles inline too (Astro inlines stylesheets and charts carry style attributes), no plugins,
 * no forms, no framing, no <base> rewriting.
 */
export function contentSecurityPolicy(html?: string): string {
  const scripts = ["'self'", ...(html ? inlineScriptHashes(html) : [])].join(' ');
  return [
    "default-src 'self'",
    `script-src ${scripts}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
