/** One CSV record and the line it starts on (1-based), for problem reports. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

export type CsvParse =
  | { readonly ok: true; readonly records: readonly CsvRecord[] }
  | { readonly ok: false; readonly line: number; readonly message: string };

/**
 * RFC 4180: fields separated by commas, records by CRLF (a bare LF is taken
 * too: most tools write it), a field in double quotes may hold commas, line
 * breaks and doubled quotes. A quote anywhere else is an error, not a guess:
 * a stray quote usually means a shifted column, and importing shifted columns
 * puts meters in the wrong district. A leading byte-order mark (spreadsheets
 * write one) is dropped; empty lines are skipped.
 */
export function parseCsv(text: string): CsvParse {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) {
      i += text[i] === '\r' ? 2 : 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) return { ok: false, line: startLine, message: 'a quoted field is not closed before the end of the file' };
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          value += c;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          return { ok: false, line, message: 'a closing quote must end its field (a quote inside a quoted field is written twice)' };
        }
      } else {
        const start = i;
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') return { ok: false, line, message: 'a quote inside an unquoted field (quote the whole field, and double the quote)' };
          i++;
        }
        value = text.slice(start, i);
      }
      fields.push(value);
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r' && text[i + 1] !== '\n') return { ok: false, line, message: 'a carriage return without a line feed' };
      i += text[i] === '\r' ? 2 : 1;
      line++;
      break;
    }
    records.push({ line: startLine, fields });
  }
  return { ok: true, records };
}
