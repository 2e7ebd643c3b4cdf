import { findBrowser, type FoundBrowser } from '../../runner/bench/browser.ts';

export const ENABLE_HINT = 'set FITGRID_CHROMIUM=/path/to/chrome (or install chromium) to run them';

export type TestBrowser = FoundBrowser;

/**
 * The browser for the report's browser tests (runner/bench/browser.ts finds it). None: under
 * `CI=true` this throws (the run fails); elsewhere it prints one line saying why the browser
 * tests are skipped and how to enable them, and returns undefined. An explicit FITGRID_CHROMIUM
 * that does not launch always throws.
 */
export async function launchTestBrowser(env: NodeJS.ProcessEnv = process.env): Promise<TestBrowser | undefined> {
  const found = await findBrowser(env);
  if ('browser' in found) return found;
  if (isCi(env)) throw new Error(`CI=true and ${found.why}: the browser tests must run in CI; ${ENABLE_HINT}`);
  process.stderr.write(`fitgrid tests: browser tests skipped: ${found.why}; ${ENABLE_HINT}\n`);
  return undefined;
}

const isCi = (env: NodeJS.ProcessEnv) => !!env.CI && env.CI !== 'false' && env.CI !== '0';
