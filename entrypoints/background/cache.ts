// The customer cache: everything the extension knows about customers, consents, policy,
// adapters and campaigns, plus the sync cursor that says how far it got.
//
// Only this file knows how the cache is stored. Sync, guard and UI use `CustomerCache`.
//
// The packed layout (DESIGN.md "Budgets"): a million customers in one IndexedDB record each
// loads at ~3,000 records/s, so customers live in buckets instead, a few thousand large records
// written once by the first sync (lib/api.ts, snapshot). Each is stored deflated (as the backend
// sent it in a bucket page, or by linesRow):
//   - customerBuckets  b -> JSON lines, one packed customer each: [[customer fields], [[consent
//                      fields]]] (lib/packing.ts; b = bucketOf(customer id, bits))
//   - summaryGroups    g -> the summary buckets b = 16g .. 16g + 15, each deflated on its own:
//                      JSON lines, one customer each: [id, version, identifier keys,
//                      {consent id: version}, standing marketing consents]: what a list scrub and
//                      the counts need, without decoding whole customers. A big scrub reads them
//                      all and parses only the lines that name a row (matchByScan); IndexedDB
//                      costs per record, so they are read 16 buckets to a record.
//   - identifierBuckets b -> JSON {key: id | [ids]}, a member a line (b = bucketOf(identifier key, bits))
//   - overlay          one record per applied page of changes (customers and consents) since the
//                      buckets were written. Rewriting the buckets a page touches would cost a
//                      read and a write of ~80 KB per change; the overlay is folded in memory and
//                      merged over the buckets on every read, and `compact` folds it into the
//                      buckets once it is large.
// Every write bumps `generation`; a handle that sees another generation drops what it decoded.
import Dexie, { type Table, type Transaction } from 'dexie';
import type { AdapterDocument, Change, CustomerEntry, SnapshotCustomersPage, SnapshotIdentifiersPage } from '@/lib/api';
import type { SnapshotPage } from '@/lib/bucket-page';
import { bucketOf, customerKeys, hash32, recordKeys, suggestBucketBits } from '@/lib/buckets';
import {
  addId,
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COMMA,
  customerLine,
  hashBytes,
  identifierLines,
  identifierMapLines,
  idsIn,
  idsOf,
  isStandingMarketing,
  linesText,
  NEWLINE,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
  setIds,
  summaryLine,
  type IdentifierMap,
} from '@/lib/bucket-lines';
import type { MarketingApprovals } from '@/lib/campaign';
import type { Campaign, Consent, Customer, PolicySettings } from '@/lib/schemas';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { packCustomer, packedId, unpackConsent, unpackCustomer, type PackedConsent, type PackedCustomer } from '@/lib/packing';
import type { z } from 'zod';
import { inflateSync } from 'fflate';

export interface CachedCustomer {
  customer: Customer;
  consents: Consent[];
}

export type { MarketingApprovals };

export type CachedAdapter = z.infer<typeof AdapterDocument> & { version: number };

/** How far an unfinished first-sync snapshot got (lib/api.ts, snapshot). */
export interface SnapshotProgress {
  bits: number;
  cursor: string; // the first page's cursor: where the change feed resumes after the snapshot
  phase: 'customers' | 'identifiers';
  next: number; // the next page's `from`
  build?: string; // the prebuilt snapshot the first page came from: later pages ask for it too
}

export interface CustomerCache {
  /**
   * Applies one page of changes and stores `cursor` with it, in one transaction: all or nothing.
   * `heldOnly` (on-demand mode): customer and consent changes of customers the cache does not
   * hold are dropped; the cache keeps only the customers looked up with `hold`.
   */
  applyChanges(changes: readonly Change[], cursor: string, opts?: { heldOnly?: boolean }): Promise<void>;
  /** On-demand mode: keeps these customers (as the backend answered a lookup); the cursor is not moved. */
  hold(entries: readonly CustomerEntry[]): Promise<void>;
  /**
   * Applies one snapshot page in one transaction. The customers page from bucket 0 starts a new
   * snapshot and replaces every customer held; the last identifiers page completes it and sets
   * the cursor. Throws (changing nothing) on a page that does not continue the snapshot.
   */
  applySnapshotPage(page: SnapshotCustomersPage | SnapshotIdentifiersPage): Promise<void>;
  /**
   * applySnapshotPage in two steps, so a first sync can check the next page while this one's
   * transaction commits: the page's bucket rows, made before its transaction opens (a bucket
   * page's texts as they came, already checked by lib/bucket-page.ts; a JSON page's buckets
   * written and deflated here). Write encoded pages in their order, each after the one before it
   * has been written.
   */
  encodeSnapshotPage(page: SnapshotPage): Promise<EncodedSnapshotPage>;
  writeSnapshotPage(encoded: EncodedSnapshotPage): Promise<void>;
  /** The unfinished snapshot, or null (none started, or complete). */
  snapshotProgress(): Promise<SnapshotProgress | null>;
  /** The cursor stored with the last applied page; null before the first page. */
  cursor(): Promise<string | null>;
  /**
   * Looks a customer up by CRM ref (crm + id), then account number, then phone (E.164), then
   * email. An identifier shared by more than one customer is ambiguous and matches nobody.
   */
  findCustomer(identifiers: RecordIdentifiers): Promise<CachedCustomer | null>;
  /** One result per input, in the same order, null where `findCustomer` would answer null. */
  findMany(identifiers: readonly RecordIdentifiers[]): Promise<(CachedCustomer | null)[]>;
  /**
   * For list scrubs: matches rows as findMany does, but hands `decide` only each matched
   * customer's standing marketing consents (null: no one customer matches), read from the
   * summaries (a fraction of the bytes of whole customers), and keeps only what `decide` returns
   * (a million rows' consents kept for the end of the call made garbage collection half a scrub).
   * `decide` runs once per matched customer and identifier, so it must depend only on its argument.
   * Pass a whole list at once: each bucket is read once per call. A list with more keys than half
   * the buckets is matched by one scan of every summary (`scan` forces either way; tests compare).
   */
  decideMany<T>(
    identifiers: readonly RecordIdentifiers[],
    decide: (found: MarketingApprovals | null) => T,
    opts?: { scan?: boolean; helper?: ScanHelper<T> },
  ): Promise<T[]>;
  /**
   * A helper's half of a split scan (ScanHelper): summary buckets [from, to) against the list's
   * keys, on this handle, usually in another thread.
   */
  scanPart<T>(table: KeyTableData, from: number, to: number, decide: (found: MarketingApprovals) => T): Promise<ScanPart<T>>;
  counts(): Promise<{ customers: number; consents: number }>;
  /** Empties the cache, cursor included, in one transaction. */
  clear(): Promise<void>;
  /** Folds the overlay into the buckets when it holds more than `threshold` entities. Returns whether it did. */
  compact(threshold?: number): Promise<boolean>;
  /** Calls `cb` for every customer (with consents), bucket by bucket. Returns the count. */
  streamAll(cb: (entry: CachedCustomer) => void | Promise<void>): Promise<number>;
  /** Reads the cache's layout and recent changes into this handle's memory now, not at its first read (a scan helper's). */
  warm(): Promise<void>;
  /** The synced policy settings, or null when the backend sent none (callers use DEFAULT_POLICY). */
  getPolicy(): Promise<PolicySettings | null>;
  getCampaign(id: string): Promise<Campaign | null>;
  adapters(): Promise<CachedAdapter[]>;
  close(): void;
}

/**
 * Scans summary buckets [from, to) for a decideMany that splits its scan across two threads (a
 * million-row scrub kept one core busy for its whole length while the other idled): usually
 * `scanPart` on a handle in another worker. It decides with its own `decide`, which must answer
 * as the caller's does (the scrub's helper makes it from the same policy and time).
 */
export type ScanHelper<T> = (table: KeyTableData, from: number, to: number) => Promise<ScanPart<T>>;
export interface ScanPart<T> {
  /** The cache state scanned (the generation counter): the two halves must have read the same. */
  generation: number;
  claims: MatchClaims<T>;
  /** Summaries of customers the overlay names, read on the way (see matchByScan). */
  overlaid: [string, Summary][];
}

/** A snapshot page with its buckets encoded as stored, ready for `writeSnapshotPage`. */
export interface EncodedSnapshotPage {
  readonly page: Pick<SnapshotPage, 'phase' | 'bits' | 'from' | 'to' | 'done' | 'cursor' | 'build'> & { others?: Change[] };
  readonly customers: number;
  readonly consents: number;
  readonly rows: { phase: 'customers'; buckets: EncodedCustomerBuckets } | { phase: 'identifiers'; buckets: BucketRow[] };
}

/** Overlay size (customers + consents) past which a sync run folds it into the buckets. */
export const COMPACT_AT = 50_000;
const KEEP_ROWS = 16; // bucket rows kept (compressed) per kind: the records on screen are not read again
const READ_CHUNK = 256; // buckets per bulkGet / per compaction step
// Summary buckets per record (summaryGroups): a scrub reads them all, and IndexedDB here reads
// the same 64 MB as 16,384 records of 4 KB in ~5 s but as 1,024 records of 64 KB in ~2.4 s.
const SUMMARY_GROUP_BITS = 4;
const CALLER_SHARE = 0.56; // the share of a split scan's summary buckets the calling worker scans (the helper takes the rest)
const groupOf = (b: number) => b >> SUMMARY_GROUP_BITS;
const slotOf = (b: number) => b & ((1 << SUMMARY_GROUP_BITS) - 1);

// ---- stored shapes ----

interface BucketRow {
  b: number;
  data: Uint8Array; // the bucket's JSON lines (lib/bucket-lines.ts), UTF-8, raw DEFLATE
  size: number; // bytes of the JSON: inflating into a buffer of the right size avoids regrowing one
}
interface SummaryGroup {
  g: number;
  parts: (BucketRow | null)[]; // by slotOf(b); null: an empty bucket
}
/** [customer version, {consent id: version} of all its consents, its standing marketing consents] */
type Summary = [number, Record<string, number>, Consent[]];
interface PolicyRow {
  id: string;
  version: number;
  settings: PolicySettings;
}
interface Layout {
  bits: number;
  customers: number; // in the buckets (the overlay not counted)
  consents: number;
}
interface OverlayRow {
  seq?: number;
  changes: Change[];
}
type StateRow =
  | { key: 'cursor'; value: string }
  | { key: 'layout'; value: Layout }
  | { key: 'snapshot'; value: SnapshotProgress }
  | { key: 'generation'; value: number };

class CacheDb extends Dexie {
  customerBuckets!: Table<BucketRow, number>;
  summaryGroups!: Table<SummaryGroup, number>;
  identifierBuckets!: Table<BucketRow, number>;
  overlay!: Table<OverlayRow, number>;
  policy!: Table<PolicyRow, string>;
  adapters!: Table<CachedAdapter, string>;
  campaigns!: Table<Campaign, string>;
  syncState!: Table<StateRow, string>;

  constructor(name: string) {
    // Relaxed durability: the cache can always be synced again, so commits need not wait for the disk.
    super(name, { chromeTransactionDurability: 'relaxed' });
    this.version(1).stores({
      customers: 'id, accountNumber, *crmKeys, *phones, *emails',
      consents: 'id, customerId',
      policy: 'id',
      adapters: 'id',
      campaigns: 'id',
      syncState: 'key',
    });
    // v2: the packed layout. The old per-customer tables go; the cursor goes with them, so the
    // next sync starts over with a snapshot.
    this.version(2)
      .stores({
        customers: null,
        consents: null,
        customerBuckets: 'b',
        summaryBuckets: 'b',
        identifierBuckets: 'b',
        overlay: '++seq',
      })
      .upgrade((tx) => tx.table('syncState').clear());
    // A new bucket format: what was written before is dropped and synced again.
    const startOver = (summaries: string) => async (tx: Transaction) => {
      for (const t of ['customerBuckets', summaries, 'identifierBuckets', 'overlay', 'syncState']) await tx.table(t).clear();
    };
    // v3: buckets hold packed customers (packing.ts). v4: buckets are stored deflated (linesRow).
    // v5: summaries are lines that carry the customer's identifier keys. v6: summaries are kept
    // 16 buckets to a record (summaryGroups).
    this.version(3).stores({}).upgrade(startOver('summaryBuckets'));
    this.version(4).stores({}).upgrade(startOver('summaryBuckets'));
    this.version(5).stores({}).upgrade(startOver('summaryBuckets'));
    this.version(6).stores({ summaryBuckets: null, summaryGroups: 'g' }).upgrade(startOver('summaryGroups'));
  }
}

const own = Object.prototype.hasOwnProperty;

// ---- the overlay, folded in memory ----

type Op<T> = { op: 'upsert'; version: number; data: T } | { op: 'tombstone'; version: number };

class Overlay {
  customers = new Map<string, Op<Customer>>();
  consents = new Map<string, Op<Consent>>();
  /** customer id -> ids of consents upserted for it in the overlay */
  consentsOf = new Map<string, Set<string>>();
  /** identifier key -> ids of overlay customers that had it at some point (checked on read) */
  keys = new Map<string, Set<string>>();
  // Which customers (changed, or with consents upserted) and consents the overlay may hold: a
  // scan asks about nearly every customer in the cache and its consents, and few of them changed
  // since the snapshot. Asking a Map about an id just read from a bucket (its hash not yet
  // computed) took ~1 us in a million-row scrub's profile; a bit tells most "no".
  private readonly customerIds = new IdFilter();
  private readonly consentIds = new IdFilter();

  get size() {
    return this.customers.size + this.consents.size;
  }

  /** False when the overlay surely holds nothing of customer `id`: neither it nor a consent upserted for it. */
  mayHold(id: string): boolean {
    return this.customerIds.mayHold(id);
  }

  /** Whether the overlay holds consents upserted for customer `id`. */
  holdsConsentsOf(id: string): boolean {
    return this.customerIds.mayHold(id) && this.consentsOf.has(id);
  }

  add(ch: Change) {
    if (ch.entity === 'customer') {
      this.customerIds.mark(ch.id);
      const prev = this.customers.get(ch.id);
      if (prev && prev.version > ch.version) return; // out of order: keep the newer one
      if (ch.op === 'upsert') {
        const data = { ...ch.data, id: ch.id, version: ch.version };
        this.customers.set(ch.id, { op: 'upsert', version: ch.version, data });
        for (const k of customerKeys(data)) addTo(this.keys, k, ch.id);
      } else this.customers.set(ch.id, { op: 'tombstone', version: ch.version });
    } else if (ch.entity === 'consent') {
      this.consentIds.mark(ch.id);
      const prev = this.consents.get(ch.id);
      if (prev && prev.version > ch.version) return;
      if (ch.op === 'upsert') {
        this.customerIds.mark(ch.data.customerId);
        const data = { ...ch.data, id: ch.id, version: ch.version };
        this.consents.set(ch.id, { op: 'upsert', version: ch.version, data });
        addTo(this.consentsOf, data.customerId, ch.id);
      } else this.consents.set(ch.id, { op: 'tombstone', version: ch.version });
    }
  }

  /** The customer as the buckets hold it (`base`) with the overlay's changes on top. */
  merge(id: string, base: CachedCustomer | null): CachedCustomer | null {
    const op = this.mayHold(id) ? this.customers.get(id) : undefined;
    let customer = base?.customer ?? null;
    if (op && (!customer || op.version >= customer.version)) customer = op.op === 'upsert' ? op.data : null;
    if (!customer) return null;
    const versions = new Map(base?.consents.map((c) => [c.id, c.version]));
    return { customer, consents: this.consentsOver(id, base?.consents ?? [], (cid) => versions.get(cid)) };
  }

  /**
   * The customer's consents once the overlay is applied: `base` (as the buckets hold them)
   * without those the overlay replaced or deleted, plus the overlay's own for this customer
   * unless the buckets hold a newer version (`baseVersion`: of ANY stored consent of the customer).
   */
  private consentsOver<T extends { id: string; version: number }>(
    id: string,
    base: readonly T[],
    baseVersion: (consentId: string) => number | undefined,
  ): (T | Consent)[] {
    // A loop, not filter(): a scrub asks this for every matched row.
    const out: (T | Consent)[] = [];
    for (const c of base) {
      const o = this.consentIds.mayHold(c.id) ? this.consents.get(c.id) : undefined;
      if (!o || o.version < c.version) out.push(c);
    }
    const added = this.mayHold(id) ? this.consentsOf.get(id) : undefined;
    if (!added) return out;
    for (const cid of added) {
      const o = this.consents.get(cid)!;
      if (o.op !== 'upsert' || o.data.customerId !== id) continue;
      const bv = baseVersion(cid);
      if (bv === undefined || bv <= o.version) out.push(o.data);
    }
    return out;
  }

  /** Whether the customer exists once the overlay is applied over its summary (null: not in the buckets). */
  existsOver(id: string, s: Summary | null): boolean {
    const op = this.mayHold(id) ? this.customers.get(id) : undefined;
    if (op && (!s || op.version >= s[0])) return op.op === 'upsert';
    return s !== null;
  }

  /** How many consents the customer has once the overlay is applied over its summary. */
  consentCountOver(id: string, s: Summary | null): number {
    const versions = s?.[1] ?? {};
    const base = Object.entries(versions).map(([cid, version]) => ({ id: cid, version }));
    return this.consentsOver(id, base, (cid) => (own.call(versions, cid) ? versions[cid] : undefined)).length;
  }

  /** The customer's standing marketing consents once the overlay is applied over its summary. */
  approvalsOver(id: string, s: Summary | null): MarketingApprovals | null {
    if (!this.existsOver(id, s)) return null;
    const versions = s?.[1] ?? {};
    const consents = this.consentsOver(id, s?.[2] ?? [], (cid) => (own.call(versions, cid) ? versions[cid] : undefined));
    // A summary holds only standing marketing consents; the overlay's own may be of any kind.
    return { customerId: id, consents: this.holdsConsentsOf(id) ? (consents as Consent[]).filter(isStandingMarketing) : (consents as Consent[]) };
  }
}

/** A bit per id by hash32: "surely not marked" or "maybe". Its 64 KB are made at the first mark. */
class IdFilter {
  // 2^19 bits: ~2% false "maybe" at 10,000 changed entities, ~9% at 50,000 (COMPACT_AT)
  private static readonly WORDS = 1 << 14;
  private bits: Uint32Array | null = null;

  mark(id: string): void {
    const h = hash32(id);
    (this.bits ??= new Uint32Array(IdFilter.WORDS))[(h >>> 5) & (IdFilter.WORDS - 1)]! |= 1 << (h & 31);
  }

  mayHold(id: string): boolean {
    if (!this.bits) return false;
    const h = hash32(id);
    return (this.bits[(h >>> 5) & (IdFilter.WORDS - 1)]! & (1 << (h & 31))) !== 0;
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string) {
  let s = map.get(key);
  if (!s) map.set(key, (s = new Set()));
  s.add(value);
}

/** The last few bucket rows read (null: no such bucket), least recently used first out. */
class KeptRows {
  private m = new Map<number, BucketRow | null>();
  constructor(private keep: number) {}
  get(b: number): BucketRow | null | undefined {
    const v = this.m.get(b);
    if (v !== undefined) {
      this.m.delete(b);
      this.m.set(b, v);
    }
    return v;
  }
  set(b: number, v: BucketRow | null) {
    this.m.set(b, v);
    if (this.m.size > this.keep) this.m.delete(this.m.keys().next().value!);
  }
  clear() {
    this.m.clear();
  }
}

/** A summary line as stored: the customer's id and identifier keys first, its consents packed (lib/packing.ts). */
type StoredSummary = [string, number, string[], Record<string, number>, PackedConsent[]];

const summaryOfStored = ([id, version, , versions, packed]: StoredSummary): Summary => [
  version,
  versions,
  packed.map((p) => unpackConsent(p, id)),
];

// Buckets are stored deflated. IndexedDB here reads and writes large values at only ~15-45 MB/s
// (and ~0.5-1 ms per record), while the bucket JSON deflates ~8x and inflates at ~300 MB/s: fewer
// bytes make the first sync's writes, a lookup's read and a scrub's reads faster.
const utf8In = new TextEncoder();
const utf8Out = new TextDecoder();
/**
 * Lines buckets (customers and summaries: JSON arrays with one element per line; identifiers:
 * JSON objects with one member per line), so a lookup can find the one line it wants in the
 * inflated bytes and parse only that (BucketText.find, BucketText.member), while a caller that
 * wants the whole bucket parses it in one JSON.parse. JSON.stringify never writes a raw newline,
 * so every line starts after one.
 *
 * Deflated by the browser's own zlib (CompressionStream, raw DEFLATE at level 6): in the extension
 * here it deflates bucket JSON at ~80 MB/s where fflate's level 1 in JavaScript managed ~15-20 MB/s
 * (a third of a first sync's worker time), and to ~15% fewer bytes. It is asynchronous, so rows
 * are made before the transaction that writes them opens (IndexedDB commits a transaction that
 * waits on anything else), one at a time: the text is encoded into one kept buffer, which the
 * stream has read once its close resolves (a new array per bucket, by TextEncoder.encode or a
 * copy, cost the worker a tenth of a first sync in allocation and garbage collection).
 */
async function linesRow(b: number, lines: readonly string[], brackets: '[]' | '{}'): Promise<BucketRow> {
  const text = linesText(lines, brackets);
  // Two rows made at once (two handles writing) must not share the buffer: the second gets its own.
  const need = text.length * 3;
  const shared = !encoding;
  if (shared && encoded.length < need) encoded = new Uint8Array(need);
  const buffer = shared ? encoded : new Uint8Array(need);
  const size = utf8In.encodeInto(text, buffer).written;
  const stream = new CompressionStream('deflate-raw');
  const deflated = new Response(stream.readable).arrayBuffer();
  const writer = stream.writable.getWriter();
  encoding ||= shared;
  try {
    await writer.write(buffer.subarray(0, size) as Uint8Array<ArrayBuffer>);
    await writer.close();
  } finally {
    if (shared) encoding = false;
    deflated.catch(() => undefined); // a failed write is the error to report
  }
  return { b, data: new Uint8Array(await deflated), size };
}
let encoded = new Uint8Array(1 << 17);
let encoding = false; // `encoded` is being read by a stream

// One buffer inflates every bucket (decoding is synchronous): a fresh 50 KB buffer per read made
// the garbage collector the largest cost of a lookup.
let inflated = new Uint8Array(1 << 16);
function inflate(row: BucketRow): Uint8Array {
  if (inflated.length < row.size) inflated = new Uint8Array(row.size * 2);
  return inflateSync(row.data, { out: inflated.subarray(0, row.size) });
}

const EMPTY_ARRAY = utf8In.encode('[\n]');
const EMPTY_OBJECT = utf8In.encode('{\n}');

/**
 * A lines bucket (linesRow), inflated: one element is parsed at a time. It views the shared
 * inflate buffer, so it is valid only until the next bucket is inflated: use it at once.
 */
class BucketText {
  private constructor(private readonly bytes: Uint8Array) {}

  /** A bucket of lines already inflated. */
  static over(bytes: Uint8Array): BucketText {
    return new BucketText(bytes);
  }

  /** A bucket of array lines (customers, summaries). */
  static array(row: BucketRow | undefined): BucketText {
    return new BucketText(row ? inflate(row) : EMPTY_ARRAY);
  }

  /** A bucket of object members (identifiers). */
  static object(row: BucketRow | undefined): BucketText {
    return new BucketText(row ? inflate(row) : EMPTY_OBJECT);
  }

  /** The element whose JSON begins with `start` (e.g. `[["c1",`), parsed; null when none does. */
  find(start: string): unknown {
    const at = this.lineWith(utf8In.encode(start));
    return at ? JSON.parse(textOf(this.bytes, at[0], at[1])) : null;
  }

  /** In an object bucket: the value of the member named `key`, parsed; null when there is none. */
  member(key: string): unknown {
    const start = utf8In.encode(`${JSON.stringify(key)}:`);
    const at = this.lineWith(start);
    return at ? JSON.parse(textOf(this.bytes, at[0] + start.length, at[1])) : null;
  }

  /** The whole bucket, parsed (a scrub or a compaction wants it all). */
  all<T>(): T {
    return JSON.parse(utf8Out.decode(this.bytes)) as T;
  }

  /** [start, end) of the line that begins with the bytes `want`, its trailing comma left out. */
  private lineWith(want: Uint8Array): [number, number] | null {
    const bytes = this.bytes;
    for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) {
      let i = 0;
      while (i < want.length && bytes[at + 1 + i] === want[i]) i++;
      if (i < want.length) continue;
      let end = bytes.indexOf(NEWLINE, at + 1);
      if (bytes[end - 1] === COMMA) end--;
      return [at + 1, end];
    }
    return null;
  }
}

// ---- a list scrub's scan of the summaries ----

/** KeyTable's state as plain arrays, for another thread (KeyTable.toData, KeyTable.fromData). */
export interface KeyTableData {
  count: number;
  bytes: Uint8Array<ArrayBuffer>;
  starts: Uint32Array<ArrayBuffer>;
  slots: Int32Array<ArrayBuffer>;
  mask: number;
}

/**
 * A list's distinct identifier keys, each JSON-encoded as UTF-8 into one growing buffer, in an
 * open-addressing hash table: `add` numbers the keys of a list as it reads them (a key seen before
 * keeps its number), and a scan asks whether a key written inside an inflated bucket is one of
 * them without decoding it into a string. The bytes are compared in full, so a match is exact.
 */
export class KeyTable { // exported for its tests
  // The keys are kept only as bytes: a million-row list's keys as strings were a million more
  // objects for the garbage collector to walk all through the scan.
  private count = 0;
  private bytes: Uint8Array<ArrayBuffer>;
  private starts: Uint32Array<ArrayBuffer>; // key i is bytes [starts[i], starts[i + 1])
  // Slot h holds a key's number (slots[2h], -1: empty) and its hash (slots[2h + 1]): a probe that
  // meets another key usually tells by the hash, without reading that key's bytes elsewhere in
  // memory (a scan probes ~6 million keys of a million-customer cache, most of them not listed).
  private slots: Int32Array<ArrayBuffer>;
  private mask: number;

  /**
   * `expected`: about how many keys it will hold, made room for at once (a million-row list's
   * table otherwise grew by doubling: 10 rehashes, and its byte and offset arrays copied as
   * often). An estimate that is not a number of keys (or past 2^24) is ignored.
   */
  constructor(expected = 0) {
    if (!(expected >= 0 && expected <= 1 << 24)) expected = 0;
    let size = 1 << 11;
    while (size < 2 * expected) size *= 2;
    this.slots = new Int32Array(2 * size).fill(-1);
    this.mask = size - 1;
    this.starts = new Uint32Array(Math.max(1 << 10, expected + 1));
    this.bytes = new Uint8Array(Math.max(1 << 16, expected * 24)); // a phone key is ~20 bytes, an email's ~40
  }

  get size() {
    return this.count;
  }

  /** The table as plain arrays, for another thread (structured clone); `fromData` makes it again. */
  toData(): KeyTableData {
    return { count: this.count, bytes: this.bytes.slice(0, this.starts[this.count]), starts: this.starts.slice(0, this.count + 1), slots: this.slots, mask: this.mask };
  }

  static fromData(d: KeyTableData): KeyTable {
    const t = new KeyTable();
    t.count = d.count;
    t.bytes = d.bytes.length ? d.bytes : new Uint8Array(1 << 16);
    t.starts = d.starts;
    t.slots = d.slots;
    t.mask = d.mask;
    return t;
  }

  /** Key number `i` as text. */
  keyAt(i: number): string {
    return JSON.parse(textOf(this.bytes, this.starts[i]!, this.starts[i + 1]!)) as string;
  }

  /** Every key, by number. */
  all(): string[] {
    return Array.from({ length: this.count }, (_, i) => this.keyAt(i));
  }

  /** The key's number: a new one, or the one it was given before. */
  add(key: string): number {
    const n = this.count;
    const from = this.starts[n]!;
    const end = this.writeKey(key, from);
    const found = this.probeOwn(from, end);
    if (found !== -1) return found;
    this.slots[2 * this.slot] = n;
    this.slots[2 * this.slot + 1] = this.hash;
    if (this.filter) markFilter(this.filter, this.hash);
    this.count++;
    if (this.starts.length < n + 2) this.starts = grown(this.starts, n + 2);
    this.starts[n + 1] = end;
    if ((n + 1) * 2 > this.mask + 1) this.rehash();
    return n;
  }

  /** The number of `key`, or -1 when the list does not have it. */
  find(key: string): number {
    const from = this.starts[this.count]!;
    return this.probeOwn(from, this.writeKey(key, from));
  }

  /**
   * Writes `key` as JSON string bytes at `at`; returns where they end. Keys are plain ASCII
   * nearly always: those are written as they are, between quotes (JSON.stringify and a second
   * pass over its copy cost a million-row list ~0.5 s); anything else goes through JSON.stringify.
   */
  private writeKey(key: string, at: number): number {
    if (this.bytes.length < at + key.length + 2) this.bytes = grown(this.bytes, at + key.length + 2);
    const bytes = this.bytes;
    bytes[at] = QUOTE;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c < 32 || c >= 127 || c === QUOTE || c === BACKSLASH) return this.write(JSON.stringify(key), at);
      bytes[at + 1 + i] = c;
    }
    bytes[at + 1 + key.length] = QUOTE;
    return at + key.length + 2;
  }

  /** The number of the key written as bytes[start, end) (a JSON string), or -1. */
  indexOf(bytes: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(bytes, start, end) | 0;
    const filter = this.filter ?? this.fillFilter();
    if (!inFilter(filter, hash)) return -1;
    return this.probe(bytes, start, end, hash);
  }

  // A bit for each value of a key's hash's top 24 bits (2 MB), made at a scan's first probe: most
  // of the ~6 million keys a scan probes are not in the list, and this tells most of those so
  // without reading the slot array (16 MB for a million keys, far out of the processor's caches).
  private filter: Uint32Array | null = null;
  private fillFilter(): Uint32Array {
    const filter = new Uint32Array(1 << 19);
    for (let h = 0; h <= this.mask; h++) {
      if (this.slots[2 * h] === -1) continue;
      markFilter(filter, this.slots[2 * h + 1]!);
    }
    return (this.filter = filter);
  }

  /** Writes a JSON string's UTF-8 bytes at `at` (past the last key: scratch until `add` keeps them); returns where they end. */
  private write(json: string, at: number): number {
    if (this.bytes.length < at + json.length * 3) this.bytes = grown(this.bytes, at + json.length * 3);
    const bytes = this.bytes;
    for (let i = 0; i < json.length; i++) {
      const c = json.charCodeAt(i);
      // Keys are ASCII nearly always; anything else goes through the encoder.
      if (c >= 128) return at - i + utf8In.encodeInto(json, bytes.subarray(at - i)).written;
      bytes[at++] = c;
    }
    return at;
  }

  /**
   * A key just written past the kept ones, probed in the buffer as it is AFTER the write (which may
   * have grown it: `probe(this.bytes, from, this.write(...))` would read the old one).
   */
  private probeOwn(from: number, end: number): number {
    return this.probe(this.bytes, from, end);
  }

  private slot = 0;
  private hash = 0;
  /** The key at bytes[start, end), or -1; `slot` and `hash` are left where it is or would go, and its hash. */
  private probe(bytes: Uint8Array, start: number, end: number, hash = hashBytes(bytes, start, end) | 0): number {
    const { starts, mask, slots } = this;
    const len = end - start;
    this.hash = hash;
    for (let h = hash & mask; ; h = (h + 1) & mask) {
      const i = slots[2 * h]!;
      this.slot = h;
      if (i === -1) return -1;
      if (slots[2 * h + 1] !== hash) continue;
      const from = starts[i]!;
      if (starts[i + 1]! - from !== len) continue;
      let j = 0;
      while (j < len && this.bytes[from + j] === bytes[start + j]) j++;
      if (j === len) return i;
    }
  }

  private rehash() {
    const size = (this.mask + 1) * 2;
    const slots = new Int32Array(2 * size).fill(-1);
    const mask = size - 1;
    for (let h = 0; h <= this.mask; h++) {
      const i = this.slots[2 * h]!;
      if (i === -1) continue;
      const hash = this.slots[2 * h + 1]!;
      let to = hash & mask;
      while (slots[2 * to] !== -1) to = (to + 1) & mask;
      slots[2 * to] = i;
      slots[2 * to + 1] = hash;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

// KeyTable's filter: one bit for each value of a hash's top 24 bits (word hash >>> 13 of 2^19).
const filterBit = (hash: number) => 1 << ((hash >>> 8) & 31);
const inFilter = (filter: Uint32Array, hash: number) => (filter[hash >>> 13]! & filterBit(hash)) !== 0;
function markFilter(filter: Uint32Array, hash: number) {
  filter[hash >>> 13]! |= filterBit(hash);
}

/** A copy of `a` with room for at least `n` elements (doubling). */
function grown<A extends Uint8Array | Uint32Array>(a: A, n: number): A {
  let size = a.length * 2;
  while (size < n) size *= 2;
  const b = new (a.constructor as new (n: number) => A)(size);
  b.set(a);
  return b;
}

/** The end (exclusive) of the JSON string whose opening quote is at `at`. */
function stringEnd(bytes: Uint8Array, at: number): number {
  let i = at + 1;
  while (i < bytes.length && bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1;
  return i + 1;
}

/**
 * One inflated summary bucket as a scan reads it: every line's keys as bytes (`scan`), and only
 * the lines that name a key of the list any further. A line is `["id",version,["key",...],
 * {consent id: version},[standing marketing consents]]`.
 */
class ScannedSummaries {
  constructor(private readonly bytes: Uint8Array) {}

  /** Calls `onLine` with [start, end) of each line holding any key of `table`, and those keys' indexes (a reused array). */
  scan(table: KeyTable, onLine: (start: number, end: number, hits: number[]) => void) {
    const bytes = this.bytes;
    const hits: number[] = [];
    for (let nl = bytes.indexOf(NEWLINE); nl !== -1; ) {
      const start = nl + 1;
      const next = bytes.indexOf(NEWLINE, start);
      if (next === -1 || bytes[start] !== OPEN_BRACKET) break; // the closing "]"
      // Past the id; the version is a number, so the next "[" opens the keys.
      let i = bytes.indexOf(OPEN_BRACKET, stringEnd(bytes, start + 1)) + 1;
      hits.length = 0;
      while (bytes[i] === QUOTE) {
        const end = stringEnd(bytes, i);
        const k = table.indexOf(bytes, i, end);
        if (k !== -1) hits.push(k);
        i = end + 1; // past the "," or the closing "]"
      }
      if (hits.length) onLine(start, bytes[next - 1] === COMMA ? next - 1 : next, hits);
      nl = next;
    }
  }

  /** The id and version of the line at [start, end), and where its id ends; null if it is not as written. */
  head(start: number): { id: string; version: number; idEnd: number } | null {
    const line = this.bytes;
    const idEnd = stringEnd(line, start + 1);
    let version = 0;
    let i = idEnd + 1;
    for (; line[i]! >= 48 && line[i]! <= 57; i++) version = version * 10 + line[i]! - 48;
    if (line[idEnd] !== COMMA || i === idEnd + 1 || line[i] !== COMMA) return null;
    return { id: this.idText(start + 1, idEnd), version, idEnd };
  }

  /** The line's standing marketing consents, packed: its last element, after the keys and the versions. */
  approvals(idEnd: number, end: number): PackedConsent[] {
    const keysEnd = valueEnd(this.bytes, this.bytes.indexOf(OPEN_BRACKET, idEnd));
    const from = valueEnd(this.bytes, keysEnd + 1) + 1;
    if (this.bytes[from] === OPEN_BRACKET && this.bytes[from + 1] === CLOSE_BRACKET) return [];
    return this.json<PackedConsent[]>(from, end - 1);
  }

  /** The JSON string at bytes [start, end) as text: taken as it is when it has no escapes (ids nearly never do). */
  private idText(start: number, end: number): string {
    const bytes = this.bytes;
    for (let i = start + 1; i < end - 1; i++) if (bytes[i] === BACKSLASH) return this.json<string>(start, end);
    return textOf(bytes, start + 1, end - 1);
  }

  /** The JSON value at bytes [start, end), parsed. */
  json<T>(start: number, end: number): T {
    return JSON.parse(textOf(this.bytes, start, end)) as T;
  }
}

/**
 * The text of bytes [start, end). Plain ASCII (nearly always) is taken by char codes: a decoder
 * call per matched line, or decoding every whole bucket a scan touches (390 MB for a million
 * customers), cost more than the rest of reading the lines.
 */
function textOf(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 4096) return utf8Out.decode(bytes.subarray(start, end));
  for (let i = start; i < end; i++) if (bytes[i]! >= 128) return utf8Out.decode(bytes.subarray(start, end));
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/** The end (exclusive) of the JSON array or object that opens at `at`. */
function valueEnd(bytes: Uint8Array, at: number): number {
  let depth = 0;
  for (let i = at; i < bytes.length; ) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      i = stringEnd(bytes, i);
      continue;
    }
    if (c === OPEN_BRACKET || c === OPEN_BRACE) depth++;
    else if ((c === CLOSE_BRACKET || c === CLOSE_BRACE) && --depth === 0) return i + 1;
    i++;
  }
  return bytes.length;
}

/** For each key of a list (by index): the one customer it names, and what was decided for it. */
class KeyMatches<T> {
  private readonly ids: (string | undefined)[];
  private readonly decided: T[];
  private readonly several: Uint8Array;

  constructor(n: number) {
    this.ids = new Array<string | undefined>(n);
    this.decided = new Array<T>(n);
    this.several = new Uint8Array(n);
  }

  add(i: number, id: string, decide: () => T) {
    if (this.claim(i, id)) this.decided[i] = decide();
  }

  /** Records that key `i` names customer `id`; true when that is the first customer it names (then `set` its decision). */
  claim(i: number, id: string): boolean {
    const prev = this.ids[i];
    if (prev === undefined) {
      this.ids[i] = id;
      return true;
    }
    if (prev !== id) this.several[i] = 1;
    return false;
  }

  set(i: number, decided: T) {
    this.decided[i] = decided;
  }

  /** Whether key `i` names exactly one customer. */
  named(i: number): boolean {
    return this.ids[i] !== undefined && !this.several[i];
  }

  get(i: number): T {
    return this.decided[i]!;
  }

  /** What was claimed, as plain arrays for another thread's KeyMatches (`merge`). */
  claims(): MatchClaims<T> {
    const keys: number[] = [];
    const ids: string[] = [];
    const decided: T[] = [];
    const several: number[] = [];
    this.ids.forEach((id, i) => {
      if (id === undefined) return;
      keys.push(i);
      ids.push(id);
      decided.push(this.decided[i]!);
      if (this.several[i]) several.push(i);
    });
    return { keys: Uint32Array.from(keys), ids, decided, several };
  }

  /** Adds another scan's claims (of other buckets), as if this scan had made them. */
  merge(c: MatchClaims<T>) {
    c.keys.forEach((i, j) => {
      if (this.claim(i, c.ids[j]!)) this.decided[i] = c.decided[j]!;
    });
    for (const i of c.several) this.several[i] = 1;
  }
}

/** KeyMatches' claims: key `keys[j]` names customer `ids[j]`, decided `decided[j]`; `several`: keys naming more than one. */
export interface MatchClaims<T> {
  keys: Uint32Array<ArrayBuffer>;
  ids: string[];
  decided: T[];
  several: number[];
}

// Below this many wanted in one bucket, each is found on its line; from it, the bucket is parsed whole.
const FIND_EACH_BELOW = 5;
const customerStart = (id: string) => `[[${JSON.stringify(id)},`;
const summaryStart = (id: string) => `[${JSON.stringify(id)},`;

/** A stored bucket, decoded; an absent bucket is empty. */
function decodeCustomers(row: BucketRow | undefined): Map<string, CachedCustomer> {
  const m = new Map<string, CachedCustomer>();
  for (const p of BucketText.array(row).all<PackedCustomer[]>()) m.set(packedId(p), unpackCustomer(p));
  return m;
}
const decodeIdentifiers = (row: BucketRow | undefined) => BucketText.object(row).all<IdentifierMap>();

/** Customer and summary bucket rows for whole buckets (an empty bucket is deleted), made before a transaction opens. */
async function encodeCustomerBuckets(buckets: [number, CachedCustomer[]][]) {
  const puts: BucketRow[] = [];
  const summaries: BucketRow[] = [];
  const empty: number[] = [];
  for (const [b, entries] of buckets) {
    if (entries.length === 0) {
      empty.push(b);
      continue;
    }
    const packed = entries.map(packCustomer);
    puts.push(await linesRow(b, packed.map(customerLine), '[]'));
    summaries.push(await linesRow(b, packed.map(summaryLine), '[]'));
  }
  return { puts, summaries, empty };
}
type EncodedCustomerBuckets = Awaited<ReturnType<typeof encodeCustomerBuckets>>;

/** Identifier bucket rows: key -> customer id, or ids when the key names several customers. */
async function encodeIdentifierBuckets(buckets: SnapshotIdentifiersPage['buckets']): Promise<BucketRow[]> {
  const rows: BucketRow[] = [];
  for (const { b, keys } of buckets) rows.push(await linesRow(b, identifierLines(keys), '{}'));
  return rows;
}

/** Identifier bucket rows from their maps (deflating is asynchronous: made before a transaction opens). */
async function encodeIdentifierMaps(maps: Iterable<[number, IdentifierMap]>): Promise<BucketRow[]> {
  const rows: BucketRow[] = [];
  for (const [b, obj] of maps) rows.push(await linesRow(b, identifierMapLines(obj), '{}'));
  return rows;
}

type EntityOp<T> = { op: 'upsert'; version: number; data: T } | { op: 'tombstone'; version: number };

/** Applies policy, adapter and campaign changes to their (small) tables, newest version winning. */
async function applySmallTables(db: CacheDb, changes: readonly Change[]) {
  const fold = <T>(ops: Map<string, EntityOp<T>>, id: string, next: EntityOp<T>) => {
    const prev = ops.get(id);
    if (!prev || prev.version <= next.version) ops.set(id, next);
  };
  const policies = new Map<string, EntityOp<PolicySettings>>();
  const adapters = new Map<string, EntityOp<z.infer<typeof AdapterDocument>>>();
  const campaigns = new Map<string, EntityOp<Campaign>>();
  const byEntity = { policy: policies, adapter: adapters, campaign: campaigns } as const;
  for (const ch of changes) {
    if (ch.entity === 'customer' || ch.entity === 'consent') continue;
    const ops = byEntity[ch.entity] as Map<string, EntityOp<unknown>>;
    fold(ops, ch.id, ch.op === 'upsert' ? { op: 'upsert', version: ch.version, data: ch.data } : { op: 'tombstone', version: ch.version });
  }
  const write = async <T, R extends { version: number }>(
    table: Table<R, string>,
    ops: Map<string, EntityOp<T>>,
    toStored: (id: string, data: T, version: number) => R,
  ) => {
    if (ops.size === 0) return;
    const ids = [...ops.keys()];
    const existing = await table.bulkGet(ids);
    const puts: R[] = [];
    const deletes: string[] = [];
    ids.forEach((id, i) => {
      const op = ops.get(id)!;
      const stored = existing[i];
      if (stored && stored.version > op.version) return; // out of order: keep the newer one
      if (op.op === 'upsert') puts.push(toStored(id, op.data, op.version));
      else if (stored) deletes.push(id);
    });
    await table.bulkPut(puts);
    await table.bulkDelete(deletes);
  };
  await write(db.policy, policies, (id, settings, version) => ({ id, version, settings }));
  await write(db.adapters, adapters, (id, a, version) => ({ ...a, id, version }));
  await write(db.campaigns, campaigns, (id, c, version) => ({ ...c, id, version }));
}

export function openCustomerCache(name = 'cpni-cache'): CustomerCache {
  const db = new CacheDb(name);
  const bucketTables = [db.customerBuckets, db.summaryGroups, db.identifierBuckets, db.overlay, db.syncState];
  const all = [...bucketTables, db.policy, db.adapters, db.campaigns];

  // What this handle decoded, valid for `generation` only.
  let generation = -1;
  let layout: Layout | null = null;
  let overlay = new Overlay();
  const customerCache = new KeptRows(KEEP_ROWS);
  const summaryCache = new KeptRows(KEEP_ROWS);
  const identifierCache = new KeptRows(KEEP_ROWS);
  let countsMemo: { generation: number; value: { customers: number; consents: number } } | null = null;

  type StateValue<K extends StateRow['key']> = Extract<StateRow, { key: K }>['value'];
  const state = async <K extends StateRow['key']>(key: K): Promise<StateValue<K> | null> =>
    ((await db.syncState.get(key)) as { value: StateValue<K> } | undefined)?.value ?? null;

  /** Inside a transaction over bucketTables: make this handle's memory match what is stored. */
  async function fresh(): Promise<void> {
    const g = (await state('generation')) ?? 0;
    if (g !== generation) await reload(g);
  }

  async function reload(g: number): Promise<void> {
    customerCache.clear();
    summaryCache.clear();
    identifierCache.clear();
    layout = await state('layout');
    overlay = new Overlay();
    await db.overlay.orderBy('seq').each((row) => row.changes.forEach((ch) => overlay.add(ch)));
    generation = g;
  }

  /**
   * Inside a write transaction: the next generation; this handle's memory is updated by the caller.
   * `current`: the stored generation, when the transaction already read it (fresh()), saving a read.
   */
  async function bump(current?: number): Promise<number> {
    const g = (current ?? (await state('generation')) ?? 0) + 1;
    await db.syncState.put({ key: 'generation', value: g });
    return g;
  }

  /**
   * Reads buckets `bs` in key order, a chunk at a time, and hands each one decoded to `visit`;
   * only what `visit` keeps stays in memory (a scrub reads nearly every bucket). Small reads
   * (a lookup) go through `cache`.
   */
  async function visitBuckets<T>(
    fetch: (bs: number[]) => Promise<(BucketRow | undefined)[]>,
    cache: KeptRows,
    bs: Iterable<number>,
    decode: (row: BucketRow | undefined) => T,
    visit: (b: number, v: T) => void,
  ) {
    const wanted = [...bs];
    const keep = wanted.length <= KEEP_ROWS;
    const missing: number[] = [];
    for (const b of wanted) {
      const hit = cache.get(b);
      if (hit !== undefined) visit(b, decode(hit ?? undefined));
      else missing.push(b);
    }
    missing.sort((a, b) => a - b);
    // The next chunk is asked for before this one is decoded: the browser reads it meanwhile.
    const ask = (i: number) => (i < missing.length ? fetch(missing.slice(i, i + READ_CHUNK)) : null);
    let next = ask(0);
    try {
      for (let i = 0; i < missing.length; i += READ_CHUNK) {
        const chunk = missing.slice(i, i + READ_CHUNK);
        const rows = await next!;
        next = ask(i + READ_CHUNK);
        chunk.forEach((b, j) => {
          if (keep) cache.set(b, rows[j] ?? null);
          visit(b, decode(rows[j]));
        });
      }
    } finally {
      next?.catch(() => undefined); // a visit that threw leaves the read asked for ahead: its failure is not news
    }
  }

  const customerRows = (bs: number[]) => db.customerBuckets.bulkGet(bs);
  const identifierRows = (bs: number[]) => db.identifierBuckets.bulkGet(bs);
  /** Summary buckets `bs`, read a group at a time. */
  async function summaryRows(bs: number[]): Promise<(BucketRow | undefined)[]> {
    const gs = [...new Set(bs.map(groupOf))];
    const groups = await db.summaryGroups.bulkGet(gs);
    const byGroup = new Map(gs.map((g, i) => [g, groups[i]]));
    return bs.map((b) => byGroup.get(groupOf(b))?.parts[slotOf(b)] ?? undefined);
  }

  /** Groups `items` by their bucket in a layout of 2^bits buckets (by default the current one). */
  function byBucket(items: Iterable<string>, bits = layout!.bits): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const x of items) {
      const b = bucketOf(x, bits);
      const list = out.get(b);
      if (list) list.push(x);
      else out.set(b, [x]);
    }
    return out;
  }

  /** Base ids an identifier key names in the buckets. */
  async function baseIdsOf(keys: Iterable<string>): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!layout) return out;
    const groups = byBucket(keys);
    await visitBuckets(identifierRows, identifierCache, groups.keys(), BucketText.object, (b, text) => {
      const wanted = groups.get(b)!;
      const all = wanted.length >= FIND_EACH_BELOW ? text.all<IdentifierMap>() : null;
      for (const k of wanted) out.set(k, all ? idsOf(all, k) : idsIn(text.member(k) as IdentifierMap[string] | null));
    });
    return out;
  }

  async function entriesOf(ids: string[]): Promise<Map<string, CachedCustomer | null>> {
    const out = new Map<string, CachedCustomer | null>();
    const bases = new Map<string, CachedCustomer | null>();
    if (layout) {
      const groups = byBucket(ids);
      await visitBuckets(customerRows, customerCache, groups.keys(), BucketText.array, (b, text) => {
        for (const id of groups.get(b)!) {
          const p = text.find(customerStart(id)) as PackedCustomer | null;
          bases.set(id, p ? unpackCustomer(p) : null);
        }
      });
    }
    for (const id of ids) out.set(id, overlay.merge(id, bases.get(id) ?? null));
    return out;
  }

  /** Summaries of these customers from the buckets, as a lookup function (null: not in the buckets). */
  async function summariesOf(ids: Iterable<string>): Promise<(id: string) => Summary | null> {
    if (!layout) return () => null;
    const out = new Map<string, Summary>();
    const groups = byBucket(ids);
    await visitBuckets(summaryRows, summaryCache, groups.keys(), BucketText.array, (b, text) => summariesIn(text, groups.get(b)!, out));
    return (id) => out.get(id) ?? null;
  }

  /** Adds to `out` the summaries of customers `wanted` that summary bucket `text` holds. */
  function summariesIn(text: BucketText, wanted: readonly string[], out: Map<string, Summary>) {
    if (wanted.length >= FIND_EACH_BELOW) {
      const want = new Set(wanted);
      for (const s of text.all<StoredSummary[]>()) if (want.has(s[0])) out.set(s[0], summaryOfStored(s));
    } else {
      for (const id of wanted) {
        const s = text.find(summaryStart(id)) as StoredSummary | null;
        if (s) out.set(id, summaryOfStored(s));
      }
    }
  }

  /** Which one customer each key names: looked up key by key in the identifier buckets (a short list). */
  async function matchByLookup<T>(table: KeyTable, decide: (found: MarketingApprovals) => T): Promise<KeyMatches<T>> {
    const keys = table.all();
    const matches = new KeyMatches<T>(keys.length);
    const base = await baseIdsOf(keys);
    const candidates = new Set<string>();
    for (const ids of base.values()) for (const id of ids) candidates.add(id);
    const summaryOf = await summariesOf(candidates);
    keys.forEach((key, i) => {
      for (const id of base.get(key) ?? []) {
        const s = summaryOf(id);
        if (s && baseNames(id, s[0])) matches.add(i, id, () => decide(overlay.approvalsOver(id, s)!));
      }
    });
    await addOverlayNames(table, matches, decide);
    return matches;
  }

  /**
   * Which one customer each key names, for a big list: every summary line is read once and only
   * its keys are looked at, as bytes in the inflated bucket (KeyTable); a line is parsed only
   * when it names a key of the list.
   */
  async function matchByScan<T>(table: KeyTable, decide: (found: MarketingApprovals) => T): Promise<KeyMatches<T>> {
    const { matches, pairs, overlaid } = await scanRange(table, decide, 0, Infinity);
    await addOverlayNames(table, matches, decide, pairs, (id) => overlaid.get(id) ?? null);
    return matches;
  }

  /**
   * The scan of summary buckets [from, to) (all of them for matchByScan, a part for a split scan):
   * the keys of `table` each names, the overlay's names for them (`pairs`, for addOverlayNames),
   * and the summaries of the customers those name that lie there. The summaries addOverlayNames
   * needs are read on the way: reading them again after the scan would touch nearly every record
   * again (10,000 changes name customers everywhere).
   */
  async function scanRange<T>(table: KeyTable, decide: (found: MarketingApprovals) => T, from: number, to: number) {
    const matches = new KeyMatches<T>(table.size);
    const pairs = overlayNames(table);
    const overlaid = new Map<string, Summary>();
    if (!layout) return { matches, pairs, overlaid };
    to = Math.min(to, 2 ** layout.bits);
    const all = Array.from({ length: to - from }, (_, i) => from + i);
    const wanted = byBucket(new Set(pairs.map(([, id]) => id)));
    await visitBuckets(summaryRows, summaryCache, all, (row) => row, (b, row) => {
      if (!row) return;
      const bytes = inflate(row);
      const named = wanted.get(b);
      if (named) summariesIn(BucketText.over(bytes), named, overlaid);
      const bucket = new ScannedSummaries(bytes);
      bucket.scan(table, (start, end, hits) => {
        const head = bucket.head(start);
        if (!head) return;
        const { id, version } = head;
        if (!baseNames(id, version)) return;
        let decided: { v: T } | null = null;
        for (const i of hits) {
          if (!matches.claim(i, id)) continue;
          if (!decided) {
            // The consent versions matter only where the overlay holds consents of this customer.
            const summary: Summary = overlay.holdsConsentsOf(id)
              ? summaryOfStored(bucket.json<StoredSummary>(start, end))
              : [version, {}, bucket.approvals(head.idEnd, end).map((p) => unpackConsent(p, id))];
            decided = { v: decide(overlay.approvalsOver(id, summary)!) };
          }
          matches.set(i, decided.v);
        }
      });
    });
    return { matches, pairs, overlaid };
  }

  /**
   * matchByScan with the upper 44% of the summary buckets scanned by `helper` meanwhile. Null when
   * the list is not scanned, or the helper failed or read another state of the cache (a sync wrote
   * in between): the caller then does it all on this handle.
   */
  async function splitScan<T>(table: KeyTable, decide: (found: MarketingApprovals) => T, helper: ScanHelper<T>, scan?: boolean): Promise<KeyMatches<T> | null> {
    const plan = await read(async () => (layout && (scan ?? scans(table)) ? { size: 2 ** layout.bits, seen: generation } : null));
    if (!plan || plan.size < 2 << SUMMARY_GROUP_BITS) return null;
    const { size, seen } = plan;
    // This side takes 56%. In a million-row scrub here, with the helper warmed while the file was
    // read: its table arrived 0.3 s after this side began, it scanned ~10% slower per bucket, and
    // packing, posting and unpacking its answer took ~1 s more; at 60/40 it was done ~1.5 s
    // before this side, at 54/46 up to 1.3 s after. Whole summary records on each side.
    const group = 1 << SUMMARY_GROUP_BITS;
    const cut = Math.round((size * CALLER_SHARE) / group) * group;
    const far = helper(table.toData(), cut, size).catch((err: unknown) => {
      console.warn('CPNI Guard: the scan helper failed; this worker scans the whole cache instead.', err);
      return null;
    });
    // Null when a sync changed the cache (perhaps its layout) since the plan.
    const near = await read(async () => (generation === seen ? scanRange(table, decide, 0, cut) : null));
    const other = await far; // outside any transaction: IndexedDB would commit one that waits on a worker
    if (!near || !other || other.generation !== seen) return null;
    if (other.claims.keys.some((i) => i >= table.size) || other.claims.several.some((i) => i >= table.size)) {
      console.warn('CPNI Guard: the scan helper claimed keys the list does not have; this worker scans the whole cache instead.');
      return null;
    }
    near.matches.merge(other.claims);
    for (const [id, summary] of other.overlaid) near.overlaid.set(id, summary);
    return read(async () => {
      if (generation !== seen) return null;
      await addOverlayNames(table, near.matches, decide, near.pairs, (id) => near.overlaid.get(id) ?? null);
      return near.matches;
    });
  }

  /** Whether a list is matched by one scan of every summary (more keys than half the buckets) rather than key by key. */
  function scans(table: KeyTable): boolean {
    return layout !== null && table.size > 2 ** layout.bits / 2;
  }

  /** Whether the buckets' version `version` of customer `id` names its keys: the overlay holds none as new. */
  function baseNames(id: string, version: number): boolean {
    if (!overlay.mayHold(id)) return true;
    const op = overlay.customers.get(id);
    return !op || op.version < version;
  }

  /** [key number, customer id, key] for each listed key the overlay says a customer has (or had). */
  function overlayNames(table: KeyTable): [number, string, string][] {
    const pairs: [number, string, string][] = [];
    // From the smaller side: a million-row list against a few overlay keys, or the other way round.
    if (overlay.keys.size < table.size) {
      for (const [key, ids] of overlay.keys) {
        const i = table.find(key);
        if (i !== -1) for (const id of ids) pairs.push([i, id, key]);
      }
    } else {
      table.all().forEach((key, i) => {
        for (const id of overlay.keys.get(key) ?? []) pairs.push([i, id, key]);
      });
    }
    return pairs;
  }

  /**
   * Adds the customers the overlay says a key names (where it holds them at least as new as the
   * buckets). `summaryOf`: their summaries, when the caller has read them already.
   */
  async function addOverlayNames<T>(
    table: KeyTable,
    matches: KeyMatches<T>,
    decide: (found: MarketingApprovals) => T,
    pairs = overlayNames(table),
    summaryOf?: (id: string) => Summary | null,
  ) {
    if (!pairs.length) return;
    summaryOf ??= await summariesOf(new Set(pairs.map(([, id]) => id)));
    for (const [i, id, key] of pairs) {
      const s = summaryOf(id);
      const op = overlay.customers.get(id)!;
      if (s && baseNames(id, s[0])) continue; // the buckets hold a newer version
      if (op.op === 'upsert' && customerKeys(op.data).includes(key)) matches.add(i, id, () => decide(overlay.approvalsOver(id, s)!));
    }
  }

  /** The one customer (merged) a key names, or null when none or more than one. */
  async function resolve(key: string, baseIds: string[]): Promise<CachedCustomer | null> {
    const candidates = new Set(baseIds);
    for (const id of overlay.keys.get(key) ?? []) candidates.add(id);
    if (candidates.size === 0) return null;
    const entries = await entriesOf([...candidates]);
    // A bucket can be behind the overlay (an identifier moved to another customer): check each.
    const matches = [...entries.values()].filter((e): e is CachedCustomer => !!e && customerKeys(e.customer).includes(key));
    return matches.length === 1 ? matches[0]! : null;
  }

  async function find(ids: RecordIdentifiers): Promise<CachedCustomer | null> {
    for (const key of recordKeys(ids)) {
      const base = await baseIdsOf([key]);
      const found = await resolve(key, base.get(key) ?? []);
      if (found) return found;
    }
    return null;
  }

  /**
   * A read transaction on fresh memory. `firstKey`: the identifier bucket a lookup will read
   * first is fetched together with the generation check, saving one round trip to IndexedDB
   * (kept only if the generation did not change).
   *
   * The answer is handed over once `fn` has it, without waiting for the browser to close the
   * transaction: nothing is written, so nothing can undo what was read, and a lookup here waited
   * 0.5 ms for the close at the median and at times tens of ms. It is handed over on a new task:
   * a continuation on this one still runs in Dexie's zone of the transaction, and the caller's
   * next transaction would fail as nested in a finished one. So a read is started only at the top
   * of the cache's methods, never inside another transaction (which would have committed by the
   * time the answer arrives).
   */
  const read = <T>(fn: () => Promise<T>, firstKey?: string) =>
    new Promise<T>((resolve, reject) => {
      let answered = false;
      db.transaction('r', bucketTables, async () => {
        const b = layout && firstKey !== undefined ? bucketOf(firstKey, layout.bits) : null;
        const warm = b !== null && identifierCache.get(b) === undefined;
        const [g, row] = await Promise.all([state('generation'), warm ? db.identifierBuckets.get(b!) : undefined]);
        if ((g ?? 0) !== generation) await reload(g ?? 0);
        else if (warm) identifierCache.set(b!, row ?? null);
        const answer = await fn();
        answered = true;
        setTimeout(() => resolve(answer), 0);
      }).catch((err: unknown) => {
        // After the answer nothing is lost, but a failure to close is worth seeing.
        if (answered) console.warn('CPNI Guard: a cache read failed after it had answered.', err);
        else reject(err);
      });
    });

  // ---- writes ----

  /**
   * Writes customer buckets (and their summaries) in two bulk requests: IndexedDB pipelines
   * them, where awaiting one put after another costs a round trip to the browser each.
   */
  async function writeCustomerBuckets({ puts, summaries, empty }: EncodedCustomerBuckets) {
    // The summaries first: the groups they fill only in part are read before the rest is written.
    await Promise.all([writeSummaries(summaries, empty), db.customerBuckets.bulkPut(puts), db.customerBuckets.bulkDelete(empty)]);
  }

  /** Puts summary buckets and deletes empty ones; a group not written whole is read first. */
  async function writeSummaries(summaries: BucketRow[], empty: number[]) {
    const changed = new Map<number, Map<number, BucketRow | null>>();
    const change = (b: number, row: BucketRow | null) => {
      let m = changed.get(groupOf(b));
      if (!m) changed.set(groupOf(b), (m = new Map()));
      m.set(slotOf(b), row);
    };
    for (const row of summaries) change(row.b, row);
    for (const b of empty) change(b, null);
    const partly = [...changed].filter(([, m]) => m.size < 1 << SUMMARY_GROUP_BITS).map(([g]) => g);
    const stored = new Map((partly.length ? await db.summaryGroups.bulkGet(partly) : []).map((row, i) => [partly[i]!, row]));
    const puts: SummaryGroup[] = [];
    const deletes: number[] = [];
    for (const [g, m] of changed) {
      const parts = stored.get(g)?.parts ?? new Array<BucketRow | null>(1 << SUMMARY_GROUP_BITS).fill(null);
      for (const [slot, row] of m) parts[slot] = row;
      if (parts.some((p) => p !== null)) puts.push({ g, parts });
      else deletes.push(g);
    }
    await Promise.all([db.summaryGroups.bulkPut(puts), db.summaryGroups.bulkDelete(deletes)]);
  }

  async function encodeSnapshotPage(p: SnapshotPage): Promise<EncodedSnapshotPage> {
    if ('format' in p && p.phase === 'identifiers') {
      const { buckets, ...page } = p;
      return { page, customers: 0, consents: 0, rows: { phase: 'identifiers', buckets: buckets.map(({ b, keys }) => ({ b, ...keys })) } };
    }
    if ('format' in p) {
      const { buckets, customers, consents, ...page } = p;
      const puts: BucketRow[] = [];
      const summaries: BucketRow[] = [];
      const empty: number[] = [];
      for (const { b, customers: c, summaries: s } of buckets) {
        if (c && s) {
          puts.push({ b, ...c });
          summaries.push({ b, ...s });
        } else empty.push(b);
      }
      return { page, customers, consents, rows: { phase: 'customers', buckets: { puts, summaries, empty } } };
    }
    const { buckets, ...page } = p;
    if (page.phase === 'customers') {
      const entries = buckets as SnapshotCustomersPage['buckets'];
      let customers = 0;
      let consents = 0;
      for (const bucket of entries) {
        customers += bucket.customers.length;
        for (const e of bucket.customers) consents += e.consents.length;
      }
      return {
        page,
        customers,
        consents,
        rows: { phase: 'customers', buckets: await encodeCustomerBuckets(entries.map(({ b, customers }) => [b, customers as CustomerEntry[]])) },
      };
    }
    return { page, customers: 0, consents: 0, rows: { phase: 'identifiers', buckets: await encodeIdentifierBuckets(buckets as SnapshotIdentifiersPage['buckets']) } };
  }

  /**
   * Writes one snapshot page in two round trips to IndexedDB: the state and the summary groups the
   * page fills only in part are read while its buckets are already being written, then the rest.
   * Each answer waits for the worker's thread, which meanwhile checks the next page: with the
   * buckets written only after the reads' answers, a million customers' pages spent ~20 ms each
   * more in their transaction (73 -> 55 ms a page measured in the lab, 547 pages).
   */
  async function writeSnapshotPage({ page, customers, consents, rows }: EncodedSnapshotPage): Promise<void> {
    const startsOver = page.phase === 'customers' && page.from === 0;
    const committed = await db.transaction('rw', all, async () => {
      const checked = Promise.all([fresh(), state('snapshot')]);
      // A page that goes on with the snapshot is written at once, right behind the reads that
      // check it; a check that fails throws, and the transaction is aborted, these writes with it.
      const pageWrites = () => (rows.phase === 'customers' ? writeCustomerBuckets(rows.buckets) : db.identifierBuckets.bulkPut(rows.buckets));
      const early = startsOver ? null : pageWrites();
      early?.catch(() => {}); // an aborted transaction rejects it; the throw below says why
      let [, progress] = await checked;
      if (startsOver) {
        await clearAll();
        progress = { bits: page.bits, cursor: page.cursor, phase: 'customers', next: 0, ...(page.build ? { build: page.build } : {}) };
        await applySmallTables(db, page.others ?? []);
      } else if (!progress || progress.phase !== page.phase || progress.next !== page.from || progress.bits !== page.bits) {
        const expected = progress ? `${progress.phase} from bucket ${progress.next} of 2^${progress.bits}` : 'customers from bucket 0';
        throw new Error(`snapshot page out of order: got ${page.phase} from bucket ${page.from} of 2^${page.bits}, expected ${expected}`);
      }
      progress = progress!;
      // A copy: this handle's layout changes only once the transaction has committed.
      const l: Layout = startsOver || !layout ? { bits: page.bits, customers: 0, consents: 0 } : { ...layout };
      const writes: Promise<unknown>[] = [];
      writes.push(early ?? pageWrites());
      if (rows.phase === 'customers') {
        l.customers += customers;
        l.consents += consents;
        progress = page.done ? { ...progress, phase: 'identifiers', next: 0 } : { ...progress, next: page.to };
      } else {
        progress = { ...progress, next: page.to };
      }
      writes.push(db.syncState.put({ key: 'layout', value: l }));
      if (page.phase === 'identifiers' && page.done) {
        writes.push(db.syncState.delete('snapshot'), db.syncState.put({ key: 'cursor', value: progress.cursor }));
      } else writes.push(db.syncState.put({ key: 'snapshot', value: progress }));
      // fresh() made `generation` the stored one, and this transaction holds it.
      const bumped = bump(generation);
      await Promise.all([...writes, bumped]);
      return { g: await bumped, l };
    });
    // The buckets changed: what this handle decoded goes; its layout and overlay are what was written.
    customerCache.clear();
    summaryCache.clear();
    identifierCache.clear();
    layout = committed.l;
    if (startsOver) overlay = new Overlay();
    generation = committed.g;
  }

  /** Empties every table but keeps the generation counter, so no handle mistakes the new state for one it decoded. */
  async function clearAll() {
    await Promise.all(all.filter((t) => t !== db.syncState).map((t) => t.clear()));
    await db.syncState.where('key').notEqual('generation').delete();
  }

  return {
    async applyChanges(changes, cursor, opts) {
      let mine = changes.filter((ch) => ch.entity === 'customer' || ch.entity === 'consent');
      const g = await db.transaction('rw', all, async () => {
        await fresh();
        if (opts?.heldOnly) {
          // Only the overlay holds customers in this mode (it is never compacted).
          mine = mine.filter((ch) =>
            ch.entity === 'customer'
              ? overlay.customers.has(ch.id)
              : ch.op === 'upsert'
                ? overlay.customers.has((ch.data as Consent).customerId)
                : overlay.consents.has(ch.id),
          );
        }
        await applySmallTables(db, changes);
        if (mine.length) await db.overlay.add({ changes: mine });
        await db.syncState.put({ key: 'cursor', value: cursor });
        // Handles hold only customers and consents in memory: a page without any (every minute's
        // sync ends with one) leaves them current. Bumping anyway made every other handle reload,
        // and voided a split scan running at the time (splitScan), which then scanned it all again.
        return mine.length ? bump() : generation;
      });
      for (const ch of mine) overlay.add(ch);
      generation = g;
    },

    async hold(entries) {
      const changes: Change[] = [];
      for (const { customer, consents } of entries) {
        changes.push({ op: 'upsert', entity: 'customer', id: customer.id, version: customer.version, data: customer });
        for (const c of consents) changes.push({ op: 'upsert', entity: 'consent', id: c.id, version: c.version, data: c });
      }
      if (!changes.length) return;
      const g = await db.transaction('rw', bucketTables, async () => {
        await fresh();
        await db.overlay.add({ changes });
        return bump();
      });
      for (const ch of changes) overlay.add(ch);
      generation = g;
    },

    async applySnapshotPage(page) {
      await writeSnapshotPage(await encodeSnapshotPage(page));
    },

    encodeSnapshotPage,
    writeSnapshotPage,

    snapshotProgress: () => state('snapshot'),

    cursor: () => state('cursor'),

    findCustomer(identifiers) {
      return read(() => find(identifiers), recordKeys(identifiers)[0]);
    },

    findMany(list) {
      return read(async () => {
        const out: (CachedCustomer | null)[] = [];
        for (const ids of list) out.push(await find(ids));
        return out;
      });
    },

    async decideMany(list, decide, opts) {
      // Each row's keys as numbers in the table: row r has rowKeys[rowStart[r] .. rowStart[r + 1]).
      const table = new KeyTable(list.length); // a key a row, at least
      const rowStart = new Uint32Array(list.length + 1);
      const rowKeys: number[] = [];
      list.forEach((ids, r) => {
        for (const k of recordKeys(ids)) rowKeys.push(table.add(k));
        rowStart[r + 1] = rowKeys.length;
      });
      const split = opts?.helper && opts.scan !== false ? await splitScan(table, decide, opts.helper, opts.scan) : null;
      const matches =
        split ??
        (await read(async () => {
          const scan = opts?.scan ?? scans(table);
          return scan ? matchByScan(table, decide) : matchByLookup(table, decide);
        }));
      let unknown: { v: ReturnType<typeof decide> } | undefined;
      return list.map((_, r) => {
        for (let j = rowStart[r]!; j < rowStart[r + 1]!; j++) {
          if (matches.named(rowKeys[j]!)) return matches.get(rowKeys[j]!);
        }
        return (unknown ??= { v: decide(null) }).v; // no identifier names exactly one customer
      });
    },

    scanPart(data, from, to, decide) {
      return read(async () => {
        const { matches, overlaid } = await scanRange(KeyTable.fromData(data), decide, from, to);
        return { generation, claims: matches.claims(), overlaid: [...overlaid] };
      });
    },

    async counts() {
      return read(async () => {
        if (countsMemo?.generation === generation) return countsMemo.value;
        let customers = layout?.customers ?? 0;
        let consents = layout?.consents ?? 0;
        const touched = [...new Set([...overlay.customers.keys(), ...overlay.consentsOf.keys()])];
        const summaryOf = await summariesOf(touched);
        const accounted = new Set<string>();
        for (const id of touched) {
          const s = summaryOf(id);
          if (s) {
            customers -= 1;
            for (const cid in s[1]) {
              consents -= 1;
              accounted.add(cid);
            }
          }
          for (const cid of overlay.consentsOf.get(id) ?? []) accounted.add(cid);
          if (!overlay.existsOver(id, s)) continue;
          customers += 1;
          consents += overlay.consentCountOver(id, s);
        }
        // A consent tombstone names no customer: one not seen above belonged to a customer the
        // overlay does not otherwise change (the backend tombstones only what existed).
        for (const [cid, op] of overlay.consents) if (op.op === 'tombstone' && !accounted.has(cid)) consents -= 1;
        const value = { customers, consents };
        countsMemo = { generation, value };
        return value;
      });
    },

    async clear() {
      await db.transaction('rw', all, async () => {
        await clearAll();
        await bump();
      });
      generation = -1;
    },

    async compact(threshold = COMPACT_AT) {
      const plan = await read(async () => {
        if (overlay.size <= threshold) return null;
        const bits = layout?.bits ?? suggestBucketBits(overlay.customers.size);
        const touched = byBucket(new Set([...overlay.customers.keys(), ...overlay.consentsOf.keys()]), bits);
        return { bits, byBucket: touched, lastSeq: (await db.overlay.orderBy('seq').last())?.seq ?? 0, ov: overlay };
      });
      if (!plan) return false;
      const { ov } = plan;
      const placedTombstones = new Set<string>();
      const buckets = [...plan.byBucket.keys()].sort((a, b) => a - b);
      // Chunk by chunk, each in its own transactions: merging is idempotent (the overlay stays
      // until the end, and a bucket already merged merges to itself), so a stop in between loses nothing.
      for (let i = 0; i < buckets.length; i += READ_CHUNK) {
        const chunk = buckets.slice(i, i + READ_CHUNK);
        // Read and merge in one transaction, deflate outside it (deflating is asynchronous), write
        // in another that first checks nothing was written in between (else the chunk is done again).
        for (let attempt = 1; ; attempt++) {
          const merged = await db.transaction('r', bucketTables, () => mergeChunk(chunk, plan));
          if (!merged.current) {
            generation = -1;
            return false; // the plan is void; the next sync run compacts what is there then
          }
          const customerRows = await encodeCustomerBuckets(merged.rewritten);
          const identifierRows = await encodeIdentifierMaps(merged.identifiers);
          const written = await db.transaction('rw', bucketTables, async () => {
            if (((await state('generation')) ?? 0) !== merged.seen) return false;
            await writeCustomerBuckets(customerRows);
            await db.identifierBuckets.bulkPut(identifierRows);
            await db.syncState.put({ key: 'layout', value: merged.l });
            await bump();
            return true;
          });
          if (written) {
            for (const id of merged.placed) placedTombstones.add(id);
            break;
          }
          if (attempt === 5) throw new Error('compaction stopped: other writes kept changing the cache between its read and its write');
        }
      }
      await db.transaction('rw', bucketTables, async () => {
        // Consent tombstones whose consent was not in a touched customer stay in the overlay.
        const left: Change[] = [];
        for (const [id, op] of ov.consents) {
          if (op.op === 'tombstone' && !placedTombstones.has(id)) left.push({ op: 'tombstone', entity: 'consent', id, version: op.version });
        }
        await db.overlay.where('seq').belowOrEqual(plan.lastSeq).delete();
        if (left.length) await db.overlay.add({ changes: left });
        await bump();
      });
      generation = -1;
      return true;
    },

    async streamAll(cb) {
      let n = 0;
      const seen = new Set<string>();
      let after = -1;
      for (;;) {
        // A few buckets per transaction; `cb` runs outside it (it may await anything).
        const batch = await read(async () => {
          const rows = await db.customerBuckets.where('b').above(after).limit(16).toArray();
          const out: CachedCustomer[] = [];
          for (const row of rows) {
            for (const [id, e] of decodeCustomers(row)) {
              seen.add(id);
              const merged = overlay.merge(id, e);
              if (merged) out.push(merged);
            }
          }
          return { out, last: rows.length ? rows[rows.length - 1]!.b : null };
        });
        for (const e of batch.out) await cb(e);
        n += batch.out.length;
        if (batch.last === null) break;
        after = batch.last;
      }
      // Customers only the overlay holds.
      const rest = await read(async () => {
        const out: CachedCustomer[] = [];
        for (const id of overlay.customers.keys()) {
          if (seen.has(id)) continue;
          const merged = overlay.merge(id, null);
          if (merged) out.push(merged);
        }
        return out;
      });
      for (const e of rest) await cb(e);
      return n + rest.length;
    },

    async warm() {
      await read(async () => undefined);
    },

    async getPolicy() {
      const rows = await db.policy.toArray();
      if (rows.length === 0) return null;
      // The backend is expected to send one policy document; if it sends several, the newest wins.
      rows.sort((a, b) => b.version - a.version || a.id.localeCompare(b.id));
      return rows[0]!.settings;
    },

    async getCampaign(id) {
      return (await db.campaigns.get(id)) ?? null;
    },

    async adapters() {
      return db.adapters.toArray();
    },

    close() {
      db.close();
    },
  };

  /**
   * Inside a transaction: chunk `chunk` of a compaction's buckets with the overlay `plan.ov`
   * merged in, the layout counts after it, the identifier buckets it changes, and the consent
   * tombstones it applies; `seen` is the generation it was read at, `current` whether the plan
   * still stands (the cache was not cleared, snapshotted again or compacted by another handle).
   */
  async function mergeChunk(chunk: number[], plan: { bits: number; byBucket: Map<number, string[]>; lastSeq: number; ov: Overlay }) {
    const { bits, byBucket, ov } = plan;
    const seen = (await state('generation')) ?? 0;
    const l: Layout = (await state('layout')) ?? { bits, customers: 0, consents: 0 };
    const rows = await db.customerBuckets.bulkGet(chunk);
    const keyAdds: [string, string][] = [];
    const keyRemoves: [string, string][] = [];
    const rewritten: [number, CachedCustomer[]][] = [];
    const placed: string[] = [];
    chunk.forEach((b, j) => {
      const entries = decodeCustomers(rows[j]);
      for (const id of byBucket.get(b)!) {
        const before = entries.get(id) ?? null;
        const after = ov.merge(id, before);
        for (const c of before?.consents ?? []) if (ov.consents.get(c.id)?.op === 'tombstone') placed.push(c.id);
        const oldKeys = new Set(before ? customerKeys(before.customer) : []);
        const newKeys = new Set(after ? customerKeys(after.customer) : []);
        for (const k of oldKeys) if (!newKeys.has(k)) keyRemoves.push([k, id]);
        for (const k of newKeys) if (!oldKeys.has(k)) keyAdds.push([k, id]);
        if (before) {
          l.customers -= 1;
          l.consents -= before.consents.length;
        }
        if (after) {
          entries.set(id, after);
          l.customers += 1;
          l.consents += after.consents.length;
        } else entries.delete(id);
      }
      rewritten.push([b, [...entries.values()]]);
    });
    const current = (await db.overlay.get(plan.lastSeq)) !== undefined && l.bits === bits;
    return { seen, current, l, rewritten, placed, identifiers: await movedIdentifiers(bits, keyAdds, keyRemoves) };
  }

  /** Inside a transaction: the identifier buckets `adds` and `removes` touch, with those keys moved between customers. */
  async function movedIdentifiers(bits: number, adds: [string, string][], removes: [string, string][]): Promise<Map<number, IdentifierMap>> {
    const objs = new Map<number, IdentifierMap>();
    if (!adds.length && !removes.length) return objs;
    const touched = [...new Set([...adds, ...removes].map(([k]) => bucketOf(k, bits)))];
    const rows = await db.identifierBuckets.bulkGet(touched);
    touched.forEach((b, i) => objs.set(b, decodeIdentifiers(rows[i])));
    for (const [k, id] of removes) {
      const obj = objs.get(bucketOf(k, bits))!;
      setIds(obj, k, idsOf(obj, k).filter((x) => x !== id));
    }
    for (const [k, id] of adds) addId(objs.get(bucketOf(k, bits))!, k, id);
    return objs;
  }

}
