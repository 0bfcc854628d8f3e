// The CSV reader and writer were rewritten for speed (lib/campaign.ts). The code they replaced
// is kept here verbatim as the reference: for random inputs cut into random chunks, the new code
// must give exactly what the old one gave for the whole text, however it is cut into chunks.
import { describe, expect, it } from 'vitest';
import { CsvBytes, CsvReader, csvField, csvLine, type CsvProblem, type CsvRecord } from '../../lib/campaign';

// ---------------------------------------------------------------------------------------------
// Reference: the implementations before the rewrite, unchanged
// ---------------------------------------------------------------------------------------------

class ReferenceCsvReader {
  private field = '';
  private fields: string[] = [];
  private inQuotes = false;
  private afterQuote = false;
  private line = 1;
  private recordLine = 1;
  private bad: string | null = null;
  private prevCR = false;
  private started = false;
  private any = false; // the current record has any character
  static readonly MAX_FIELD = 10_000;

  constructor(
    private readonly onRecord: (r: CsvRecord) => void,
    private readonly onProblem: (p: CsvProblem) => void,
  ) {}

  push(chunk: string): void {
    let i = 0;
    if (!this.started) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    const n = chunk.length;
    for (; i < n; i++) {
      const ch = chunk[i]!;
      if (this.prevCR) {
        this.prevCR = false;
        if (ch === '\n' && !this.inQuotes) continue; // CRLF: the CR already ended the record
      }
      if (this.inQuotes) {
        if (ch === '"') {
          if (chunk[i + 1] === '"') {
            this.field += '"';
            i++;
          } else if (i + 1 === n) {
            // The next chunk decides: a doubled quote across chunks, or the closing quote.
            this.pendingQuote = true;
            this.inQuotes = false;
            this.afterQuote = true;
          } else {
            this.inQuotes = false;
            this.afterQuote = true;
          }
        } else {
          if (ch === '\n' || (ch === '\r' && chunk[i + 1] !== '\n')) this.line++;
          if (this.field.length < ReferenceCsvReader.MAX_FIELD) this.field += ch;
          else this.bad ??= `a field is longer than ${ReferenceCsvReader.MAX_FIELD} characters`;
        }
        continue;
      }
      if (this.pendingQuote) {
        this.pendingQuote = false;
        if (ch === '"') {
          // "" split across chunks: a literal quote, still inside the quoted field
          this.field += '"';
          this.inQuotes = true;
          this.afterQuote = false;
          continue;
        }
      }
      if (ch === ',') {
        this.fields.push(this.field);
        this.field = '';
        this.afterQuote = false;
        this.any = true;
      } else if (ch === '\n' || ch === '\r') {
        this.endRecord();
        this.line++;
        this.recordLine = this.line;
        if (ch === '\r') this.prevCR = true;
      } else if (ch === '"') {
        this.any = true;
        if (this.field === '' && !this.afterQuote) this.inQuotes = true;
        else this.bad ??= 'has a stray quote (") inside a field';
      } else {
        this.any = true;
        if (this.afterQuote) this.bad ??= 'has text after a closing quote';
        if (this.field.length < ReferenceCsvReader.MAX_FIELD) this.field += ch;
        else this.bad ??= `a field is longer than ${ReferenceCsvReader.MAX_FIELD} characters`;
      }
    }
  }
  private pendingQuote = false;

  /** End of input: flushes the last record; an open quote is reported. */
  end(): void {
    this.pendingQuote = false;
    if (this.inQuotes) {
      this.onProblem({ line: this.recordLine, problem: 'has a quoted field that is never closed' });
      this.reset();
      return;
    }
    this.endRecord();
  }

  private endRecord(): void {
    if (!this.any && this.field === '' && this.fields.length === 0) {
      this.reset();
      return; // blank line
    }
    this.fields.push(this.field);
    if (this.bad) this.onProblem({ line: this.recordLine, problem: this.bad });
    else this.onRecord({ line: this.recordLine, fields: this.fields });
    this.reset();
  }

  private reset(): void {
    this.field = '';
    this.fields = [];
    this.afterQuote = false;
    this.bad = null;
    this.any = false;
  }
}

function referenceCsvLine(fields: readonly (string | number)[]): string {
  return fields.map(referenceCsvField).join(',') + '\r\n';
}

function referenceCsvField(v: string | number): string {
  const s = String(v);
  // A leading = + - @ would run as a formula in a spreadsheet: prefix a quote mark (OWASP).
  const safe = /^[=+\-@\t\r]/.test(s) && !/^[+-]?\d[\d\s().-]*$/.test(s) ? `'${s}` : s;
  return /[",\r\n]|^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

// ---------------------------------------------------------------------------------------------
// Random inputs (seeded, so a failure can be replayed)
// ---------------------------------------------------------------------------------------------

function rng(seed: number): () => number {
  // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX = CsvReader.MAX_FIELD;
const CSV_TOKENS = [',', '"', '""', '\r', '\n', '\r\n', '=', '+', '-', '@', ' ', '\t', 'é', '😀', 'a', '1', 'ab,', '"x"', '\ufeff'];

/** CSV-ish text from CSV_TOKENS; with `long`, now and then a run of letters near MAX_FIELD. */
function randomCsv(rand: () => number, long: boolean): string {
  let s = rand() < 0.1 ? '\ufeff' : '';
  const tokens = Math.floor(rand() * 40);
  for (let t = 0; t < tokens; t++) {
    if (long && rand() < 0.08) s += 'a'.repeat(MAX - 3 + Math.floor(rand() * 6));
    else s += CSV_TOKENS[Math.floor(rand() * CSV_TOKENS.length)];
  }
  return s;
}

/** Cuts text into chunks of random sizes, preferring cuts inside CRLF and between two quotes. */
function randomChunks(rand: () => number, text: string): string[] {
  const chunks: string[] = [];
  const most = 1 + Math.floor(rand() * (text.length + 1));
  let start = 0;
  if (rand() < 0.1) chunks.push(''); // an empty first chunk: a BOM after it is still the file's BOM
  while (start < text.length) {
    let end = Math.min(text.length, start + 1 + Math.floor(rand() * most));
    for (let k = start + 1; k < end; k++) {
      const pair = text.slice(k - 1, k + 1);
      if ((pair === '\r\n' || pair === '""') && rand() < 0.5) {
        end = k;
        break;
      }
    }
    chunks.push(text.slice(start, end));
    if (rand() < 0.05) chunks.push('');
    start = end;
  }
  return chunks;
}

type Event = ['record', CsvRecord] | ['problem', CsvProblem];

function read(
  Reader: typeof CsvReader | typeof ReferenceCsvReader,
  chunks: string[],
  thenMore: string[] = [],
): Event[] {
  const events: Event[] = [];
  const r = new Reader(
    (x) => events.push(['record', x]),
    (p) => events.push(['problem', p]),
  );
  for (const c of chunks) r.push(c);
  r.end();
  if (thenMore.length) {
    // Pushing after end() is not a use the app makes, but it should not differ either.
    for (const c of thenMore) r.push(c);
    r.end();
  }
  return events;
}

// The reference read the whole text at once: it counted a CRLF inside quotes that a chunk
// boundary split as two lines, and kept a BOM after an empty first chunk; the new reader gives
// the same for any chunking.
function expectSameReading(chunks: string[], thenMore: string[] = []): void {
  const got = read(CsvReader, chunks, thenMore);
  const whole = (cs: string[]) => (cs.length ? [cs.join('')] : []);
  const want = read(ReferenceCsvReader, whole(chunks), whole(thenMore));
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    // toEqual's diff, with the input that broke it
    expect({ chunks, thenMore, events: got }).toEqual({ chunks, thenMore, events: want });
  }
}

// ---------------------------------------------------------------------------------------------

describe('CsvReader against the reference', () => {
  it('plain cases', () => {
    const texts = [
      '',
      '\ufeff',
      '\ufeffa,b\r\nc,d\r\n',
      'a,b\nc,d',
      'a,b\rc,d\r',
      '\r\n\r\n\na\r\n\r\nb',
      'first_name,last_name,crm_id,phone,email,offer\r\nPat12,Lee34,B-0000123,,,spring-3\r\nPat1,Lee2,,+12000000246,,spring-1\r\n',
      'id,name,note\r\nC-1,"Smith, Ann","said ""hi""\nthen left"\r\n\r\nC-2,Bob,plain\nC-3,"bad"x,y\nC-4,Dee,"open',
      'a"b,c\r\n"x"y\r\n""\r\n"""",""""""\r\n,\r\n,,\r\n"a\r\nb\rc\nd",e\r\nf',
      'é,😀\r\n"😀\r\n",é',
      `${'a'.repeat(MAX)},b\r\n${'a'.repeat(MAX + 1)},b\r\n"${'a'.repeat(MAX)}"""\r\n"${'a'.repeat(MAX + 1)}"\r\nok`,
      `${'a'.repeat(MAX + 1)}"x\r\n"a"${'b'.repeat(MAX + 5)}\r\nok`,
    ];
    for (const text of texts) {
      expectSameReading([text]);
      for (const size of [1, 2, 3, 5, 7, 16, 4096]) {
        const chunks: string[] = [];
        for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
        expectSameReading(chunks);
      }
    }
  });

  it('counts a CRLF inside quotes as one line wherever the chunks are cut', () => {
    const text = 'id,note\r\nA,"one\r\ntwo"\r\nB,x\r\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const events = read(CsvReader, [text.slice(0, cut), text.slice(cut)]);
      expect(events.map(([, e]) => e.line)).toEqual([1, 2, 4]); // B is on the file's fourth line
    }
  });

  it('random inputs in random chunks', () => {
    const rand = rng(20240302);
    for (let n = 0; n < 20_000; n++) {
      const text = randomCsv(rand, false);
      expectSameReading([text]);
      expectSameReading(randomChunks(rand, text));
      expectSameReading(randomChunks(rand, text), rand() < 0.1 ? randomChunks(rand, randomCsv(rand, false)) : []);
    }
  });

  it('random inputs with fields near MAX_FIELD, in random chunks', () => {
    const rand = rng(7);
    for (let n = 0; n < 400; n++) {
      const text = randomCsv(rand, true);
      expectSameReading([text]);
      expectSameReading(randomChunks(rand, text));
    }
  });
});

describe('csvField and csvLine against the reference', () => {
  const FIELD_TOKENS = [...CSV_TOKENS, '(', ')', '.', "'", '0', '9', 'Z', '~', '\v', '\f', '\u00a0', '\u2028', '\u3000', '\u0085', 'x y'];

  function randomField(rand: () => number): string | number {
    const r = rand();
    if (r < 0.1) return Math.floor((rand() - 0.5) * 2e6);
    if (r < 0.15) return (rand() - 0.5) * 10 ** Math.floor(rand() * 50 - 25);
    if (r < 0.17) return [NaN, Infinity, -Infinity, -0, 0, 1e21, -1e21, 1e-7, -1e-7][Math.floor(rand() * 9)]!;
    let s = '';
    const tokens = Math.floor(rand() * 10);
    for (let t = 0; t < tokens; t++) s += FIELD_TOKENS[Math.floor(rand() * FIELD_TOKENS.length)];
    return s;
  }

  it('plain cases', () => {
    const fields: (string | number)[] = [
      '', 'Pat12', 'B-0000123', '+12000000246', '-5', '-', '+', '=SUM(A1)', '@x', '\tx', '\rx', ' x', 'x ',
      'name.77@example.com', 'spring-3', 'a,b', 'say "x"', 'multi\nline', '+1 (407) 555-0101', '-1e5', 'José', 'Zoë ',
      'Not approved: customer denied (written, 2024-03-02, notice v3, by rep17@example.com)',
      7, -7, 0, -0, 1.5, -1.5, NaN, Infinity, -Infinity, 1e21, -1e21,
    ];
    for (const f of fields) expect(csvField(f)).toBe(referenceCsvField(f));
    expect(csvLine(fields)).toBe(referenceCsvLine(fields));
    expect(csvLine([])).toBe(referenceCsvLine([]));
    expect(csvLine([''])).toBe(referenceCsvLine(['']));
  });

  it('every UTF-16 code unit at the start, the end and alone', () => {
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      for (const s of [ch, `${ch}a`, `a${ch}`, `${ch}1`, `a${ch}b`]) {
        if (csvField(s) !== referenceCsvField(s)) expect([c, csvField(s)]).toEqual([c, referenceCsvField(s)]);
      }
    }
  });

  it('CsvBytes writes exactly the UTF-8 of the reference lines, in chunks of any size', () => {
    const bytesOf = (w: CsvBytes) => Buffer.concat(w.chunks());
    // every UTF-16 code unit (lone surrogates become U+FFFD, as in any UTF-8 encoder), in one file
    const whole = new CsvBytes();
    let want = '';
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      const fields = [ch, `${ch}a`, `a${ch}`, `${ch}1`, `a${ch}b`, '😀', c];
      whole.line(fields);
      want += referenceCsvLine(fields);
    }
    expect(bytesOf(whole).equals(Buffer.from(want, 'utf8'))).toBe(true);
    const rand = rng(7);
    for (let n = 0; n < 2_000; n++) {
      const w = new CsvBytes(1 + Math.floor(rand() * 64));
      let text = '';
      for (let l = Math.floor(rand() * 6); l > 0; l--) {
        const fields = Array.from({ length: Math.floor(rand() * 8) }, () => randomField(rand));
        w.line(fields);
        text += referenceCsvLine(fields);
      }
      const got = bytesOf(w);
      if (!got.equals(Buffer.from(text, 'utf8'))) expect(got.toString('utf8')).toBe(text);
      expect(w.chunks().every((c) => c.length > 0)).toBe(true);
    }
  });

  it('CsvBytes can be read out, written on and read out again', () => {
    const w = new CsvBytes(8);
    w.line(['a', 'b,c']);
    const first = Buffer.concat(w.chunks());
    w.line(['é', 1]);
    expect(Buffer.concat(w.chunks()).toString('utf8')).toBe('a,"b,c"\r\né,1\r\n');
    expect(first.toString('utf8')).toBe('a,"b,c"\r\n');
    expect(new CsvBytes().chunks()).toEqual([]);
  });

  it('random fields and lines', () => {
    const rand = rng(99);
    for (let n = 0; n < 50_000; n++) {
      const fields = Array.from({ length: Math.floor(rand() * 8) }, () => randomField(rand));
      for (const f of fields) if (csvField(f) !== referenceCsvField(f)) expect(csvField(f)).toBe(referenceCsvField(f));
      const line = csvLine(fields);
      if (line !== referenceCsvLine(fields)) expect({ fields, line }).toEqual({ fields, line: referenceCsvLine(fields) });
    }
  });
});
