// The backend's storage, behind one small interface so the embedded SQLite store
// (server/db.ts) and a PostgreSQL store can both sit behind the same HTTP app.
//
// ---- The change feed (sync pull) and why it never skips a late commit ----
// The extension pulls "changes after a cursor" (DESIGN.md, Sync contract). The feed keeps
// ONE change-log row per entity (entity, entity_id) -> (position, version, op); every write
// to an entity re-assigns that row a new, higher position in the same transaction as the
// entity write. A first full sync therefore reads one row per live entity (1,000,000
// customers = 1,000,000 rows, not their whole history), and a delta sync reads exactly the
// entities written since the cursor, each with its latest version.
//
// SQLite (server/db.ts): `seq` is a plain integer taken from the one-row `sync_state`
// counter INSIDE the write transaction, which is opened with BEGIN IMMEDIATE. SQLite has a
// single writer at a time, so transactions commit in the order they took their seqs: when
// a reader's snapshot shows seq N, every seq below N belongs to a transaction that has
// already committed (or rolled back, leaving nothing). A reader can never see N and later
// discover an N-1 that "committed late". Change-log rows are never deleted (a deletion is a
// tombstone row), so the counter never reuses a value either.
//
// PostgreSQL (to follow): a sequence / bigserial is NOT safe on its own. Values are taken
// at INSERT time but become visible at COMMIT; if T1 takes 10 and T2 takes 11 and T2
// commits first, a client that read 11 and stored cursor=11 never sees 10. The PG store
// must order the feed by commit instead:
//   change_log(entity, entity_id PRIMARY KEY (entity, entity_id),
//              txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
//              seq  bigint NOT NULL DEFAULT nextval('change_seq'),
//              version, op)
//   - every write does INSERT ... ON CONFLICT (entity, entity_id) DO UPDATE SET
//     txid = pg_current_xact_id(), seq = nextval('change_seq'), version = ..., op = ...
//     in the same transaction as the entity write;
//   - a pull reads, in one REPEATABLE READ transaction,
//       WHERE txid < pg_snapshot_xmin(pg_current_snapshot())
//         AND (txid, seq) > (:cursor_txid, :cursor_seq)
//       ORDER BY txid, seq LIMIT :n
//     Every transaction below the snapshot's xmin has finished (committed or aborted), so
//     no row can later appear below a cursor that was handed out: a late commit is never
//     skipped, it is merely served on a later pull. The cursor encodes (txid, seq), e.g.
//     base64url("v2:<txid>:<seq>"); an index on (txid, seq) serves the query.
//   - A long-running transaction holds xmin back: the feed lags (never skips) until it
//     ends. Keep write transactions short, and alert on xmin age.
// The cursor is opaque to the client, so each store picks its own encoding and validates
// it (`pull` throws InvalidCursorError on anything it did not issue).
import type { AuditEvent, Consent, Customer, PolicySettings, Role, User } from '../lib/schemas';
import type { Change, ImportRow, SnapshotQuery, StoredAuditEvent } from '../lib/api';
import type { ApprovalFailure, CampaignRecord } from '../lib/campaign';
import type {
  CampaignListFilter,
  CampaignMutation,
  CampaignUpdateOutcome,
  DeleteCampaignOutcome,
  FailureMutation,
  FailureUpdateOutcome,
} from './campaign-store';
import type { CallTables } from './call-store';

export class InvalidCursorError extends Error {
  constructor(message = 'cursor is malformed or was not issued by this server') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

/** A snapshot request cannot be served (a `from` past the layout's end). */
export class SnapshotRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotRangeError';
  }
}

export type UserWithHash = User & { passwordHash: string };

/** A row to import, with its 1-based row number in the upload (for error messages). */
export type ImportRowTombstone = { type: 'tombstone'; entity: 'customer'; id: string };
export type ServerImportRow = ImportRow | ImportRowTombstone;
export type NumberedImportRow = { row: number; value: ServerImportRow };

export type ImportIssue = { row?: number; path: string; message: string };
export type ImportOutcome =
  | { ok: true; customers: number; consents: number; tombstones: number; unchanged: number }
  | { ok: false; issues: ImportIssue[] };

export type PullPage = { changes: Change[]; cursor: string; hasMore: boolean };
/** A live snapshot page's query (lib/api.ts SnapshotQuery; `bits` omitted: the store picks the layout for its size). */
export type SnapshotRequest = Omit<SnapshotQuery, 'build' | 'encoding'>;

export type AuditFilters = {
  actor?: string;
  kind?: AuditEvent['kind'];
  action?: NonNullable<AuditEvent['action']>;
  ruleId?: AuditEvent['ruleIds'][number];
  customerId?: string;
  fromMs?: number;
  toMs?: number;
};
/** Position in the newest-first audit order: events strictly older than this come next. */
export type AuditPosition = { atMs: number; id: string };

export type DeleteConsentOutcome =
  | { ok: true; version: number }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'retention'; keepUntil: string };

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
  /** True when no users and no customers exist (used by `--seed demo`). */
  isEmpty(): Promise<boolean>;

  // ---- users & sessions ----
  createUser(input: { id?: string; email: string; name: string; role: Role; passwordHash: string }): Promise<User>;
  findUserByEmail(email: string): Promise<UserWithHash | null>;
  createSession(tokenHash: string, userId: string, now: Date, expiresAt: Date): Promise<void>;
  /** The user behind an unexpired session, or null. */
  findSessionUser(tokenHash: string, now: Date): Promise<User | null>;
  deleteSession(tokenHash: string): Promise<void>;

  // ---- customers, consents (writes go through the change feed) ----
  /** All rows in one transaction; if any row is refused, nothing changes. */
  importRows(rows: NumberedImportRow[], now: Date): Promise<ImportOutcome>;
  getCustomer(id: string): Promise<Customer | null>;
  getConsent(id: string): Promise<Consent | null>;
  /** Stores the customer's CPNI password hash (never synced) and marks passwordEstablished. */
  setCustomerPassword(customerId: string, passwordHash: string, now: Date): Promise<boolean>;
  getCustomerPasswordHash(customerId: string): Promise<string | null>;
  /** Deletes a consent only once its retention (1 year after its last change) has run out. */
  deleteConsent(id: string, now: Date): Promise<DeleteConsentOutcome>;

  // ---- policy & adapters ----
  getPolicy(): Promise<{ settings: PolicySettings; version: number }>;
  putPolicy(settings: PolicySettings, now: Date, by: string): Promise<{ settings: PolicySettings; version: number }>;
  putAdapter(id: string, document: unknown, now: Date): Promise<number>;
  /** Admin-defined adapters (server/routes/adapters.ts); a delete writes a tombstone to the feed. */
  listAdapters(): Promise<{ id: string; document: unknown; version: number; updatedAt: string }[]>;
  deleteAdapter(id: string, now: Date): Promise<number | null>;

  // ---- sync ----
  /**
   * Changes after `cursor` (undefined = from the start), in feed order. `entities`: only changes
   * of these kinds; the last page's cursor is then the feed's head.
   */
  pull(cursor: string | undefined, limit: number, entities?: readonly string[]): Promise<PullPage>;
  /**
   * One first-sync snapshot page, as UTF-8 JSON of SnapshotCustomersPage or
   * SnapshotIdentifiersPage (built from the stored JSON, not re-serialized per row). Its rows and
   * its cursor come from one read. Throws SnapshotRangeError when `from` is past the layout.
   */
  snapshot(q: SnapshotRequest): Promise<Uint8Array<ArrayBuffer>>;
  /** LookupResponse JSON text: the live customers any of the identifier keys names. */
  lookupCustomers(keys: readonly string[]): Promise<string>;

  // ---- audit ----
  /** Idempotent by event id; all in one transaction. */
  insertAuditEvents(events: AuditEvent[], receivedAt: Date): Promise<{ accepted: string[]; duplicates: string[] }>;
  queryAudit(
    filters: AuditFilters,
    before: AuditPosition | null,
    limit: number,
  ): Promise<{ events: StoredAuditEvent[]; next: AuditPosition | null }>;

  // ---- campaigns (synced as entity "campaign") and approval-mechanism failures ----
  // Each write stores its audit event in the same transaction; `mutate` is pure and runs
  // inside it on the current record (refusing leaves everything unchanged).
  createCampaign(c: CampaignRecord, event: AuditEvent): Promise<CampaignRecord>;
  getCampaign(id: string): Promise<CampaignRecord | null>;
  listCampaigns(filter: CampaignListFilter): Promise<CampaignRecord[]>;
  updateCampaign(id: string, mutate: CampaignMutation): Promise<CampaignUpdateOutcome>;
  /** Deletes only once the retention (1 year after the last change) has run out. */
  deleteCampaign(id: string, now: Date, event: (c: CampaignRecord) => AuditEvent): Promise<DeleteCampaignOutcome>;
  createApprovalFailure(f: ApprovalFailure, event: AuditEvent): Promise<ApprovalFailure>;
  /** Unsent notices first, newest first. */
  listApprovalFailures(): Promise<ApprovalFailure[]>;
  updateApprovalFailure(id: string, mutate: FailureMutation): Promise<FailureUpdateOutcome>;

  // ---- the rep's call: notices, password checks, captures, mailing requests, account-change notices ----
  readonly calls: CallTables;
}
