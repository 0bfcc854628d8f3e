// Messages between the campaigns page and its scrub worker, and between the scrub worker and its
// scan helper, parsed with zod on both sides.
import { z } from 'zod';
import type { RowVerdict } from '@/lib/campaign';
import type { ScanPart } from '@/entrypoints/background/cache';
import { Consent, PolicySettings, RuleId, isoDateTime } from '@/lib/schemas';

export const ScrubStart = z.object({
  type: z.literal('start'),
  file: z.instanceof(Blob),
  crm: z.string().min(1).max(64),
  now: z.string(),
  cacheName: z.string().min(1).max(100),
});
export type ScrubStart = z.infer<typeof ScrubStart>;

const Counts = z.object({
  total: z.number().int(),
  allowed: z.number().int(),
  blocked: z.number().int(),
  unknown: z.number().int(),
  malformed: z.number().int(),
});

export const ScrubWorkerReply = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), rows: z.number().int(), bytes: z.number(), totalBytes: z.number() }),
  z.object({
    type: z.literal('done'),
    counts: Counts,
    columns: z.record(z.string(), z.string()),
    problems: z.array(z.object({ line: z.number().int(), problem: z.string() })),
    durationMs: z.number().int().nonnegative(),
    allowed: z.instanceof(Blob),
    blocked: z.instanceof(Blob),
    problemsCsv: z.instanceof(Blob),
  }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type ScrubWorkerReply = z.infer<typeof ScrubWorkerReply>;

// ---- the scan helper: a second worker that scans part of the summary buckets (split-scan.ts) ----

const typedArray = <A>(ctor: new (...a: never[]) => A, what: string) => z.custom<A>((v) => v instanceof ctor, `${what} must be a typed array`);

/** Open the cache now and read its layout and recent changes: the scrub is still reading its file. */
const ScanOpen = z.object({ type: z.literal('open'), cacheName: z.string().min(1).max(100) });

const ScanPartRequest = z.object({
  type: z.literal('scan'),
  id: z.number().int().nonnegative(), // echoed in the reply
  cacheName: z.string().min(1).max(100),
  policy: PolicySettings,
  now: isoDateTime,
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(),
  // CustomerCache's KeyTableData: the list's keys as bytes and their hash table.
  table: z.object({
    count: z.number().int().nonnegative(),
    bytes: typedArray(Uint8Array<ArrayBuffer>, 'table.bytes'),
    starts: typedArray(Uint32Array<ArrayBuffer>, 'table.starts'),
    slots: typedArray(Int32Array<ArrayBuffer>, 'table.slots'),
    mask: z.number().int().nonnegative(),
  })
    // A table that does not hold together could make a probe loop for ever: refuse it whole.
    .refine(
      (t) =>
        t.starts.length === t.count + 1 &&
        t.slots.length === 2 * (t.mask + 1) &&
        (t.mask & (t.mask + 1)) === 0 &&
        t.count * 2 <= t.mask + 1 &&
        t.starts[t.count] === t.bytes.length,
      'the key table does not hold together',
    ),
});
export const ScanRequest = z.discriminatedUnion('type', [ScanOpen, ScanPartRequest]);
export type ScanRequest = z.infer<typeof ScanRequest>;

const VERDICTS = ['allowed', 'blocked', 'unknown'] as const;

/**
 * A list of strings as one text and where each ends: posted, it is one string and one array to
 * copy; read, each string is a slice of the text. (As a JSON array, parsing made a string of each,
 * and with their garbage ~1 s of a million-row scrub.) The slices keep the whole text until the
 * last goes: one character above U+00FF (a reason's ’) makes it two bytes a character, ~50 MB
 * for a million-row list's reasons at most, while the scrub holds them anyway.
 */
const joinedStrings = (what: string) => z.object({ text: z.string(), ends: typedArray(Uint32Array<ArrayBuffer>, `${what}.ends`) });
type JoinedStrings = z.infer<ReturnType<typeof joinedStrings>>;

function joined(list: readonly string[]): JoinedStrings {
  const ends = new Uint32Array(list.length);
  let at = 0;
  list.forEach((s, i) => (ends[i] = at += s.length));
  return { text: list.join(''), ends };
}

/**
 * A helper's part, packed: hundreds of thousands of verdicts as objects took the helper ~3 s to
 * post and the scrub worker as long to read; as a few typed arrays and two joined texts they are
 * copied whole. Key `keys[j]` names customer `ids[j]`, decided `VERDICTS[verdicts[j]]`, with rule
 * ids `rules[ruleSets[j]]` and reason `reasons[j]`.
 */
export const PackedScanPart = z
  .object({
    generation: z.number().int(),
    keys: typedArray(Uint32Array<ArrayBuffer>, 'keys'),
    ids: joinedStrings('ids'),
    verdicts: typedArray(Uint8Array<ArrayBuffer>, 'verdicts'),
    ruleSets: typedArray(Uint16Array<ArrayBuffer>, 'ruleSets'),
    rules: z.array(z.array(RuleId)),
    reasons: joinedStrings('reasons'),
    several: z.array(z.number().int().nonnegative()),
    // Few: the customers a recent sync changed that the list names.
    overlaid: z.array(z.tuple([z.string(), z.tuple([z.number().int(), z.record(z.string(), z.number().int()), z.array(Consent)])])),
  })
  .refine((p) => p.verdicts.length === p.keys.length && p.ruleSets.length === p.keys.length, 'every key needs a verdict and rule ids');
export type PackedScanPart = z.infer<typeof PackedScanPart>;

export function packScanPart(part: ScanPart<RowVerdict>): PackedScanPart {
  const { keys, ids, decided, several } = part.claims;
  const verdicts = new Uint8Array(keys.length);
  const ruleSets = new Uint16Array(keys.length);
  const rules: RuleId[][] = [];
  const ruleIndex = new Map<RuleId[], number>(); // the decider shares one array per rule
  const reasons: string[] = [];
  decided.forEach((v, j) => {
    verdicts[j] = VERDICTS.indexOf(v.verdict);
    let r = ruleIndex.get(v.ruleIds);
    if (r === undefined) ruleIndex.set(v.ruleIds, (r = rules.push(v.ruleIds) - 1));
    ruleSets[j] = r;
    reasons.push(v.reason);
  });
  return { generation: part.generation, keys, ids: joined(ids), verdicts, ruleSets, rules, reasons: joined(reasons), several, overlaid: part.overlaid };
}

/** The part as the cache merges it; throws on a packing that does not hold together. */
export function unpackScanPart(p: PackedScanPart): ScanPart<RowVerdict> {
  const n = p.keys.length;
  const ids = stringsOf(p.ids, n, 'ids');
  const reasons = stringsOf(p.reasons, n, 'reasons');
  const decided: RowVerdict[] = new Array(n);
  const allowed = new Map<RowVerdict['ruleIds'], RowVerdict>(); // one per rule, as the decider shares them
  for (let j = 0; j < n; j++) {
    const verdict = VERDICTS[p.verdicts[j]!];
    const ruleIds = p.rules[p.ruleSets[j]!];
    const reason = reasons[j]!;
    // Only an allowed row has no reason (RowVerdict).
    if (!verdict || !ruleIds || (verdict === 'allowed') !== (reason === '')) throw new Error('the scan helper sent a verdict it cannot have made');
    if (verdict !== 'allowed') decided[j] = { verdict, ruleIds, reason };
    else {
      let shared = allowed.get(ruleIds);
      if (!shared) allowed.set(ruleIds, (shared = { verdict, ruleIds, reason: '' }));
      decided[j] = shared;
    }
  }
  return { generation: p.generation, claims: { keys: p.keys, ids, decided, several: p.several }, overlaid: p.overlaid };
}

/** A packed column of `n` strings (joined). */
function stringsOf({ text, ends }: JoinedStrings, n: number, what: string): string[] {
  const wrong = () => new Error(`the scan helper sent ${what} that do not match its keys`);
  if (ends.length !== n || (n > 0 ? ends[n - 1] : 0) !== text.length) throw wrong();
  const list: string[] = new Array(n);
  let start = 0;
  for (let j = 0; j < n; j++) {
    const end = ends[j]!;
    if (end < start) throw wrong();
    list[j] = text.slice(start, end);
    start = end;
  }
  return list;
}

export const ScanReply = z.discriminatedUnion('type', [
  z.object({ type: z.literal('done'), id: z.number().int(), part: PackedScanPart }),
  z.object({ type: z.literal('error'), id: z.number().int().nullable(), message: z.string() }),
]);
export type ScanReply = z.infer<typeof ScanReply>;
