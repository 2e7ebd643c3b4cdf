import { UserError } from '../errors.ts';

/**
 * Keys are relative `/`-separated names. Anything that could escape a folder root or mean
 * something different under S3 than under a folder is refused before any I/O happens.
 */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || key === '') throw new Error('store key must be a non-empty string');
  problem(key, false);
  return key;
}

/** A list prefix may be empty or end with `/`, but must not reach outside the root either. */
export function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string') throw new Error('store prefix must be a string');
  if (prefix !== '') problem(prefix, true);
  return prefix;
}

function problem(key: string, isPrefix: boolean): void {
  const bad = (why: string) => {
    // Keys come from user input too (sweep names, keys a bucket lists): a user mistake, one line.
    throw new UserError(`unsafe store key ${JSON.stringify(key)}: ${why}`);
  };
  if (key.includes('\0')) bad('contains NUL');
  if (key.includes('\\')) bad('contains a backslash');
  if (key.startsWith('/')) bad('is absolute');
  if (/^[a-zA-Z]:/.test(key)) bad('is absolute');
  const segments = key.split('/');
  // A prefix such as `sweeps/x/` ends with an empty segment; that one is allowed.
  if (isPrefix && segments.at(-1) === '') segments.pop();
  for (const s of segments) {
    if (s === '') bad('has an empty segment');
    if (s === '.' || s === '..') bad(`has a \`${s}\` segment`);
  }
}
