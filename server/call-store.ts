// The rep's call in the embedded SQLite store: CPNI notices (versioned), password checks and
// locks, consent captures, mailing requests and account-change notices. SqliteStore
// (server/db.ts) exposes this as `store.calls`; every write runs in one BEGIN IMMEDIATE
// transaction together with its audit event (and, for consents and customers, its change-feed
// row, so the write reaches every extension through sync).
import type Database from 'better-sqlite3';
import {
  FIRST_CPNI_NOTICE,
  type AccountChangeNotice,
  type CpniNotice,
  type MailingRequest,
  type PasswordLock,
} from '../lib/calls';
import type { AuditEvent, Consent, Customer } from '../lib/schemas';
import { bucket16 } from '../lib/buckets';
import { bucketRowidSql } from './snapshot';

type DB = Database.Database;

/** Migration 3: the rep's call. */
export function migrateCalls(db: DB): void {
  db.exec(`
    -- 64.2008(c): the notices reps read before recording approval, every version kept.
    CREATE TABLE cpni_notices (
      version TEXT PRIMARY KEY,
      text TEXT NOT NULL,
      effective_at TEXT NOT NULL
    );
    -- Every password check (never the password), for the per-rep limit.
    CREATE TABLE password_attempts (
      id TEXT PRIMARY KEY,
      customer_id TEXT NOT NULL,
      actor TEXT NOT NULL,
      call_id TEXT NOT NULL,
      at_ms INTEGER NOT NULL,
      result TEXT NOT NULL CHECK (result IN ('verified','wrong','locked','rep_limited'))
    );
    CREATE INDEX password_attempts_actor ON password_attempts(actor, at_ms);
    CREATE INDEX password_attempts_customer ON password_attempts(customer_id, at_ms);
    -- Consecutive failures per customer; locked_at set once they reach the policy's limit.
    CREATE TABLE password_locks (
      customer_id TEXT PRIMARY KEY,
      failures INTEGER NOT NULL,
      locked_at TEXT,
      updated_at TEXT NOT NULL
    );
    -- policy §3A: call detail sent to the address of record instead of disclosed on the call.
    CREATE TABLE mailing_requests (
      id TEXT PRIMARY KEY,
      customer_id TEXT NOT NULL,
      call_id TEXT NOT NULL,
      data TEXT NOT NULL,
      requested_at TEXT NOT NULL
    );
    -- policy §10, 64.2010(f): one notice per account change, to the number/address of record
    -- as it was before the change; kept (never deleted here).
    CREATE TABLE account_change_notices (
      id TEXT PRIMARY KEY,                  -- the client's id: idempotent
      customer_id TEXT NOT NULL,
      data TEXT NOT NULL,
      created_at TEXT NOT NULL,
      sent_at TEXT
    );
    CREATE INDEX account_change_notices_unsent ON account_change_notices(sent_at, created_at);
  `);
  db.prepare(`INSERT INTO cpni_notices (version, text, effective_at) VALUES (?,?,?)`).run(
    FIRST_CPNI_NOTICE.version,
    FIRST_CPNI_NOTICE.text,
    FIRST_CPNI_NOTICE.effectiveAt,
  );
}

export type AttemptResult = 'verified' | 'wrong' | 'locked' | 'rep_limited';
export type CaptureOutcome = { accepted: string[]; duplicates: string[]; refused: { id: string; message: string }[] };

export class CallTables {
  private readonly s;

  constructor(
    private readonly db: DB,
    /** Takes the next change-feed position (inside the caller's transaction). */
    private readonly nextSeq: () => number,
  ) {
    this.s = {
      currentNotice: db.prepare(`SELECT version, text, effective_at FROM cpni_notices ORDER BY effective_at DESC, version DESC LIMIT 1`),
      notice: db.prepare(`SELECT version, text, effective_at FROM cpni_notices WHERE version = ?`),
      insertNotice: db.prepare(`INSERT INTO cpni_notices (version, text, effective_at) VALUES (?,?,?)`),
      lock: db.prepare(`SELECT failures, locked_at FROM password_locks WHERE customer_id = ?`),
      putLock: db.prepare(
        `INSERT INTO password_locks (customer_id, failures, locked_at, updated_at) VALUES (?,?,?,?)
         ON CONFLICT (customer_id) DO UPDATE SET failures = excluded.failures, locked_at = excluded.locked_at, updated_at = excluded.updated_at`,
      ),
      locks: db.prepare(`SELECT customer_id, failures, locked_at FROM password_locks WHERE locked_at IS NOT NULL ORDER BY locked_at`),
      repFailures: db.prepare(
        `SELECT COUNT(*) FROM password_attempts WHERE actor = ? AND at_ms > ? AND result IN ('wrong','rep_limited')`,
      ).pluck(),
      insertAttempt: db.prepare(
        `INSERT INTO password_attempts (id, customer_id, actor, call_id, at_ms, result) VALUES (?,?,?,?,?,?)`,
      ),
      insertAudit: db.prepare(
        `INSERT OR IGNORE INTO audit_events (id, at, at_ms, kind, actor, actor_role, action, customer_id, rule_ids, data, received_at)
         VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
      ),
      consentExists: db.prepare(`SELECT 1 FROM consents WHERE id = ?`).pluck(),
      customer: db.prepare(`SELECT data, version, deleted_at FROM customers WHERE id = ?`),
      insertConsent: db.prepare(
        `INSERT INTO consents (rowid, id, customer_id, data, version, created_at, updated_at)
         VALUES (${bucketRowidSql('consents')}, ?, ?, ?, ?, ?, ?)`,
      ),
      updateCustomer: db.prepare(`UPDATE customers SET data = ?, version = ? WHERE id = ?`),
      writeChange: db.prepare(
        `INSERT INTO change_log (entity, entity_id, seq, version, op) VALUES (?,?,?,?,?)
         ON CONFLICT (entity, entity_id) DO UPDATE SET seq = excluded.seq, version = excluded.version, op = excluded.op`,
      ),
      insertMailing: db.prepare(`INSERT INTO mailing_requests (id, customer_id, call_id, data, requested_at) VALUES (?,?,?,?,?)`),
      change: db.prepare(`SELECT data FROM account_change_notices WHERE id = ?`).pluck(),
      insertChange: db.prepare(`INSERT INTO account_change_notices (id, customer_id, data, created_at, sent_at) VALUES (?,?,?,?,NULL)`),
      updateChange: db.prepare(`UPDATE account_change_notices SET data = ?, sent_at = ? WHERE id = ?`),
      unsentChanges: db.prepare(`SELECT data FROM account_change_notices WHERE sent_at IS NULL ORDER BY created_at`).pluck(),
      allChanges: db.prepare(`SELECT data FROM account_change_notices ORDER BY created_at DESC LIMIT 500`).pluck(),
    };
  }

  private audit(e: AuditEvent, receivedAt: string) {
    this.s.insertAudit.run(e.id, e.at, Date.parse(e.at), e.kind, e.actor, e.actorRole, e.action, e.customerId, JSON.stringify(e.ruleIds), JSON.stringify(e), receivedAt);
  }

  // ---- notices ----
  currentNotice(): CpniNotice {
    const r = this.s.currentNotice.get() as { version: string; text: string; effective_at: string };
    return { version: r.version, text: r.text, effectiveAt: r.effective_at };
  }
  notice(version: string): CpniNotice | null {
    const r = this.s.notice.get(version) as { version: string; text: string; effective_at: string } | undefined;
    return r ? { version: r.version, text: r.text, effectiveAt: r.effective_at } : null;
  }
  addNotice(n: CpniNotice): void {
    this.s.insertNotice.run(n.version, n.text, n.effectiveAt);
  }

  // ---- passwords ----
  passwordState(customerId: string): { failures: number; lockedAt: string | null } {
    const r = this.s.lock.get(customerId) as { failures: number; locked_at: string | null } | undefined;
    return { failures: r?.failures ?? 0, lockedAt: r?.locked_at ?? null };
  }

  repFailuresSince(actor: string, sinceMs: number): number {
    return this.s.repFailures.get(actor, sinceMs) as number;
  }

  /**
   * Stores one password check with its audit event. For 'wrong' the failure count goes up by
   * one inside the transaction (two concurrent wrong answers both count) and the customer
   * locks at `max`; 'verified' resets it. Returns the state after.
   */
  recordAttempt(
    a: { id: string; customerId: string; actor: string; callId: string; now: Date; result: AttemptResult; max: number },
    event: (after: { failures: number; locked: boolean }) => AuditEvent,
  ): { failures: number; locked: boolean } {
    return this.db
      .transaction(() => {
        const nowIso = a.now.toISOString();
        const before = this.passwordState(a.customerId);
        let after = { failures: before.failures, locked: before.lockedAt !== null };
        if (a.result === 'wrong') {
          const failures = before.failures + 1;
          const locked = failures >= a.max;
          this.s.putLock.run(a.customerId, failures, before.lockedAt ?? (locked ? nowIso : null), nowIso);
          after = { failures, locked };
        } else if (a.result === 'verified') {
          this.s.putLock.run(a.customerId, 0, null, nowIso);
          after = { failures: 0, locked: false };
        }
        this.s.insertAttempt.run(a.id, a.customerId, a.actor, a.callId, a.now.getTime(), a.result);
        this.audit(event(after), nowIso);
        return after;
      })
      .immediate();
  }

  /** A manager unlocks: failures back to 0. False when the password was not locked. */
  unlock(customerId: string, now: Date, event: AuditEvent): boolean {
    return this.db
      .transaction(() => {
        const st = this.passwordState(customerId);
        if (st.lockedAt === null) return false;
        this.s.putLock.run(customerId, 0, null, now.toISOString());
        this.audit(event, now.toISOString());
        return true;
      })
      .immediate();
  }

  listLocks(): PasswordLock[] {
    return (this.s.locks.all() as { customer_id: string; failures: number; locked_at: string }[]).map((r) => ({
      customerId: r.customer_id,
      failures: r.failures,
      lockedAt: r.locked_at,
    }));
  }

  // ---- consent captures ----
  /**
   * Stores captured consents as new records (a capture never overwrites another record), each
   * with a change-feed row so it syncs to every extension. Idempotent by consent id: an id
   * already stored is a duplicate (acknowledged, unchanged). A capture for an unknown
   * customer is refused; the rest of the batch is still stored.
   */
  insertCaptures(consents: Consent[], now: Date): CaptureOutcome {
    return this.db
      .transaction(() => {
        const nowIso = now.toISOString();
        const out: CaptureOutcome = { accepted: [], duplicates: [], refused: [] };
        for (const c of consents) {
          if (this.s.consentExists.get(c.id) === 1) {
            out.duplicates.push(c.id);
            continue;
          }
          const cust = this.s.customer.get(c.customerId) as { deleted_at: string | null } | undefined;
          if (!cust || cust.deleted_at) {
            out.refused.push({ id: c.id, message: `customer ${c.customerId} does not exist` });
            continue;
          }
          const data: Consent = { ...c, version: 1, updatedAt: nowIso };
          this.s.insertConsent.run(c.id, c.customerId, JSON.stringify(data), 1, nowIso, nowIso, { bucket: bucket16(c.customerId) });
          this.s.writeChange.run('consent', c.id, this.nextSeq(), 1, 'upsert');
          out.accepted.push(c.id);
        }
        return out;
      })
      .immediate();
  }

  // ---- mailing requests ----
  createMailingRequest(m: MailingRequest, event: AuditEvent): MailingRequest {
    this.db
      .transaction(() => {
        this.s.insertMailing.run(m.id, m.customerId, m.callId, JSON.stringify(m), m.requestedAt);
        this.audit(event, m.requestedAt);
      })
      .immediate();
    return m;
  }

  // ---- account-change notices ----
  getChange(id: string): AccountChangeNotice | null {
    const d = this.s.change.get(id) as string | undefined;
    return d ? (JSON.parse(d) as AccountChangeNotice) : null;
  }

  /**
   * Stores the notice (idempotent by id: a repeat returns the stored one, `created` false) with
   * its audit event. For an address-of-record change, the customer's address clock restarts
   * (64.2010(b): a changed address does not qualify for 30 days) and the change syncs.
   */
  createChange(n: AccountChangeNotice, event: AuditEvent): { notice: AccountChangeNotice; created: boolean } {
    return this.db
      .transaction(() => {
        const existing = this.getChange(n.id);
        if (existing) return { notice: existing, created: false };
        this.s.insertChange.run(n.id, n.customerId, JSON.stringify(n), n.createdAt);
        this.audit(event, n.createdAt);
        if (n.field === 'address_of_record') {
          const row = this.s.customer.get(n.customerId) as { data: string; version: number; deleted_at: string | null } | undefined;
          if (row && !row.deleted_at) {
            const data = JSON.parse(row.data) as Customer;
            if (data.addressOfRecord) {
              const version = row.version + 1;
              const updated: Customer = { ...data, addressOfRecord: { ...data.addressOfRecord, setAt: n.changedAt }, version, updatedAt: n.createdAt };
              this.s.updateCustomer.run(JSON.stringify(updated), version, n.customerId);
              this.s.writeChange.run('customer', n.customerId, this.nextSeq(), version, 'upsert');
            }
          }
        }
        return { notice: n, created: true };
      })
      .immediate();
  }

  listChanges(unsent: boolean): AccountChangeNotice[] {
    const rows = (unsent ? this.s.unsentChanges.all() : this.s.allChanges.all()) as string[];
    return rows.map((d) => JSON.parse(d) as AccountChangeNotice);
  }

  markChangeSent(id: string, by: string, now: Date, event: AuditEvent): AccountChangeNotice | null {
    return this.db
      .transaction(() => {
        const n = this.getChange(id);
        if (!n) return null;
        if (n.sentAt) return n;
        const next: AccountChangeNotice = { ...n, sentAt: now.toISOString(), sentBy: by };
        this.s.updateChange.run(JSON.stringify(next), next.sentAt, id);
        this.audit(event, now.toISOString());
        return next;
      })
      .immediate();
  }
}
