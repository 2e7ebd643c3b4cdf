import { summary } from '../../lib/summary.ts';
import { leaderboardRows } from '../../lib/leaderboard.ts';

// A script, not JSON: pages opened from disk may load scripts but not fetch() files.
export function GET() {
  const body = `window.fitgridCells = ${JSON.stringify(leaderboardRows(summary())).replace(/</g, '\\u003c')};\n`;
  return new Response(body, { headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
}
