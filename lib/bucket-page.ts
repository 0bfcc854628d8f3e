// First-sync bucket pages (lib/api.ts BUCKET_PAGE): the backend writes each bucket in the text
// the extension's cache stores (lib/bucket-lines.ts) and deflates it; the extension inflates
// each one to check it and then stores the deflated bytes it received.
//
// Why: a first sync of a million customers spent ~30 s of the extension's worker deflating what it
// stored and ~20 s inflating and parsing whole JSON pages. The backend deflates once per build for
// every rep; inflating is several times cheaper than deflating.
//
// Nothing is stored unchecked: every customer is held to the same exact-shape check as a JSON page
// (lib/snapshot-check.ts, with zod naming what is wrong), every key to its bucket, and a bucket's
// text must be exactly what the extension would have written from what it parsed (so a lookup's
// search for a line finds it, and a summary says what its customer says).
import { inflateSync } from 'fflate';
import { BucketPageHeader, CustomerEntry, type SnapshotCustomersPage, type SnapshotIdentifiersPage } from './api';
import {
  BACKSLASH,
  CLOSE_BRACE,
  COLON,
  COMMA,
  customerLine,
  hashBytes,
  identifierLines,
  identifierMapLines,
  linesText,
  NEWLINE,
  OPEN_BRACE,
  QUOTE,
  summaryLine,
  type IdentifierMap,
} from './bucket-lines';
import { bucketOf } from './buckets';
import { CONSENT_FIELDS, CUSTOMER_FIELDS, packCustomer, unpackCustomer, type PackedCustomer } from './packing';
import { CheckedSnapshotCustomersPage, CheckedSnapshotIdentifiersPage, customerEntryInShape } from './snapshot-check';

/** A bucket's text as stored: deflated (its own buffer: IndexedDB would clone a shared one whole) and its size inflated. */
export interface StoredText {
  data: Uint8Array;
  size: number;
}

type HeaderOf<P extends BucketPageHeader['phase']> = Omit<Extract<BucketPageHeader, { phase: P }>, 'buckets'>;
/** A checked customers page: per bucket its customers' and summaries' texts (null: the bucket is empty). */
export type BucketCustomersPage = HeaderOf<'customers'> & {
  format: 'buckets';
  customers: number;
  consents: number;
  buckets: { b: number; customers: StoredText | null; summaries: StoredText | null }[];
};
export type BucketIdentifiersPage = HeaderOf<'identifiers'> & {
  format: 'buckets';
  keys: number;
  buckets: { b: number; keys: StoredText }[];
};
export type BucketPage = BucketCustomersPage | BucketIdentifiersPage;
/** A first-sync snapshot page: a bucket page (what the backend sends), or a JSON page (a backend without them). */
export type SnapshotPage = SnapshotCustomersPage | SnapshotIdentifiersPage | BucketPage;

const utf8In = new TextEncoder();
// ignoreBOM: a leading byte order mark stays in the text (and JSON.parse refuses it) instead of
// being dropped from what is checked while kept in what is stored.
const utf8Out = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const HEADER_LENGTH_BYTES = 4;

// ---- the backend's side ----

/**
 * A snapshot page (as the backend renders it) as a bucket page. `deflate`: raw DEFLATE (the
 * backend's zlib); the extension inflates with fflate, which reads any raw DEFLATE stream. Throws
 * on a page the JSON check refuses: a bucket page cannot say some of what makes one wrong (a
 * packed consent has no customerId; identifier keys become an object's keys), so it would turn
 * such a page into one the extension rightly accepts.
 */
export function encodeBucketPage(json: SnapshotCustomersPage | SnapshotIdentifiersPage, deflate: (text: Uint8Array) => Uint8Array): Uint8Array {
  const checked = (json.phase === 'customers' ? CheckedSnapshotCustomersPage : CheckedSnapshotIdentifiersPage).safeParse(json);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new Error(`not a snapshot page: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  const page = checked.data;
  const texts: Uint8Array[] = [];
  const add = (text: string): [number, number] => {
    const bytes = utf8In.encode(text);
    const deflated = deflate(bytes);
    texts.push(deflated);
    return [deflated.length, bytes.length];
  };
  const { bits, from, to, done, cursor, build } = page;
  const base = { bits, from, to, done, cursor, ...(build === undefined ? {} : { build }) };
  const header: BucketPageHeader =
    page.phase === 'customers'
      ? {
          phase: 'customers',
          ...base,
          buckets: page.buckets.map(({ b, customers }) => {
            const packed = customers.map(packCustomer);
            return { b, customers: add(linesText(packed.map(customerLine), '[]')), summaries: add(linesText(packed.map(summaryLine), '[]')) };
          }),
          others: page.others,
        }
      : { phase: 'identifiers', ...base, buckets: page.buckets.map(({ b, keys }) => ({ b, keys: add(linesText(identifierLines(keys), '{}')) })) };
  const head = utf8In.encode(JSON.stringify(header));
  const body = new Uint8Array(HEADER_LENGTH_BYTES + head.length + texts.reduce((n, t) => n + t.length, 0));
  new DataView(body.buffer).setUint32(0, head.length);
  body.set(head, HEADER_LENGTH_BYTES);
  let at = HEADER_LENGTH_BYTES + head.length;
  for (const t of texts) {
    body.set(t, at);
    at += t.length;
  }
  return body;
}

// ---- the extension's side ----

class PageProblem extends Error {}
const refuse = (message: string): never => {
  throw new PageProblem(message);
};

type Checked = { ok: true; page: BucketPage } | { ok: false; problem: string };

/**
 * A bucket page's body, checked (see the top), or what is wrong with it. `phase`: the phase asked
 * for; a page of the other one is refused.
 */
export function readBucketPage(body: Uint8Array, phase: BucketPageHeader['phase']): Checked {
  const steps = checkBucketPage(body, phase);
  try {
    for (;;) {
      const step = steps.next();
      if (step.done) return { ok: true, page: step.value };
    }
  } catch (e) {
    return refusal(e);
  }
}

/**
 * readBucketPage, awaiting `pause` whenever it has worked `sliceMs` without one. Why: the
 * extension's worker checks the next page while the previous one is written, and each step of
 * that write (an IndexedDB request's answer) waits for the thread: checked in one piece (~50 ms a
 * page), the writes of a million customers' first sync took 61 s instead of ~20. `onHeader` is
 * told the page's header (checked) before its buckets are: the caller can ask for the next page
 * while this one is checked.
 */
export async function readBucketPageInSlices(
  body: Uint8Array,
  phase: BucketPageHeader['phase'],
  pause: () => Promise<void>,
  { sliceMs = 4, onHeader }: { sliceMs?: number; onHeader?: (header: BucketPageHeader) => void } = {},
): Promise<Checked> {
  const steps = checkBucketPage(body, phase);
  let since = performance.now();
  try {
    for (;;) {
      const step = steps.next();
      if (step.done) return { ok: true, page: step.value };
      if (step.value) onHeader?.(step.value);
      if (performance.now() - since >= sliceMs) {
        await pause();
        since = performance.now();
      }
    }
  } catch (e) {
    return refusal(e);
  }
}

function refusal(e: unknown): { ok: false; problem: string } {
  if (e instanceof PageProblem) return { ok: false, problem: e.message };
  throw e;
}

/** The check, one bucket a step (a generator, so it can be run whole or in slices); the first step yields the header. */
function* checkBucketPage(body: Uint8Array, phase: BucketPageHeader['phase']): Generator<BucketPageHeader | undefined, BucketPage> {
  if (body.length < HEADER_LENGTH_BYTES) refuse('the bucket page ends before its header');
  const headLength = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0);
  const headEnd = HEADER_LENGTH_BYTES + headLength;
  if (headEnd > body.length) refuse(`the bucket page's header says ${headLength} bytes, but the page has ${body.length}`);
  let json: unknown;
  try {
    json = JSON.parse(utf8Out.decode(body.subarray(HEADER_LENGTH_BYTES, headEnd)));
  } catch {
    refuse("the bucket page's header is not JSON");
  }
  const parsed = BucketPageHeader.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    refuse(`the bucket page's header: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  }
  const header = parsed.data!;
  if (header.phase !== phase) refuse(`asked for a page of ${phase}, got a page of ${header.phase}`);
  yield header;

  // The texts must fill the rest of the body exactly.
  let at = headEnd;
  const takeText = ([deflated, size]: [number, number], what: string): StoredText => {
    if (at + deflated > body.length) refuse(`the bucket page ends inside ${what}`);
    const text = { data: body.slice(at, at + deflated), size };
    at += deflated;
    return text;
  };
  let page: BucketPage;
  if (header.phase === 'customers') {
    let customers = 0;
    let consents = 0;
    const buckets: BucketCustomersPage['buckets'] = [];
    for (const { b, customers: c, summaries: s } of header.buckets) {
      const stored = takeText(c, `bucket ${b}'s customers`);
      const storedSummaries = takeText(s, `bucket ${b}'s summaries`);
      const entries = customerBucket(inflated(stored, `bucket ${b}'s customers`), b, header.bits);
      const summaries = linesText(entries.map(summaryLine), '[]');
      if (!inflatesTo(storedSummaries, summaries, `bucket ${b}'s summaries`)) refuse(`bucket ${b}'s summaries do not say what its customers say`);
      customers += entries.length;
      for (const p of entries) consents += p[1].length;
      const empty = entries.length === 0;
      buckets.push({ b, customers: empty ? null : stored, summaries: empty ? null : storedSummaries });
      yield;
    }
    page = { ...header, format: 'buckets', customers, consents, buckets };
  } else {
    let keys = 0;
    const buckets: BucketIdentifiersPage['buckets'] = [];
    for (const { b, keys: k } of header.buckets) {
      const stored = takeText(k, `bucket ${b}'s identifier keys`);
      const what = `bucket ${b}'s identifier keys`;
      const bytes = inflatedBytes(stored, what);
      keys += plainIdentifierKeyCount(bytes, b, header.bits) ?? identifierBucket(decoded(bytes, what), b, header.bits);
      buckets.push({ b, keys: stored });
      yield;
    }
    page = { ...header, format: 'buckets', keys, buckets };
  }
  if (at !== body.length) refuse(`the bucket page goes on past its last bucket (${body.length - at} more bytes)`);
  return page;
}

const SCRATCH_BYTES = 1 << 20;
/**
 * One buffer reused for every bucket's text (~50 KB each), made when first needed (not at every
 * start of the worker); a bigger text, which only a header can claim, gets a buffer of its own.
 */
class Scratch {
  private buffer: Uint8Array | null = null;
  /** Room for `size` bytes and one more: a text longer than `size` does not fit, and is caught. */
  room(size: number): Uint8Array {
    return size < SCRATCH_BYTES ? (this.buffer ??= new Uint8Array(SCRATCH_BYTES)).subarray(0, size + 1) : new Uint8Array(size + 1);
  }
}
// What is inflated (the text is decoded from it at once), and what the worker writes to compare.
const inflatedScratch = new Scratch();
const expectedScratch = new Scratch();

/** A stored text, inflated and decoded; refused unless it is valid DEFLATE of exactly `size` bytes of UTF-8. */
const inflated = (stored: StoredText, what: string): string => decoded(inflatedBytes(stored, what), what);

/** A stored text's bytes (valid until the next text is inflated); refused unless it is valid DEFLATE of exactly `size` bytes. */
function inflatedBytes({ data, size }: StoredText, what: string): Uint8Array {
  const room = inflatedScratch.room(size);
  const tooLong = () => refuse(`${what}: inflates to more than the ${size} bytes its header says`);
  if (data.length === 0) refuse(`${what}: no DEFLATE data`);
  // fflate stops at the final block and ignores what follows, which would be stored unread: no
  // DEFLATE of `size` bytes is longer than this (zlib's bound for stored blocks, generously).
  if (data.length > size + (size >> 5) + 64) refuse(`${what}: ${data.length} bytes, more than any DEFLATE of ${size} bytes`);
  let out: Uint8Array;
  try {
    out = inflateSync(data, { out: room });
  } catch (e) {
    // fflate's RangeError: a stored (uncompressed) block that does not fit the room.
    if (e instanceof RangeError) return tooLong();
    return refuse(`${what}: not valid DEFLATE data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (out.length > size) tooLong();
  if (out.length < size) refuse(`${what}: inflates to ${out.length} bytes, its header says ${size}`);
  return out;
}

/**
 * Whether a stored text inflates to exactly the UTF-8 of `text` (refused if it is not DEFLATE of
 * its `size` bytes). Compared as bytes: decoding the inflated bytes took ~200 MB/s in a first
 * sync, encoding the expected text with encodeInto ~1 GB/s.
 */
function inflatesTo(stored: StoredText, text: string, what: string): boolean {
  const bytes = inflatedBytes(stored, what);
  const size = bytes.length;
  const room = expectedScratch.room(size); // a text whose UTF-8 is longer does not fit, and differs
  const { read, written: n } = utf8In.encodeInto(text, room);
  return read === text.length && n === size && sameBytes(bytes, room, size);
}

/** Whether a and b agree in their first `n` bytes: four at a time where both start on a 4-byte boundary. */
function sameBytes(a: Uint8Array, b: Uint8Array, n: number): boolean {
  let i = 0;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const a4 = new Int32Array(a.buffer, a.byteOffset, n >> 2);
    const b4 = new Int32Array(b.buffer, b.byteOffset, n >> 2);
    for (let k = 0; k < a4.length; k++) if (a4[k] !== b4[k]) return false;
    i = a4.length << 2;
  }
  for (; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function decoded(bytes: Uint8Array, what: string): string {
  try {
    return utf8Out.decode(bytes);
  } catch {
    return refuse(`${what}: not UTF-8 text`);
  }
}

function parsed(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return refuse(`${what}: not JSON`);
  }
}

const isArrayOf = (v: unknown, n: number): v is unknown[] => Array.isArray(v) && v.length === n;

/** A customers bucket's packed customers, each checked and in bucket `b`; its text must be theirs exactly. */
function customerBucket(text: string, b: number, bits: number): PackedCustomer[] {
  const what = `bucket ${b}'s customers`;
  const v = parsed(text, what);
  if (!Array.isArray(v)) refuse(`${what}: not a JSON array`);
  const packed = v as unknown[];
  for (let i = 0; i < packed.length; i++) {
    const p = packed[i];
    if (!isArrayOf(p, 2) || !isArrayOf(p[0], CUSTOMER_FIELDS.length) || !Array.isArray(p[1]) || !p[1].every((k) => isArrayOf(k, CONSENT_FIELDS.length))) {
      refuse(`${what}: line ${i + 1} is not a packed customer`);
    }
    const entry = unpackCustomer(p as PackedCustomer);
    if (!customerEntryInShape(entry)) {
      const zod = CustomerEntry.safeParse(entry);
      const issue = zod.success ? null : zod.error.issues[0]!;
      refuse(`${what}: customer ${JSON.stringify(entry.customer.id)}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'not in the exact form the backend writes'}`);
    }
    if (bucketOf(entry.customer.id, bits) !== b) refuse(`${what}: customer ${entry.customer.id} does not belong in bucket ${b}`);
  }
  if (linesText((packed as PackedCustomer[]).map(customerLine), '[]') !== text) refuse(`${what}: not written one customer a line as the extension writes them`);
  return packed as PackedCustomer[];
}

// IdentifierKey's and a customer id's lengths (lib/api.ts), checked by hand: zod per key cost ~6 s of a first sync.
const keyOk = (k: string) => k.length >= 1 && k.length <= 400;
const idOk = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 64;

const DIGIT_0 = 48;
const DIGIT_9 = 57;
/** The end of a run of JSON-plain ASCII from `at` (printable, no quote or backslash), or -1 at any other byte before a quote. */
function plainRunEnd(bytes: Uint8Array, at: number): number {
  for (let i = at; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) return i;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
  }
  return -1;
}

/**
 * identifierBucket on the inflated bytes, without decoding or parsing them, for the form nearly
 * every bucket has: one id per key, keys and ids plain printable ASCII (their own JSON spelling),
 * keys in the backend's order (bucket16, then the key: so none twice) and in bucket `b`. Returns
 * the key count, or null when the bucket is in any other form, which identifierBucket then decides
 * (so both accept exactly the same texts). Why: decoding and parsing 6 million keys into objects
 * cost a first sync ~5 s.
 */
function plainIdentifierKeyCount(t: Uint8Array, b: number, bits: number): number | null {
  if (t[0] !== OPEN_BRACE || t[1] !== NEWLINE) return null;
  let count = 0;
  let prevHash = -1;
  let prevStart = 0;
  let prevEnd = 0;
  for (let i = 2; ; ) {
    if (t[i] !== QUOTE) return null;
    const keyStart = i + 1;
    const keyEnd = plainRunEnd(t, keyStart);
    const keyLength = keyEnd - keyStart;
    if (keyEnd === -1 || keyLength < 1 || keyLength > 400 || t[keyEnd + 1] !== COLON || t[keyEnd + 2] !== QUOTE) return null;
    // A key of digits only is an array index: a parsed object lists it first.
    let digits = true;
    for (let k = keyStart; k < keyEnd && digits; k++) digits = t[k]! >= DIGIT_0 && t[k]! <= DIGIT_9;
    const h = hashBytes(t, keyStart, keyEnd);
    if (digits || (bits === 0 ? 0 : h >>> (32 - bits)) !== b) return null;
    const h16 = h >>> 16;
    if (h16 < prevHash || (h16 === prevHash && compareBytes(t, prevStart, prevEnd, keyStart, keyEnd) >= 0)) return null;
    const idStart = keyEnd + 3;
    const idEnd = plainRunEnd(t, idStart);
    if (idEnd === -1 || idEnd - idStart < 1 || idEnd - idStart > 64) return null;
    prevHash = h16;
    prevStart = keyStart;
    prevEnd = keyEnd;
    count++;
    if (t[idEnd + 1] === COMMA && t[idEnd + 2] === NEWLINE) i = idEnd + 3;
    else return t[idEnd + 1] === NEWLINE && t[idEnd + 2] === CLOSE_BRACE && idEnd + 3 === t.length ? count : null;
  }
}

/** Byte order of t[a0, a1) and t[b0, b1): negative, zero or positive. */
function compareBytes(t: Uint8Array, a0: number, a1: number, b0: number, b1: number): number {
  for (let i = 0; i < a1 - a0 && i < b1 - b0; i++) if (t[a0 + i] !== t[b0 + i]) return t[a0 + i]! - t[b0 + i]!;
  return a1 - a0 - (b1 - b0);
}

/** An identifier bucket's keys, each in bucket `b` and naming one id or several distinct ones; returns their count. */
function identifierBucket(text: string, b: number, bits: number): number {
  const what = `bucket ${b}'s identifier keys`;
  const v = parsed(text, what);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) refuse(`${what}: not a JSON object`);
  const obj = v as IdentifierMap;
  let keys = 0;
  for (const key in obj) {
    if (!keyOk(key)) refuse(`${what}: key ${JSON.stringify(key.slice(0, 50))} is not an identifier key`);
    if (bucketOf(key, bits) !== b) refuse(`${what}: identifier key ${key} does not belong in bucket ${b}`);
    const ids = obj[key];
    const ok = idOk(ids) || (Array.isArray(ids) && ids.length >= 2 && ids.every((id, i) => idOk(id) && ids.indexOf(id) === i));
    if (!ok) refuse(`${what}: identifier key ${key} names no customer id, or names one twice`);
    keys++;
  }
  if (linesText(identifierMapLines(obj), '{}') !== text) refuse(`${what}: not written one key a line as the extension writes them`);
  return keys;
}
