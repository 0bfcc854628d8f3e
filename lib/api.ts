// The HTTP contract between the extension and the backend. The server's routes are
// described with these schemas (and the OpenAPI document is generated from them); the
// extension parses every response with them.
import { z } from 'zod';
import {
  AuditEvent,
  AuditKind,
  ActionKind,
  Campaign,
  Consent,
  Customer,
  PolicySettings,
  Role,
  RuleId,
  User,
  isoDateTime,
} from './schemas';
import { MAX_BUCKET_BITS, bucketOf } from './buckets';

export const ApiError = z.object({
  error: z.string(), // machine code, e.g. "forbidden", "invalid_body"
  message: z.string(), // what a person reads
  issues: z
    .array(z.object({ row: z.number().int().optional(), path: z.string(), message: z.string() }))
    .optional(),
});
export type ApiError = z.infer<typeof ApiError>;

// POST /api/auth/sign-in
export const SignInRequest = z.object({
  email: z.string().min(1).max(200),
  password: z.string().min(1).max(200),
});
export const SignInResponse = z.object({ token: z.string().min(16), user: User });
export type SignInResponse = z.infer<typeof SignInResponse>;

// GET /api/me
export const MeResponse = z.object({ user: User });

// ---- Sync pull: GET /api/sync/pull?cursor=<opaque>&limit=<n> ----
// Each change is an upsert or a tombstone of one entity, with its version. The cursor is
// opaque to the client; the client stores it only after a whole page was applied.
export const SYNC_ENTITIES = ['customer', 'consent', 'policy', 'adapter', 'campaign'] as const;
export const SyncEntity = z.enum(SYNC_ENTITIES);
export type SyncEntity = z.infer<typeof SyncEntity>;

const upsert = <E extends SyncEntity, T extends z.ZodTypeAny>(entity: E, data: T) =>
  z.object({
    op: z.literal('upsert'),
    entity: z.literal(entity),
    id: z.string().min(1),
    version: z.number().int().nonnegative(),
    data,
  });

// An admin-defined adapter travels as data; its schema lives with the adapters (lib/adapter-config).
export const AdapterDocument = z.object({ id: z.string(), document: z.unknown() });

// Discriminated by op, then entity: a change is checked against its one schema only (a plain
// union tries each in turn, which made parsing a first sync of a million customers ~3x slower).
export const Change = z.discriminatedUnion('op', [
  z.discriminatedUnion('entity', [
    upsert('customer', Customer),
    upsert('consent', Consent),
    upsert('policy', PolicySettings),
    upsert('adapter', AdapterDocument),
    upsert('campaign', Campaign),
  ]),
  z.object({
    op: z.literal('tombstone'),
    entity: SyncEntity,
    id: z.string().min(1),
    version: z.number().int().nonnegative(),
  }),
]);
export type Change = z.infer<typeof Change>;

export const SYNC_PAGE_MAX = 5000;
export const PullQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(SYNC_PAGE_MAX).default(1000),
  // Comma-separated entities to keep (on-demand mode's first sync: "policy,adapter,campaign").
  // When the filtered feed is exhausted, the cursor jumps to the feed's head.
  entities: z
    .string()
    .max(100)
    .transform((s) => s.split(','))
    .pipe(z.array(SyncEntity).min(1))
    .optional(),
});
export const PullResponse = z.object({
  changes: z.array(Change),
  cursor: z.string(), // resume point after this page
  hasMore: z.boolean(),
  serverTime: isoDateTime,
});
export type PullResponse = z.infer<typeof PullResponse>;

// ---- First sync: GET /api/sync/snapshot?phase=customers|identifiers&bits=<k>&from=<bucket> ----
// A first sync of a million customers through the change feed would deliver 3.5 million single
// changes scattered over the cache. Instead the extension downloads a snapshot bucket range by
// bucket range (lib/buckets.ts): whole customer buckets (customers with their consents), then
// whole identifier buckets (key -> customer id), and writes each bucket once. Every page says
// where the change feed stood when it was read; the extension keeps the cursor of the FIRST page
// and, when the snapshot is complete, pulls changes after it. Pages read later can only be newer,
// and versions decide (an older change never replaces a newer one), so nothing is missed.
export const SNAPSHOT_MAX_ROWS = 60_000;
/** The most rows a backend from before 60,000-row pages serves (its query schema refuses more): the extension then asks for pages this big. */
export const OLDER_BACKEND_MAX_ROWS = 20_000;
/**
 * Rows per page the extension asks for: ~8,000 customers with consents is ~12 MB of JSON; identifier
 * keys are ~40 bytes, so their pages take the most the backend serves. Prebuilt snapshots are cut
 * into pages of these sizes (a request for other sizes gets live pages). Why this large: the
 * extension writes a page in one IndexedDB transaction, and each costs a few round trips and a
 * commit whatever its size; a million customers' first sync in 225 pages took 47-51 s in the lab
 * against 57-71 s in 547 pages (4,000 customers and 20,000 keys a page).
 */
export const SNAPSHOT_PAGE_ROWS = { customers: 8000, identifiers: SNAPSHOT_MAX_ROWS } as const;
/**
 * The media type of a snapshot page asked for with `encoding=deflate`: the page's JSON compressed
 * with raw DEFLATE (RFC 1951). Why: Chromium hands a fetched body to an extension at only ~25-30
 * MB/s on a 2-core machine, whatever the HTTP content-encoding (the network service inflates it
 * first), so a first sync's 1.6 GB of JSON cost minutes; compressed ~12x and inflated by the
 * extension, the same pages take seconds.
 */
export const DEFLATED_JSON = 'application/x-cpni-json+deflate';
/**
 * The media type of a snapshot page asked for with `encoding=buckets`: every bucket already in the
 * text the extension's cache stores (lib/bucket-lines.ts: packed customers, their summaries,
 * identifier members, a line each), deflated bucket by bucket with raw DEFLATE. Why: a first sync
 * spent ~30 s deflating what it stores and ~20 s inflating and parsing the JSON pages; the
 * extension now checks each bucket's text and stores the bytes it received (lib/bucket-page.ts).
 * The body: a 4-byte big-endian length, that many bytes of UTF-8 JSON (BucketPageHeader), then the
 * deflated texts, in the header's order.
 */
export const BUCKET_PAGE = 'application/x-cpni-buckets';
/** Past any real bucket's text (a bucket holds ~60 customers, ~50 KB): a bigger one is refused. */
export const MAX_BUCKET_TEXT_BYTES = 32 * 1024 * 1024;
/** A deflated bucket text in a bucket page: [its bytes in the body, the bytes of its text]. */
const DeflatedText = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative().max(MAX_BUCKET_TEXT_BYTES)]);
/** An identifier key as lib/buckets.ts spells it ("tel:+1...", "mail:...", "crm:<adapter>:<id>", "acct:..."). */
export const IdentifierKey = z.string().min(1).max(400);
/**
 * A snapshot the backend built once, at one feed position, and serves to every rep: every page of
 * it carries the same cursor, so a rep that started on it may take any later page from it.
 */
export const SNAPSHOT_BUILD_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const SnapshotBuildId = z.string().regex(SNAPSHOT_BUILD_ID, 'a snapshot build id is 1-64 letters, digits, _ or -');
export const SnapshotQuery = z.object({
  phase: z.enum(['customers', 'identifiers']),
  // Layout of 2^bits buckets; omitted on the first request: the backend picks one for its size.
  bits: z.coerce.number().int().min(0).max(MAX_BUCKET_BITS).optional(),
  from: z.coerce.number().int().min(0).max(2 ** MAX_BUCKET_BITS).default(0),
  // Whole buckets are served until about this many customers (or identifier keys) are on the page.
  maxRows: z.coerce.number().int().min(1).max(SNAPSHOT_MAX_ROWS).default(SNAPSHOT_PAGE_ROWS.customers),
  // The prebuilt snapshot the first page came from (its `build`); later pages ask for the same one.
  // The backend answers from it while it keeps it, else with a live page (newer, so still safe).
  build: SnapshotBuildId.optional().describe(
    'The `build` of the first page, sent with every later page of the same snapshot (both phases). Omit it on the first page and when the first page had none.',
  ),
  encoding: z
    .enum(['json', 'deflate', 'buckets'])
    .optional()
    .describe(
      `json (the default): the page as application/json. deflate: the same JSON compressed with raw DEFLATE (RFC 1951), as ${DEFLATED_JSON}. buckets: each bucket in the text the extension stores, deflated on its own, as ${BUCKET_PAGE} (lib/api.ts BucketPageHeader). Errors stay application/json.`,
    ),
});
export type SnapshotQuery = z.infer<typeof SnapshotQuery>;

const snapshotPageBase = {
  bits: z.number().int().min(0).max(MAX_BUCKET_BITS),
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(), // exclusive: the next request's `from`
  done: z.boolean(), // true when `to` is 2^bits: this phase is complete
  cursor: z.string(), // the change feed's position when this page was read
  build: SnapshotBuildId.optional(), // set when the page comes from a prebuilt snapshot
};

export const BucketPageHeader = z
  .discriminatedUnion('phase', [
    z.object({
      phase: z.literal('customers'),
      ...snapshotPageBase,
      buckets: z.array(z.object({ b: z.number().int().nonnegative(), customers: DeflatedText, summaries: DeflatedText })),
      others: z.array(Change).default([]),
    }),
    z.object({
      phase: z.literal('identifiers'),
      ...snapshotPageBase,
      buckets: z.array(z.object({ b: z.number().int().nonnegative(), keys: DeflatedText })),
    }),
  ])
  .superRefine((page, ctx) => {
    const problem = snapshotRangeProblem(page);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
export type BucketPageHeader = z.infer<typeof BucketPageHeader>;

export const CustomerEntry = z.object({ customer: Customer, consents: z.array(Consent) });
export type CustomerEntry = z.infer<typeof CustomerEntry>;

export const SnapshotCustomersPage = z
  .object({
    phase: z.literal('customers'),
    ...snapshotPageBase,
    buckets: z.array(z.object({ b: z.number().int().nonnegative(), customers: z.array(CustomerEntry) })),
    // Policy, adapters and campaigns (a handful of rows), sent with the page that starts at 0.
    others: z.array(Change).default([]),
  })
  .superRefine((page, ctx) => {
    const problem = snapshotCustomersProblem(page);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
export type SnapshotCustomersPage = z.infer<typeof SnapshotCustomersPage>;

export const SnapshotIdentifiersPage = z
  .object({
    phase: z.literal('identifiers'),
    ...snapshotPageBase,
    // [identifier key (lib/buckets.ts customerKeys), customer id], ordered by bucket16(key), then the
    // key, then the id (strings by their UTF-8 bytes, i.e. by code point), so the rows of a key
    // naming several customers are adjacent (the extension then writes a bucket in one pass; rows
    // in another order, or keys its UTF-16 comparison orders otherwise, are still taken, more slowly).
    buckets: z.array(
      z.object({ b: z.number().int().nonnegative(), keys: z.array(z.tuple([IdentifierKey, z.string().min(1).max(64)])) }),
    ),
  })
  .superRefine((page, ctx) => {
    const problem = snapshotIdentifiersProblem(page);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
export type SnapshotIdentifiersPage = z.infer<typeof SnapshotIdentifiersPage>;

/** What breaks the snapshot contract in a page of the right shape (lib/snapshot-check.ts checks it too). */
export const snapshotCustomersProblem = (page: SnapshotCustomersPage) => snapshotRangeProblem(page) ?? customerBucketProblem(page);
export const snapshotIdentifiersProblem = (page: SnapshotIdentifiersPage) => snapshotRangeProblem(page) ?? identifierBucketProblem(page);

function snapshotRangeProblem(p: { bits: number; from: number; to: number; done: boolean; buckets: { b: number }[] }): string | null {
  const size = 2 ** p.bits;
  if (p.from >= p.to && !(p.from === p.to && p.done)) return `empty bucket range ${p.from}..${p.to}`;
  if (p.to > size) return `bucket range ends at ${p.to}, past the ${size} buckets of the layout`;
  if (p.done !== (p.to === size)) return `"done" is ${p.done} but the range ends at ${p.to} of ${size}`;
  let last = -1;
  for (const { b } of p.buckets) {
    if (b < p.from || b >= p.to) return `bucket ${b} is outside the page's range ${p.from}..${p.to}`;
    // Each bucket once, in order: a bucket sent twice would be stored once but counted twice.
    if (b <= last) return `bucket ${b} comes after bucket ${last}: buckets are listed once each, in order`;
    last = b;
  }
  return null;
}

function customerBucketProblem(p: { bits: number; buckets: { b: number; customers: CustomerEntry[] }[] }): string | null {
  for (const { b, customers } of p.buckets) {
    for (const { customer, consents } of customers) {
      if (bucketOf(customer.id, p.bits) !== b) return `customer ${customer.id} does not belong in bucket ${b}`;
      for (const c of consents) {
        if (c.customerId !== customer.id) return `consent ${c.id} belongs to ${c.customerId}, not to ${customer.id}`;
      }
    }
  }
  return null;
}

function identifierBucketProblem(p: { bits: number; buckets: { b: number; keys: [string, string][] }[] }): string | null {
  for (const { b, keys } of p.buckets) {
    for (const [key] of keys) if (bucketOf(key, p.bits) !== b) return `identifier key ${key} does not belong in bucket ${b}`;
  }
  return null;
}

// ---- On-demand mode: GET /api/customers/lookup?key=<identifier key>&key=... ----
// For a customer base too big for a rep's browser, the extension keeps only the customers a rep
// touches and asks the backend for one when a record opens. Keys are lib/buckets.ts keys.
export const LOOKUP_MAX_KEYS = 20;
export const LookupQuery = z.object({
  key: z.union([IdentifierKey, z.array(IdentifierKey).min(1).max(LOOKUP_MAX_KEYS)]),
});
export const LookupResponse = z.object({
  // Every live customer any key names (more than one means the identifier is ambiguous).
  matches: z.array(CustomerEntry).max(50),
  cursor: z.string(), // the change feed's position when this answer was read
});
export type LookupResponse = z.infer<typeof LookupResponse>;

// ---- Audit push: POST /api/audit-events ----
export const AUDIT_BATCH_MAX = 500;
export const AuditPushRequest = z.object({ events: z.array(AuditEvent).min(1).max(AUDIT_BATCH_MAX) });
export const AuditPushResponse = z.object({
  accepted: z.array(z.string()), // stored now
  duplicates: z.array(z.string()), // already stored earlier: also acknowledged
});
export type AuditPushResponse = z.infer<typeof AuditPushResponse>;

// ---- Audit query for managers: GET /api/audit-events ----
export const AuditQuery = z.object({
  actor: z.string().max(200).optional(),
  kind: AuditKind.optional(),
  action: ActionKind.optional(),
  ruleId: RuleId.optional(),
  customerId: z.string().max(64).optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().max(200).optional(), // opaque page token: newest first
});
export type AuditQuery = z.infer<typeof AuditQuery>;
export const StoredAuditEvent = AuditEvent.extend({ receivedAt: isoDateTime });
export type StoredAuditEvent = z.infer<typeof StoredAuditEvent>;
export const AuditQueryResponse = z.object({
  events: z.array(StoredAuditEvent),
  next: z.string().nullable(),
});
export type AuditQueryResponse = z.infer<typeof AuditQueryResponse>;

// ---- Import for admins: POST /api/import/customers (JSON array or NDJSON body) ----
export const ImportRow = z.union([
  z.object({ type: z.literal('customer'), customer: Customer.omit({ version: true, updatedAt: true }) }),
  z.object({ type: z.literal('consent'), consent: Consent.omit({ version: true, updatedAt: true }) }),
]);
export type ImportRow = z.infer<typeof ImportRow>;
export const ImportResponse = z.object({ customers: z.number().int(), consents: z.number().int() });

export const HealthResponse = z.object({ ok: z.literal(true), version: z.string(), time: isoDateTime });

export const RoleParam = Role;
