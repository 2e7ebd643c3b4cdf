import { summary } from '../../../lib/summary.ts';
import { compareChunk, compareChunkCount } from '../../../lib/leaderboard.ts';

export function getStaticPaths() {
  return Array.from({ length: compareChunkCount(summary()) }, (_, k) => ({ params: { chunk: String(k) } }));
}

// A script, not JSON: pages opened from disk may load scripts but not fetch() files.
export function GET({ params }: { params: { chunk: string } }) {
  const k = Number(params.chunk);
  const body = `(window.fitgridCurves = window.fitgridCurves || {})[${k}] = ${JSON.stringify(compareChunk(summary(), k)).replace(/</g, '\\u003c')};\n`;
  return new Response(body, { headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
}
