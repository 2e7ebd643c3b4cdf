import { describe, expect, it } from 'vitest';
import { UserError } from '../../runner/errors.ts';
import { encodeLabels, fitStandardizer, parseTable, standardize } from '../../runner/data/csv.ts';

const error = (f: () => unknown): UserError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
};

describe('parseTable', () => {
  it('reads numeric features and the named label column in file order', () => {
    const t = parseTable('a,kind,b\n1,x,2.5\n-3e2,y,4\n', 'kind', 'd.csv');
    expect(t.featureNames).toEqual(['a', 'b']);
    expect(t.x).toEqual([[1, 2.5], [-300, 4]]);
    expect(t.labels).toEqual(['x', 'y']);
    expect(t.rows).toEqual([2, 3]);
  });

  it('names the header row, not its content, when the label column is missing', () => {
    const e = error(() => parseTable('root:x:0:0,b\n1,2\n', 'y', 'd.csv'));
    expect(e.message).toBe('d.csv: row 1: column "y": Expected a label column named "y" in the header (2 columns)');
  });

  it('names the file row and column of a non-numeric cell', () => {
    const e = error(() => parseTable('a,b,y\n1,2,p\n3,oops,q\n', 'y', 'd.csv'));
    expect(e.place).toEqual({ file: 'd.csv', row: 3, column: 'b' });
    expect(e.message).toMatch(/Expected a number, got text$/);
    expect(e.message).not.toContain('oops');
  });

  it('counts the file lines, skipped blank lines included, in row numbers', () => {
    const e = error(() => parseTable('a,y\n1,p\n\n,q\n', 'y', 'd.csv'));
    expect(e.place).toEqual({ file: 'd.csv', row: 4, column: 'a' });
  });

  it('rejects an empty file and a header without rows', () => {
    expect(error(() => parseTable('', 'y', 'd.csv')).message).toMatch(/d\.csv: .*empty file/);
    expect(error(() => parseTable('a,y\n', 'y', 'd.csv')).message).toMatch(/no|none/);
  });

  it('rejects a file with a label column and nothing else', () => {
    expect(error(() => parseTable('y\na\nb\n', 'y', 'd.csv')).message).toMatch(/Expected feature columns/);
  });

  it('rejects a row with the wrong number of cells, naming its row', () => {
    expect(error(() => parseTable('a,y\n1,p\n2\n', 'y', 'd.csv')).place).toEqual({ file: 'd.csv', row: 3 });
  });
});

describe('encodeLabels', () => {
  it('maps labels to 0..C-1 in sorted order, numerically when all are numbers', () => {
    expect(encodeLabels(['b', 'a', 'c', 'a'])).toEqual({ y: [1, 0, 2, 0], classNames: ['a', 'b', 'c'] });
    expect(encodeLabels(['10', '9', '2'])).toEqual({ y: [2, 1, 0], classNames: ['2', '9', '10'] });
  });

  it('rejects a label column with one class only', () => {
    const e = error(() => encodeLabels(['a', 'a'], { file: 'd.csv', column: 'y' }));
    expect(e.message).toMatch(/^d\.csv: column "y": Expected at least two classes/);
  });
});

describe('standardize', () => {
  it('uses the fitted rows mean and population deviation, leaving constant features centred', () => {
    const fitted = fitStandardizer([[1, 5], [3, 5]]);
    expect(fitted).toEqual({ mean: [2, 5], std: [1, 1] });
    expect(standardize([[1, 5], [5, 7]], fitted)).toEqual([[-1, 0], [3, 2]]);
  });
});
