// The embedded store: SQLite through better-sqlite3, WAL mode, migrations in code.
//
// Why the change feed's `seq` is safe here (see server/store.ts for the full argument and
// for what a PostgreSQL store must do instead): every write runs in a BEGIN IMMEDIATE
// transaction, SQLite admits one writer at a time, and the seq is taken from the
// `sync_state` counter inside that transaction. Commits therefore happen in seq order, and
// a reader (WAL snapshot) that sees seq N also sees every seq below N. A cursor handed out
// can never be overtaken by a late commit.
import Database from 'better-sqlite3';
import { uuidv7 } from 'uuidv7';
import type { Change, StoredAuditEvent } from '../lib/api';
import {
  DEFAULT_POLICY,
  PolicySettings,
  ROLES,
  type AuditEvent,
  type Consent,
  type Customer,
  type Role,
  type User,
} from '../lib/schemas';
import {
  InvalidCursorError,
  type AuditFilters,
  type AuditPosition,
  type DeleteConsentOutcome,
  type ImportIssue,
  type ImportOutcome,
  type NumberedImportRow,
  type PullPage,
  type SnapshotRequest,
  type Store,
  type UserWithHash,
} from './store';
import {
  CAMPAIGNS_MIGRATION_SQL,
  CampaignTables,
  type CampaignListFilter,
  type CampaignMutation,
  type CampaignUpdateOutcome,
  type DeleteCampaignOutcome,
  type FailureMutation,
  type FailureUpdateOutcome,
} from './campaign-store';
import type { ApprovalFailure, CampaignRecord } from '../lib/campaign';
import { CallTables, migrateCalls } from './call-store';
import { SnapshotTables, bucketRowidSql, keyRowsOf, migrateSnapshot, registerSnapshotFunctions } from './snapshot';
import { bucket16 } from '../lib/buckets';

type DB = Database.Database;

// ---- migrations ----
const MIGRATIONS: ((db: DB, nowIso: string) => void)[] = [
  // 1: the initial schema
  (db, nowIso) => {
    const roles = ROLES.map((r) => `'${r}'`).join(',');
    db.exec(`
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN (${roles})),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,          -- SHA-256 of the bearer token, never the token
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,          -- ms since epoch
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_expires ON sessions(expires_at);

      CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        account_number TEXT NOT NULL,
        data TEXT NOT NULL,                   -- Customer JSON (version, updatedAt included)
        version INTEGER NOT NULL,
        deleted_at TEXT                       -- tombstoned: gone from sync, kept for retention
      );
      CREATE INDEX customers_account ON customers(account_number);

      -- identifier -> customer, for lookups and scrubs. kind: crm ("<crm>:<id>"), phone
      -- (E.164), email (lower case), account. Only live customers are indexed.
      CREATE TABLE customer_identifiers (
        kind TEXT NOT NULL CHECK (kind IN ('crm','phone','email','account')),
        value TEXT NOT NULL,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        PRIMARY KEY (kind, value, customer_id)
      ) WITHOUT ROWID;
      CREATE INDEX customer_identifiers_customer ON customer_identifiers(customer_id);

      -- CPNI passwords (64.2010): the hash never leaves the backend, never synced.
      CREATE TABLE customer_passwords (
        customer_id TEXT PRIMARY KEY REFERENCES customers(id),
        password_hash TEXT NOT NULL,
        set_at TEXT NOT NULL
      );

      CREATE TABLE consents (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        data TEXT NOT NULL,                   -- Consent JSON (version, updatedAt included)
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX consents_customer ON consents(customer_id);
      -- RETENTION: every superseded state of a consent, with its proof (append-only);
      -- the current state is the consents row.
      CREATE TABLE consent_history (
        consent_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (consent_id, version)
      );

      -- The sync feed: one row per entity, re-assigned a new seq on every write.
      CREATE TABLE change_log (
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        seq INTEGER NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('upsert','tombstone')),
        PRIMARY KEY (entity, entity_id)
      ) WITHOUT ROWID;
      CREATE TABLE sync_state (id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL);
      INSERT INTO sync_state (id, last_seq) VALUES (1, 0);

      CREATE TABLE policy_settings (
        id TEXT PRIMARY KEY CHECK (id = 'current'),
        data TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT
      );

      CREATE TABLE audit_events (
        id TEXT PRIMARY KEY,                  -- the client's UUIDv7: idempotent delivery
        at TEXT NOT NULL,
        at_ms INTEGER NOT NULL,               -- 'at' as ms since epoch, for ordering across offsets
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        action TEXT,
        customer_id TEXT,
        rule_ids TEXT NOT NULL,               -- JSON array
        data TEXT NOT NULL,                   -- the whole AuditEvent JSON
        received_at TEXT NOT NULL
      );
      CREATE INDEX audit_at ON audit_events(at_ms, id);
      CREATE INDEX audit_actor ON audit_events(actor, at_ms);
      CREATE INDEX audit_customer ON audit_events(customer_id, at_ms);
      CREATE INDEX audit_kind ON audit_events(kind, at_ms);
      CREATE TRIGGER audit_events_append_only_u BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
      CREATE TRIGGER audit_events_append_only_d BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

      CREATE TABLE adapters (
        id TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      );
    `);
    db.prepare(`INSERT INTO policy_settings (id, data, version, updated_at) VALUES ('current', ?, 1, ?)`).run(
      JSON.stringify(DEFAULT_POLICY),
      nowIso,
    );
    db.prepare(`UPDATE sync_state SET last_seq = 1 WHERE id = 1`).run();
    db.prepare(`INSERT INTO change_log (entity, entity_id, seq, version, op) VALUES ('policy','current',1,1,'upsert')`).run();
  },
  // 2: campaign records and approval-mechanism failures (server/campaign-store.ts)
  (db) => db.exec(CAMPAIGNS_MIGRATION_SQL),
  // 3: the rep's call: CPNI notices, password checks and locks, mailing requests, account-change notices (server/call-store.ts)
  (db) => migrateCalls(db),
  // 4: the bucket hash beside customers and identifier keys: first-sync snapshots, lookups (server/snapshot.ts)
  (db) => migrateSnapshot(db),
];

/** Brings the schema to version `to` (default: the newest; a test stops earlier to check a backfill). */
export function migrate(db: DB, now = new Date(), to = MIGRATIONS.length): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)`);
  registerSnapshotFunctions(db);
  const current = (db.prepare(`SELECT MAX(version) AS v FROM schema_version`).get() as { v: number | null }).v ?? 0;
  for (let v = current; v < to; v++) {
    db.transaction(() => {
      MIGRATIONS[v]!(db, now.toISOString());
      db.prepare(`INSERT INTO schema_version (version, applied_at) VALUES (?, ?)`).run(v + 1, now.toISOString());
    }).immediate();
  }
  return to;
}

/** lib/api.ts LookupResponse caps `matches` at 50. */
const LOOKUP_MAX_MATCHES = 50;

// ---- cursors ----
const CURSOR_RE = /^v1:(0|[1-9]\d{0,15})$/;
export function encodeCursor(seq: number): string {
  return Buffer.from(`v1:${seq}`, 'utf8').toString('base64url');
}
export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  const m = CURSOR_RE.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError();
  const seq = Number(m[1]);
  if (!Number.isSafeInteger(seq)) throw new InvalidCursorError();
  return seq;
}

const addYears = (iso: string, years: number) => {
  const d = new Date(iso);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
};

/** How long a consent record is kept after its last change (policy §7, 64.2007-64.2009). */
export const CONSENT_RETENTION_YEARS = 1;

type CustomerRow = { data: string; version: number; deleted_at: string | null };
type ConsentRow = { customer_id: string; data: string; version: number; updated_at: string };
class ImportRejected extends Error {
  constructor(readonly issues: ImportIssue[]) {
    super('import rejected');
  }
}

// Fields the server owns; two records that differ only in these are the same record.
function sameContent(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const strip = ({ version: _v, updatedAt: _u, ...rest }: Record<string, unknown>) => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function identifiersOf(c: Customer): [kind: string, value: string][] {
  const out = new Map<string, [string, string]>();
  const add = (kind: string, value: string) => out.set(`${kind}\u0000${value}`, [kind, value]);
  add('account', c.accountNumber);
  for (const r of c.crmRefs) add('crm', `${r.crm}:${r.id}`);
  for (const p of c.phones) add('phone', p);
  for (const e of c.emails) add('email', e);
  return [...out.values()];
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: DB;
  private readonly s;
  private readonly campaigns: CampaignTables;
  private readonly snapshots: SnapshotTables;
  /** The rep's call (server/call-store.ts). */
  readonly calls: CallTables;

  constructor(path: string, now = new Date()) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('cache_size = -65536'); // 64 MB page cache: bulk imports touch many index pages
    migrate(this.db, now);
    const db = this.db;
    this.campaigns = new CampaignTables(db);
    this.calls = new CallTables(db, () => this.nextSeq()());
    this.snapshots = new SnapshotTables(db, () =>
      (this.s.othersInFeed.all() as { entity: string; entity_id: string; version: number; op: 'upsert' | 'tombstone' }[])
        .map((r) => this.changeFor(r))
        .filter((c) => c.op === 'upsert'),
    );
    this.s = {
      userByEmail: db.prepare(`SELECT id, email, name, role, password_hash FROM users WHERE email = ?`),
      insertUser: db.prepare(`INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES (?,?,?,?,?,?)`),
      insertSession: db.prepare(`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?,?,?,?)`),
      sessionUser: db.prepare(
        `SELECT u.id, u.email, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.expires_at > ?`,
      ),
      deleteSession: db.prepare(`DELETE FROM sessions WHERE token_hash = ?`),
      purgeSessions: db.prepare(`DELETE FROM sessions WHERE expires_at <= ?`),

      lastSeq: db.prepare(`SELECT last_seq FROM sync_state WHERE id = 1`).pluck(),
      setLastSeq: db.prepare(`UPDATE sync_state SET last_seq = ? WHERE id = 1`),
      writeChange: db.prepare(
        `INSERT INTO change_log (entity, entity_id, seq, version, op) VALUES (?,?,?,?,?)
         ON CONFLICT (entity, entity_id) DO UPDATE SET seq = excluded.seq, version = excluded.version, op = excluded.op`,
      ),
      changesAfter: db.prepare(`SELECT entity, entity_id, seq, version, op FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?`),
      changesOfAfter: db.prepare(
        `SELECT entity, entity_id, seq, version, op FROM change_log
         WHERE seq > ? AND entity IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?`,
      ),
      headSeq: db.prepare(`SELECT coalesce(max(seq), 0) FROM change_log`).pluck(),
      othersInFeed: db.prepare(
        `SELECT entity, entity_id, version, op FROM change_log WHERE entity IN ('policy','adapter','campaign') AND op = 'upsert' ORDER BY seq`,
      ),

      customer: db.prepare(`SELECT data, version, deleted_at FROM customers WHERE id = ?`),
      upsertCustomer: db.prepare(
        `INSERT INTO customers (rowid, id, account_number, data, version, deleted_at, bucket)
         VALUES (${bucketRowidSql('customers')}, ?, ?, ?, ?, NULL, @bucket)
         ON CONFLICT (id) DO UPDATE SET account_number = excluded.account_number, data = excluded.data,
           version = excluded.version, deleted_at = NULL, bucket = excluded.bucket`,
      ),
      tombstoneCustomer: db.prepare(`UPDATE customers SET version = ?, deleted_at = ? WHERE id = ?`),
      deleteIdentifiers: db.prepare(`DELETE FROM customer_identifiers WHERE customer_id = ?`),
      insertIdentifier: db.prepare(`INSERT OR IGNORE INTO customer_identifiers (kind, value, customer_id) VALUES (?,?,?)`),
      deleteKeys: db.prepare(`DELETE FROM customer_keys WHERE customer_id = ?`),
      insertKey: db.prepare(`INSERT OR IGNORE INTO customer_keys (bucket, key, customer_id) VALUES (?,?,?)`),
      otherOwner: db.prepare(
        `SELECT customer_id FROM customer_identifiers WHERE kind = ? AND value = ? AND customer_id <> ? LIMIT 1`,
      ).pluck(),
      hasPassword: db.prepare(`SELECT 1 FROM customer_passwords WHERE customer_id = ?`).pluck(),
      passwordHash: db.prepare(`SELECT password_hash FROM customer_passwords WHERE customer_id = ?`).pluck(),
      upsertPassword: db.prepare(
        `INSERT INTO customer_passwords (customer_id, password_hash, set_at) VALUES (?,?,?)
         ON CONFLICT (customer_id) DO UPDATE SET password_hash = excluded.password_hash, set_at = excluded.set_at`,
      ),

      consent: db.prepare(`SELECT customer_id, data, version, updated_at FROM consents WHERE id = ?`),
      consentsOf: db.prepare(`SELECT id, data, version FROM consents WHERE customer_id = ?`),
      upsertConsent: db.prepare(
        `INSERT INTO consents (rowid, id, customer_id, data, version, created_at, updated_at)
         VALUES (${bucketRowidSql('consents')}, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, version = excluded.version, updated_at = excluded.updated_at`,
      ),
      bumpConsentVersion: db.prepare(`UPDATE consents SET data = ?, version = ? WHERE id = ?`),
      consentHistory: db.prepare(`INSERT INTO consent_history (consent_id, version, data, recorded_at) VALUES (?,?,?,?)`),
      deleteConsent: db.prepare(`DELETE FROM consents WHERE id = ?`),
      deleteConsentHistory: db.prepare(`DELETE FROM consent_history WHERE consent_id = ?`),

      policy: db.prepare(`SELECT data, version FROM policy_settings WHERE id = 'current'`),
      putPolicy: db.prepare(`UPDATE policy_settings SET data = ?, version = ?, updated_at = ?, updated_by = ? WHERE id = 'current'`),
      adapter: db.prepare(`SELECT document, version FROM adapters WHERE id = ?`),
      adapters: db.prepare(`SELECT id, document, version, updated_at FROM adapters ORDER BY id`),
      deleteAdapter: db.prepare(`DELETE FROM adapters WHERE id = ?`),
      upsertAdapter: db.prepare(
        `INSERT INTO adapters (id, document, version, updated_at) VALUES (?,?,?,?)
         ON CONFLICT (id) DO UPDATE SET document = excluded.document, version = excluded.version, updated_at = excluded.updated_at`,
      ),

      insertAudit: db.prepare(
        `INSERT OR IGNORE INTO audit_events (id, at, at_ms, kind, actor, actor_role, action, customer_id, rule_ids, data, received_at)
         VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
      ),
      counts: db.prepare(`SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM customers)`).pluck(),
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  async isEmpty(): Promise<boolean> {
    return (this.s.counts.get() as number) === 0;
  }

  // ---- users & sessions ----
  async createUser(input: { id?: string; email: string; name: string; role: Role; passwordHash: string }): Promise<User> {
    const user: User = { id: input.id ?? uuidv7(), email: input.email.trim().toLowerCase(), name: input.name, role: input.role };
    this.s.insertUser.run(user.id, user.email, user.name, user.role, input.passwordHash, new Date().toISOString());
    return user;
  }

  async findUserByEmail(email: string): Promise<UserWithHash | null> {
    const r = this.s.userByEmail.get(email.trim().toLowerCase()) as
      | { id: string; email: string; name: string; role: Role; password_hash: string }
      | undefined;
    return r ? { id: r.id, email: r.email, name: r.name, role: r.role, passwordHash: r.password_hash } : null;
  }

  async createSession(tokenHash: string, userId: string, now: Date, expiresAt: Date): Promise<void> {
    this.db
      .transaction(() => {
        this.s.purgeSessions.run(now.getTime());
        this.s.insertSession.run(tokenHash, userId, now.getTime(), expiresAt.getTime());
      })
      .immediate();
  }

  async findSessionUser(tokenHash: string, now: Date): Promise<User | null> {
    return (this.s.sessionUser.get(tokenHash, now.getTime()) as User | undefined) ?? null;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.s.deleteSession.run(tokenHash);
  }

  // ---- change feed ----
  /** Seq allocator for one write transaction; `flush` stores the counter before commit. */
  private seqAllocator(): { next: () => number; flush: () => void } {
    const start = this.s.lastSeq.get() as number;
    let seq = start;
    return {
      next: () => ++seq,
      flush: () => {
        if (seq !== start) this.s.setLastSeq.run(seq);
      },
    };
  }

  private nextSeq(): () => number {
    const a = this.seqAllocator();
    return () => {
      const n = a.next();
      a.flush();
      return n;
    };
  }

  async pull(cursor: string | undefined, limit: number, entities?: readonly string[]): Promise<PullPage> {
    const after = decodeCursor(cursor);
    // One read transaction: the change rows and the entity rows come from one snapshot.
    return this.db.transaction(() => {
      const rows = (
        entities ? this.s.changesOfAfter.all(after, JSON.stringify(entities), limit + 1) : this.s.changesAfter.all(after, limit + 1)
      ) as {
        entity: string;
        entity_id: string;
        seq: number;
        version: number;
        op: 'upsert' | 'tombstone';
      }[];
      const hasMore = rows.length > limit;
      if (hasMore) rows.length = limit;
      const changes: Change[] = [];
      for (const r of rows) changes.push(this.changeFor(r));
      let last = rows.length ? rows[rows.length - 1]!.seq : after;
      // Filtered and complete: the other entities' changes up to here are skipped on purpose
      // (on-demand mode fetches customers itself), so resume from the feed's head.
      if (entities && !hasMore) last = Math.max(last, this.s.headSeq.get() as number);
      return { changes, cursor: encodeCursor(last), hasMore };
    })();
  }

  async snapshot(q: SnapshotRequest): Promise<Uint8Array<ArrayBuffer>> {
    // One read transaction: the page's rows and its cursor come from one snapshot.
    return this.db.transaction(() => this.snapshots.page(q, encodeCursor))();
  }

  /**
   * Runs `read` in ONE read transaction on this connection: every page a snapshot build
   * (server/snapshot-build.ts) renders inside it comes from the same database state.
   */
  readSnapshot<T>(read: (tables: SnapshotTables) => T): T {
    return this.db.transaction(() => read(this.snapshots))();
  }

  /** The change feed's head (newest seq): how far a prebuilt snapshot lags behind. */
  feedHead(): number {
    return this.s.headSeq.get() as number;
  }

  async lookupCustomers(keys: readonly string[]): Promise<string> {
    return this.db.transaction(() => this.snapshots.lookup(keys, LOOKUP_MAX_MATCHES, encodeCursor))();
  }

  private changeFor(r: { entity: string; entity_id: string; version: number; op: 'upsert' | 'tombstone' }): Change {
    const tomb = (): Change => ({ op: 'tombstone', entity: r.entity as Change['entity'], id: r.entity_id, version: r.version });
    if (r.op === 'tombstone') return tomb();
    switch (r.entity) {
      case 'customer': {
        const row = this.s.customer.get(r.entity_id) as CustomerRow | undefined;
        if (!row || row.deleted_at) return tomb();
        return { op: 'upsert', entity: 'customer', id: r.entity_id, version: row.version, data: { ...JSON.parse(row.data), version: row.version } };
      }
      case 'consent': {
        const row = this.s.consent.get(r.entity_id) as ConsentRow | undefined;
        if (!row) return tomb();
        return { op: 'upsert', entity: 'consent', id: r.entity_id, version: row.version, data: { ...JSON.parse(row.data), version: row.version } };
      }
      case 'policy': {
        const row = this.s.policy.get() as { data: string; version: number };
        return { op: 'upsert', entity: 'policy', id: 'current', version: row.version, data: JSON.parse(row.data) };
      }
      case 'adapter': {
        const row = this.s.adapter.get(r.entity_id) as { document: string; version: number } | undefined;
        if (!row) return tomb();
        return {
          op: 'upsert',
          entity: 'adapter',
          id: r.entity_id,
          version: row.version,
          data: { id: r.entity_id, document: JSON.parse(row.document) },
        };
      }
      case 'campaign':
        return this.campaigns.syncChange(r.entity_id) ?? tomb();
      default:
        return tomb();
    }
  }

  // ---- customers & consents ----
  async importRows(rows: NumberedImportRow[], now: Date): Promise<ImportOutcome> {
    try {
      return this.db.transaction(() => this.importInTx(rows, now)).immediate();
    } catch (e) {
      if (e instanceof ImportRejected) return { ok: false, issues: e.issues };
      throw e;
    }
  }

  private importInTx(rows: NumberedImportRow[], now: Date): ImportOutcome {
    const nowIso = now.toISOString();
    const issues: ImportIssue[] = [];
    const seq = this.seqAllocator();
    const next = seq.next;
    const seenCustomer = new Map<string, number>();
    const seenConsent = new Map<string, number>();
    const liveAfter = new Map<string, boolean>(); // customer id -> live after this batch (touched ones)
    const touched: { row: number; customer: Customer }[] = [];
    let customers = 0;
    let consents = 0;
    let tombstones = 0;
    let unchanged = 0;

    const dup = (map: Map<string, number>, id: string, row: number, what: string, path: string) => {
      const first = map.get(id);
      if (first !== undefined) {
        issues.push({ row, path, message: `${what} ${id} already appears in row ${first}; each ${what} may appear once per import` });
        return true;
      }
      map.set(id, row);
      return false;
    };

    // Pass 1: customers and customer tombstones.
    for (const { row, value } of rows) {
      if (value.type === 'customer') {
        const input = value.customer;
        if (dup(seenCustomer, input.id, row, 'customer', 'customer.id')) continue;
        const existing = this.s.customer.get(input.id) as CustomerRow | undefined;
        const hasPw = this.s.hasPassword.get(input.id) === 1;
        const candidate: Customer = { ...input, passwordEstablished: input.passwordEstablished || hasPw, version: 0, updatedAt: nowIso };
        liveAfter.set(input.id, true);
        if (existing && !existing.deleted_at && sameContent(JSON.parse(existing.data), candidate)) {
          unchanged++;
          continue;
        }
        const version = (existing?.version ?? 0) + 1;
        const data: Customer = { ...candidate, version };
        this.s.upsertCustomer.run(input.id, input.accountNumber, JSON.stringify(data), version, { bucket: bucket16(input.id) });
        if (existing) {
          this.s.deleteIdentifiers.run(input.id);
          this.s.deleteKeys.run(input.id);
        }
        for (const [kind, v] of identifiersOf(data)) this.s.insertIdentifier.run(kind, v, input.id);
        for (const [b, key] of keyRowsOf(data)) this.s.insertKey.run(b, key, input.id);
        this.s.writeChange.run('customer', input.id, next(), version, 'upsert');
        touched.push({ row, customer: data });
        customers++;
        // A customer coming back from a tombstone brings its retained consents back to sync.
        if (existing?.deleted_at) {
          for (const c of this.s.consentsOf.all(input.id) as { id: string; data: string; version: number }[]) {
            const v = c.version + 1;
            this.s.bumpConsentVersion.run(JSON.stringify({ ...JSON.parse(c.data), version: v }), v, c.id);
            this.s.writeChange.run('consent', c.id, next(), v, 'upsert');
          }
        }
      } else if (value.type === 'tombstone') {
        if (dup(seenCustomer, value.id, row, 'customer', 'id')) continue;
        const existing = this.s.customer.get(value.id) as CustomerRow | undefined;
        liveAfter.set(value.id, false);
        if (!existing) {
          issues.push({ row, path: 'id', message: `no customer ${value.id} to delete` });
          continue;
        }
        if (existing.deleted_at) {
          unchanged++;
          continue;
        }
        const version = existing.version + 1;
        this.s.tombstoneCustomer.run(version, nowIso, value.id);
        this.s.deleteIdentifiers.run(value.id);
        this.s.deleteKeys.run(value.id);
        this.s.writeChange.run('customer', value.id, next(), version, 'tombstone');
        // Consents stay in the database (RETENTION) but leave the extension's cache.
        for (const c of this.s.consentsOf.all(value.id) as { id: string; data: string; version: number }[]) {
          const v = c.version + 1;
          this.s.bumpConsentVersion.run(JSON.stringify({ ...JSON.parse(c.data), version: v }), v, c.id);
          this.s.writeChange.run('consent', c.id, next(), v, 'tombstone');
        }
        tombstones++;
      }
    }

    // Pass 2: consents, now that every customer of the batch exists.
    for (const { row, value } of rows) {
      if (value.type !== 'consent') continue;
      const input = value.consent;
      if (dup(seenConsent, input.id, row, 'consent', 'consent.id')) continue;
      let live = liveAfter.get(input.customerId);
      if (live === undefined) {
        const c = this.s.customer.get(input.customerId) as CustomerRow | undefined;
        live = !!c && !c.deleted_at;
      }
      if (!live) {
        issues.push({
          row,
          path: 'consent.customerId',
          message: `customer ${input.customerId} does not exist (neither in the database nor earlier in this import)`,
        });
        continue;
      }
      const existing = this.s.consent.get(input.id) as ConsentRow | undefined;
      if (existing && existing.customer_id !== input.customerId) {
        issues.push({
          row,
          path: 'consent.customerId',
          message: `consent ${input.id} belongs to customer ${existing.customer_id}; a consent cannot move to another customer`,
        });
        continue;
      }
      const candidate: Consent = { ...input, version: 0, updatedAt: nowIso };
      if (existing && sameContent(JSON.parse(existing.data), candidate)) {
        unchanged++;
        continue;
      }
      const version = (existing?.version ?? 0) + 1;
      const json = JSON.stringify({ ...candidate, version });
      // RETENTION: the superseded state (with its proof) moves to consent_history.
      if (existing) this.s.consentHistory.run(input.id, existing.version, existing.data, nowIso);
      this.s.upsertConsent.run(input.id, input.customerId, json, version, nowIso, nowIso, { bucket: bucket16(input.customerId) });
      this.s.writeChange.run('consent', input.id, next(), version, 'upsert');
      consents++;
    }

    // Account numbers and CRM refs name one customer each (phones and emails may be shared).
    for (const { row, customer } of touched) {
      for (const [kind, v] of identifiersOf(customer)) {
        if (kind !== 'account' && kind !== 'crm') continue;
        const other = this.s.otherOwner.get(kind, v, customer.id) as string | undefined;
        if (other !== undefined) {
          issues.push({
            row,
            path: kind === 'account' ? 'customer.accountNumber' : 'customer.crmRefs',
            message: `${kind === 'account' ? 'account number' : 'CRM ref'} ${v} already belongs to customer ${other}`,
          });
        }
      }
    }

    if (issues.length) throw new ImportRejected(issues.sort((a, b) => (a.row ?? 0) - (b.row ?? 0)));
    seq.flush();
    return { ok: true, customers, consents, tombstones, unchanged };
  }

  async getCustomer(id: string): Promise<Customer | null> {
    const row = this.s.customer.get(id) as CustomerRow | undefined;
    return row && !row.deleted_at ? { ...JSON.parse(row.data), version: row.version } : null;
  }

  async getConsent(id: string): Promise<Consent | null> {
    const row = this.s.consent.get(id) as ConsentRow | undefined;
    return row ? { ...JSON.parse(row.data), version: row.version } : null;
  }

  async setCustomerPassword(customerId: string, passwordHash: string, now: Date): Promise<boolean> {
    return this.db
      .transaction(() => {
        const row = this.s.customer.get(customerId) as CustomerRow | undefined;
        if (!row || row.deleted_at) return false;
        this.s.upsertPassword.run(customerId, passwordHash, now.toISOString());
        const data = JSON.parse(row.data) as Customer;
        if (!data.passwordEstablished) {
          const version = row.version + 1;
          const updated: Customer = { ...data, passwordEstablished: true, version, updatedAt: now.toISOString() };
          this.s.upsertCustomer.run(customerId, updated.accountNumber, JSON.stringify(updated), version, { bucket: bucket16(customerId) });
          this.s.writeChange.run('customer', customerId, this.nextSeq()(), version, 'upsert');
        }
        return true;
      })
      .immediate();
  }

  async getCustomerPasswordHash(customerId: string): Promise<string | null> {
    return (this.s.passwordHash.get(customerId) as string | undefined) ?? null;
  }

  async deleteConsent(id: string, now: Date): Promise<DeleteConsentOutcome> {
    return this.db
      .transaction((): DeleteConsentOutcome => {
        const row = this.s.consent.get(id) as ConsentRow | undefined;
        if (!row) return { ok: false, reason: 'not_found' };
        const keepUntil = addYears(row.updated_at, CONSENT_RETENTION_YEARS);
        if (now < keepUntil) return { ok: false, reason: 'retention', keepUntil: keepUntil.toISOString() };
        const version = row.version + 1;
        // Past retention: the record and its superseded states (all older still) go.
        this.s.deleteConsentHistory.run(id);
        this.s.deleteConsent.run(id);
        this.s.writeChange.run('consent', id, this.nextSeq()(), version, 'tombstone');
        return { ok: true, version };
      })
      .immediate();
  }

  // ---- policy & adapters ----
  async getPolicy(): Promise<{ settings: PolicySettings; version: number }> {
    const row = this.s.policy.get() as { data: string; version: number };
    return { settings: PolicySettings.parse(JSON.parse(row.data)), version: row.version };
  }

  async putPolicy(settings: PolicySettings, now: Date, by: string): Promise<{ settings: PolicySettings; version: number }> {
    return this.db
      .transaction(() => {
        const row = this.s.policy.get() as { data: string; version: number };
        const version = row.version + 1;
        this.s.putPolicy.run(JSON.stringify(settings), version, now.toISOString(), by);
        this.s.writeChange.run('policy', 'current', this.nextSeq()(), version, 'upsert');
        return { settings, version };
      })
      .immediate();
  }

  async putAdapter(id: string, document: unknown, now: Date): Promise<number> {
    return this.db
      .transaction(() => {
        const row = this.s.adapter.get(id) as { version: number } | undefined;
        const version = (row?.version ?? 0) + 1;
        this.s.upsertAdapter.run(id, JSON.stringify(document), version, now.toISOString());
        this.s.writeChange.run('adapter', id, this.nextSeq()(), version, 'upsert');
        return version;
      })
      .immediate();
  }

  async listAdapters(): Promise<{ id: string; document: unknown; version: number; updatedAt: string }[]> {
    const rows = this.s.adapters.all() as { id: string; document: string; version: number; updated_at: string }[];
    return rows.map((r) => ({ id: r.id, document: JSON.parse(r.document), version: r.version, updatedAt: r.updated_at }));
  }

  async deleteAdapter(id: string, _now: Date): Promise<number | null> {
    return this.db
      .transaction(() => {
        const row = this.s.adapter.get(id) as { version: number } | undefined;
        if (!row) return null;
        const version = row.version + 1;
        this.s.deleteAdapter.run(id);
        this.s.writeChange.run('adapter', id, this.nextSeq()(), version, 'tombstone');
        return version;
      })
      .immediate();
  }

  // ---- audit ----
  async insertAuditEvents(events: AuditEvent[], receivedAt: Date): Promise<{ accepted: string[]; duplicates: string[] }> {
    const rec = receivedAt.toISOString();
    return this.db
      .transaction(() => {
        const accepted: string[] = [];
        const duplicates: string[] = [];
        for (const e of events) {
          const info = this.s.insertAudit.run(
            e.id,
            e.at,
            Date.parse(e.at),
            e.kind,
            e.actor,
            e.actorRole,
            e.action,
            e.customerId,
            JSON.stringify(e.ruleIds),
            JSON.stringify(e),
            rec,
          );
          (info.changes === 1 ? accepted : duplicates).push(e.id);
        }
        return { accepted, duplicates };
      })
      .immediate();
  }

  async queryAudit(
    f: AuditFilters,
    before: AuditPosition | null,
    limit: number,
  ): Promise<{ events: StoredAuditEvent[]; next: AuditPosition | null }> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.actor !== undefined) (where.push('actor = ?'), args.push(f.actor));
    if (f.kind !== undefined) (where.push('kind = ?'), args.push(f.kind));
    if (f.action !== undefined) (where.push('action = ?'), args.push(f.action));
    if (f.customerId !== undefined) (where.push('customer_id = ?'), args.push(f.customerId));
    if (f.ruleId !== undefined) (where.push('EXISTS (SELECT 1 FROM json_each(rule_ids) WHERE value = ?)'), args.push(f.ruleId));
    if (f.fromMs !== undefined) (where.push('at_ms >= ?'), args.push(f.fromMs));
    if (f.toMs !== undefined) (where.push('at_ms <= ?'), args.push(f.toMs));
    if (before) (where.push('(at_ms < ? OR (at_ms = ? AND id < ?))'), args.push(before.atMs, before.atMs, before.id));
    const sql = `SELECT at_ms, id, data, received_at FROM audit_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
                 ORDER BY at_ms DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, limit + 1) as { at_ms: number; id: string; data: string; received_at: string }[];
    const hasMore = rows.length > limit;
    if (hasMore) rows.length = limit;
    const events = rows.map((r) => ({ ...(JSON.parse(r.data) as AuditEvent), receivedAt: r.received_at }));
    const last = rows[rows.length - 1];
    return { events, next: hasMore && last ? { atMs: last.at_ms, id: last.id } : null };
  }

  // ---- campaigns & approval-mechanism failures (SQL in server/campaign-store.ts) ----
  async createCampaign(c: CampaignRecord, event: AuditEvent): Promise<CampaignRecord> {
    return this.campaigns.create(c, event);
  }
  async getCampaign(id: string): Promise<CampaignRecord | null> {
    return this.campaigns.get(id);
  }
  async listCampaigns(filter: CampaignListFilter): Promise<CampaignRecord[]> {
    return this.campaigns.list(filter);
  }
  async updateCampaign(id: string, mutate: CampaignMutation): Promise<CampaignUpdateOutcome> {
    return this.campaigns.update(id, mutate);
  }
  async deleteCampaign(id: string, now: Date, event: (c: CampaignRecord) => AuditEvent): Promise<DeleteCampaignOutcome> {
    return this.campaigns.delete(id, now, event);
  }
  async createApprovalFailure(f: ApprovalFailure, event: AuditEvent): Promise<ApprovalFailure> {
    return this.campaigns.createFailure(f, event);
  }
  async listApprovalFailures(): Promise<ApprovalFailure[]> {
    return this.campaigns.listFailures();
  }
  async updateApprovalFailure(id: string, mutate: FailureMutation): Promise<FailureUpdateOutcome> {
    return this.campaigns.updateFailure(id, mutate);
  }
}

export function openSqliteStore(path = ':memory:', now = new Date()): SqliteStore {
  return new SqliteStore(path, now);
}
