import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.ts';

describe('RFC 4180 CSV', () => {
  it('reads quoted commas, doubled quotes and line breaks, CRLF or LF, and numbers records by their first line', () => {
    const text = '\ufeffa,b,c\r\n"x, y","say ""hi""",""\r\n\r\n"two\nlines",,last\nend,,';
    expect(parseCsv(text)).toEqual({
      ok: true,
      records: [
        { line: 1, fields: ['a', 'b', 'c'] },
        { line: 2, fields: ['x, y', 'say "hi"', ''] },
        { line: 4, fields: ['two\nlines', '', 'last'] },
        { line: 6, fields: ['end', '', ''] },
      ],
    });
  });

  it('refuses stray and unclosed quotes with the line they are on', () => {
    expect(parseCsv('a,b\nx,ab"c\n')).toMatchObject({ ok: false, line: 2, message: expect.stringMatching(/unquoted field/) });
    expect(parseCsv('a,b\n"x"y,z\n')).toMatchObject({ ok: false, line: 2, message: expect.stringMatching(/closing quote/) });
    expect(parseCsv('a,b\n\n"open,z\nmore')).toMatchObject({ ok: false, line: 3, message: expect.stringMatching(/not closed/) });
    expect(parseCsv('a\rb')).toMatchObject({ ok: false, line: 1 });
  });
});
