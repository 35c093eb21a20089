import { describe, expect, it } from 'vitest';
import { CsvError, parseCsv, toCsv } from './csv.ts';

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes and line breaks inside quotes, keeping line numbers', () => {
    const text = 'a,b\r\n"x, y","say ""hi"""\n"two\nlines",z\n\nlast,row';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['two\nlines', 'z'] },
      { line: 6, fields: ['last', 'row'] },
    ]);
  });

  it('drops a byte-order mark and refuses an unclosed quote naming its line', () => {
    expect(parseCsv('\uFEFFa\n')).toEqual([{ line: 1, fields: ['a'] }]);
    expect(() => parseCsv('a\n"open')).toThrow(CsvError);
  });
});

describe('toCsv', () => {
  it('quotes what needs it and defuses spreadsheet formulas', () => {
    expect(toCsv([['a,b', 'q"', null, '=SUM(A1)', '+447700900123']])).toBe(
      '"a,b","q""",,\'=SUM(A1),+447700900123\r\n',
    );
  });

  it('round-trips through parseCsv', () => {
    const rows = [
      ['name', 'notes'],
      ['Ann', 'line\nbreak, "quoted"'],
    ];
    expect(parseCsv(toCsv(rows)).map((r) => r.fields)).toEqual(rows);
  });
});
