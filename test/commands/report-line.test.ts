import { describe, expect, it } from 'vitest';
import { reportedLine } from '../../runner/commands/report.ts';

const counts = (missing: number) => ({ trials: 40, cells: 8, ok: 40 - missing - 2, diverged: 1, failed: 1, missing });
const unreadable = (count: number) => ({ count, examples: [] });

describe("`fitgrid report`'s count line", () => {
  it('says only the counts for a complete sweep', () => {
    expect(reportedLine({ counts: counts(0) })).toBe('38 of 40 trials in 8 cells reported');
  });

  it('tells trials not stored yet (report later) from unreadable ones (delete and run again)', () => {
    expect(reportedLine({ counts: counts(3) })).toBe('35 of 40 trials in 8 cells reported (3 missing: 3 not stored yet: still training? report again later)');
    expect(reportedLine({ counts: counts(2), unreadable: unreadable(2) }))
      .toBe('36 of 40 trials in 8 cells reported (2 missing: 2 unreadable, named above: delete them and run the sweep again to train them anew)');
    expect(reportedLine({ counts: counts(5), unreadable: unreadable(1) }))
      .toBe('33 of 40 trials in 8 cells reported (5 missing: 4 not stored yet: still training? report again later; 1 unreadable, named above: delete them and run the sweep again to train them anew)');
  });
});
