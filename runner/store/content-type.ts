import path from 'node:path';

/** Content types a built report site and the store's own files need; the rest are bytes. */
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.woff2': 'font/woff2',
  '.xml': 'application/xml',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

export function contentTypeFor(key: string): string {
  return types[path.posix.extname(key).toLowerCase()] ?? 'application/octet-stream';
}
