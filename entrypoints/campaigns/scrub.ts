// The list scrub, as the worker runs it: stream the CSV, find the identifier columns in the
// header, look customers up in the cache in batches, decide each row with
// decide('marketing.other_category') and write allowed.csv, blocked.csv and problems.csv.
// Free of worker globals so tests run it directly.
import {
  BLOCKED_EXTRA_COLUMNS,
  COLUMN_LABELS,
  CsvBytes,
  CsvReader,
  csvField,
  csvFields,
  detectColumns,
  createScrubDecider,
  rowIdentifiers,
  type ColumnMap,
  type MarketingApprovals,
  type RowVerdict,
} from '@/lib/campaign';
import type { PolicySettings } from '@/lib/schemas';
import type { RecordIdentifiers } from '@/lib/snapshot';

// Rows matched per cache call. The cache reads every bucket a batch needs once per call, and a
// big list needs nearly all of them, so batches are as large as memory comfortably allows.
export const SCRUB_BATCH = 1_000_000;
export const MAX_LISTED_PROBLEMS = 200;

export interface ScrubInput {
  /** Byte chunks of the file, in order. */
  chunks: AsyncIterable<Uint8Array>;
  totalBytes: number;
  crm: string;
  policy: PolicySettings;
  now: Date;
  /** CustomerCache.decideMany: `decide` applied to each row's standing marketing consents (null when no one customer matches). */
  decideMany: (ids: readonly RecordIdentifiers[], decide: (found: MarketingApprovals | null) => RowVerdict) => Promise<RowVerdict[]>;
  onProgress?: (p: { rows: number; bytes: number; totalBytes: number }) => void;
  isCancelled?: () => boolean;
  /** Rows per cache call; SCRUB_BATCH unless a test asks for small batches. */
  batchSize?: number;
}

export interface ScrubOutput {
  counts: { total: number; allowed: number; blocked: number; unknown: number; malformed: number };
  columns: Partial<Record<keyof typeof COLUMN_LABELS, string>>;
  problems: { line: number; problem: string }[]; // the first MAX_LISTED_PROBLEMS
  /** Each output file as UTF-8 bytes, in chunks (CsvBytes): make a Blob of them. */
  allowedCsv: Uint8Array<ArrayBuffer>[];
  blockedCsv: Uint8Array<ArrayBuffer>[];
  problemsCsv: Uint8Array<ArrayBuffer>[];
}

export class ScrubError extends Error {}

export async function runScrub(input: ScrubInput): Promise<ScrubOutput> {
  const counts: ScrubOutput['counts'] = { total: 0, allowed: 0, blocked: 0, unknown: 0, malformed: 0 };
  const out: Pick<ScrubOutput, 'columns' | 'problems'> = { columns: {}, problems: [] };
  const allowedCsv = new CsvBytes();
  const blockedCsv = new CsvBytes();
  const problemsCsv = new CsvBytes();
  problemsCsv.line(['line', 'problem']);
  let header: string[] | null = null;
  let columns: ColumnMap | null = null;
  // Rows read and not yet decided, as three columns, each row's fields already written as CSV:
  // a million rows are held at once, and an object per row (or an array of its fields) was a
  // million more for the garbage collector to mark again and again.
  let pending = { lines: [] as number[], csv: [] as string[], ids: [] as RecordIdentifiers[] };
  let headerError: string | null = null;

  const problem = (line: number, text: string) => {
    counts.total++;
    counts.malformed++;
    if (out.problems.length < MAX_LISTED_PROBLEMS) out.problems.push({ line, problem: text });
    problemsCsv.line([line, text]);
  };

  const reader = new CsvReader(
    ({ line, fields }) => {
      if (headerError) return;
      if (!header) {
        header = fields;
        columns = detectColumns(fields);
        if (!columns) {
          headerError = `Line ${line}: no customer id, account number, phone or email column in the header (${fields.slice(0, 10).join(', ')}).`;
          return;
        }
        for (const [k, i] of Object.entries(columns)) out.columns[k as keyof typeof COLUMN_LABELS] = fields[i]!;
        allowedCsv.line(fields);
        blockedCsv.line([...fields, ...BLOCKED_EXTRA_COLUMNS]);
        return;
      }
      const r = rowIdentifiers(fields, columns!, header.length, input.crm);
      if (!r.ok) problem(line, `Line ${line} ${r.problem}`);
      else {
        pending.lines.push(line);
        pending.csv.push(csvFields(fields));
        pending.ids.push(r.identifiers);
      }
    },
    ({ line, problem: p }) => {
      if (!header) {
        headerError = `Line ${line}: the header ${p}.`;
        return;
      }
      problem(line, `Line ${line} ${p}`);
    },
  );

  const flush = async () => {
    if (!pending.ids.length) return;
    const batch = pending;
    pending = { lines: [], csv: [], ids: [] };
    const verdicts = await input.decideMany(batch.ids, decideRow);
    batch.csv.forEach((rowCsv, i) => {
      const v = verdicts[i]!;
      counts.total++;
      counts[v.verdict]++;
      if (v.verdict === 'allowed') {
        allowedCsv.written(rowCsv);
        allowedCsv.written('\r\n');
      } else {
        // As csvLine([...fields, verdict, rules, reason, line]), a piece at a time: a verdict and
        // a line number never need quoting.
        let texts = verdictText.get(v.ruleIds);
        if (!texts) verdictText.set(v.ruleIds, (texts = {}));
        const middle = (texts[v.verdict] ??= `,${v.verdict},${csvField(v.ruleIds.join(' '))},`);
        blockedCsv.written(rowCsv);
        blockedCsv.written(middle);
        blockedCsv.written(csvField(v.reason));
        blockedCsv.written(`,${batch.lines[i]}\r\n`);
      }
    });
  };

  const decideRow = createScrubDecider(input.policy, input.now);
  // ",verdict,rule ids," as CSV, per verdict and rule ids: the decider shares one ruleIds array per rule.
  const verdictText = new WeakMap<readonly string[], Partial<Record<RowVerdict['verdict'], string>>>();
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  for await (const chunk of input.chunks) {
    if (input.isCancelled?.()) throw new ScrubError('Cancelled.');
    bytes += chunk.byteLength;
    reader.push(decoder.decode(chunk, { stream: true }));
    if (headerError) throw new ScrubError(headerError);
    if (pending.ids.length >= (input.batchSize ?? SCRUB_BATCH)) await flush();
    input.onProgress?.({ rows: counts.total + pending.ids.length, bytes, totalBytes: input.totalBytes });
  }
  reader.push(decoder.decode());
  reader.end();
  if (headerError) throw new ScrubError(headerError);
  if (!header) throw new ScrubError('The file is empty: it needs a header row and at least one row.');
  while (pending.ids.length) {
    if (input.isCancelled?.()) throw new ScrubError('Cancelled.');
    await flush();
  }
  input.onProgress?.({ rows: counts.total, bytes, totalBytes: input.totalBytes });
  return { ...out, counts, allowedCsv: allowedCsv.chunks(), blockedCsv: blockedCsv.chunks(), problemsCsv: problemsCsv.chunks() };
}
