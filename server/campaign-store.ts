// Campaign records and approval-mechanism failures in the embedded SQLite store. SqliteStore
// (server/db.ts) delegates here; every write runs in one BEGIN IMMEDIATE transaction with its
// audit event and (for campaigns) its change-feed row, so a state change is never stored
// without its audit event, nor synced before it commits.
import type Database from 'better-sqlite3';
import type { Change } from '../lib/api';
import { campaignKeepUntil, toSyncedCampaign, type ApprovalFailure, type CampaignRecord, type TransitionRefusal } from '../lib/campaign';
import type { AuditEvent, CampaignStatus } from '../lib/schemas';
import type { z } from 'zod';

type DB = Database.Database;

/** Migration 2: campaigns (synced as entity "campaign") and approval-mechanism failures. */
export const CAMPAIGNS_MIGRATION_SQL = `
  CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,                   -- CampaignRecord JSON (version included)
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX campaigns_updated ON campaigns(updated_at);
  CREATE INDEX campaigns_status ON campaigns(status, updated_at);

  -- policy §12, 64.2009(f): failures of the opt-in / opt-out mechanism and the FCC notice.
  CREATE TABLE approval_failures (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,                   -- ApprovalFailure JSON
    recorded_at TEXT NOT NULL,
    notice_sent_at TEXT
  );
`;

export type CampaignMutation = (current: CampaignRecord) => { ok: true; next: CampaignRecord; event: AuditEvent } | TransitionRefusal;
export type CampaignUpdateOutcome = { ok: true; campaign: CampaignRecord } | TransitionRefusal | { ok: false; code: 'not_found'; message: string };
export type DeleteCampaignOutcome =
  | { ok: true; version: number }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'retention'; keepUntil: string };
export type FailureMutation = (current: ApprovalFailure) => { ok: true; next: ApprovalFailure; event: AuditEvent } | TransitionRefusal;
export type FailureUpdateOutcome = { ok: true; failure: ApprovalFailure } | TransitionRefusal | { ok: false; code: 'not_found'; message: string };

export interface CampaignListFilter {
  q?: string;
  status?: z.infer<typeof CampaignStatus>;
  limit: number;
}

export class CampaignTables {
  private readonly s;

  constructor(private readonly db: DB) {
    this.s = {
      get: db.prepare(`SELECT data FROM campaigns WHERE id = ?`).pluck(),
      insert: db.prepare(
        `INSERT INTO campaigns (id, data, version, status, owner, created_at, updated_at) VALUES (?,?,?,?,?,?,?)`,
      ),
      update: db.prepare(`UPDATE campaigns SET data = ?, version = ?, status = ?, updated_at = ? WHERE id = ?`),
      delete: db.prepare(`DELETE FROM campaigns WHERE id = ?`),
      lastSeq: db.prepare(`SELECT last_seq FROM sync_state WHERE id = 1`).pluck(),
      setLastSeq: db.prepare(`UPDATE sync_state SET last_seq = ? WHERE id = 1`),
      writeChange: db.prepare(
        `INSERT INTO change_log (entity, entity_id, seq, version, op) VALUES ('campaign',?,?,?,?)
         ON CONFLICT (entity, entity_id) DO UPDATE SET seq = excluded.seq, version = excluded.version, op = excluded.op`,
      ),
      insertAudit: db.prepare(
        `INSERT INTO audit_events (id, at, at_ms, kind, actor, actor_role, action, customer_id, rule_ids, data, received_at)
         VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
      ),
      failure: db.prepare(`SELECT data FROM approval_failures WHERE id = ?`).pluck(),
      insertFailure: db.prepare(`INSERT INTO approval_failures (id, data, recorded_at, notice_sent_at) VALUES (?,?,?,?)`),
      updateFailure: db.prepare(`UPDATE approval_failures SET data = ?, notice_sent_at = ? WHERE id = ?`),
      failures: db.prepare(
        `SELECT data FROM approval_failures ORDER BY (notice_sent_at IS NOT NULL), recorded_at DESC LIMIT ?`,
      ).pluck(),
    };
  }

  private change(id: string, version: number, op: 'upsert' | 'tombstone') {
    const seq = (this.s.lastSeq.get() as number) + 1;
    this.s.setLastSeq.run(seq);
    this.s.writeChange.run(id, seq, version, op);
  }

  private audit(e: AuditEvent) {
    this.s.insertAudit.run(
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
      e.at,
    );
  }

  create(c: CampaignRecord, event: AuditEvent): CampaignRecord {
    return this.db
      .transaction(() => {
        this.s.insert.run(c.id, JSON.stringify(c), c.version, c.status, c.owner, c.createdAt, c.updatedAt);
        this.change(c.id, c.version, 'upsert');
        this.audit(event);
        return c;
      })
      .immediate();
  }

  get(id: string): CampaignRecord | null {
    const data = this.s.get.get(id) as string | undefined;
    return data ? (JSON.parse(data) as CampaignRecord) : null;
  }

  list(f: CampaignListFilter): CampaignRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.status) (where.push('status = ?'), args.push(f.status));
    const q = f.q?.trim().toLowerCase();
    if (q) {
      // Case-insensitive substring over the record's text (name, description, owner, CPNI, products, id).
      where.push(`instr(lower(data), ?) > 0`);
      args.push(JSON.stringify(q).slice(1, -1));
    }
    const sql = `SELECT data FROM campaigns ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY updated_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).pluck().all(...args, f.limit) as string[]).map((d) => JSON.parse(d) as CampaignRecord);
  }

  update(id: string, mutate: CampaignMutation): CampaignUpdateOutcome {
    return this.db
      .transaction((): CampaignUpdateOutcome => {
        const current = this.get(id);
        if (!current) return { ok: false, code: 'not_found', message: `No campaign ${id}.` };
        const r = mutate(current);
        if (!r.ok) return r;
        this.s.update.run(JSON.stringify(r.next), r.next.version, r.next.status, r.next.updatedAt, id);
        this.change(id, r.next.version, 'upsert');
        this.audit(r.event);
        return { ok: true, campaign: r.next };
      })
      .immediate();
  }

  delete(id: string, now: Date, event: (c: CampaignRecord) => AuditEvent): DeleteCampaignOutcome {
    return this.db
      .transaction((): DeleteCampaignOutcome => {
        const current = this.get(id);
        if (!current) return { ok: false, reason: 'not_found' };
        const keepUntil = campaignKeepUntil(current);
        if (now < keepUntil) return { ok: false, reason: 'retention', keepUntil: keepUntil.toISOString() };
        const version = current.version + 1;
        this.s.delete.run(id);
        this.change(id, version, 'tombstone');
        this.audit(event(current));
        return { ok: true, version };
      })
      .immediate();
  }

  /** The change-feed entry for a campaign (the synced shape), or null when it is gone. */
  syncChange(id: string): Change | null {
    const c = this.get(id);
    return c ? { op: 'upsert', entity: 'campaign', id, version: c.version, data: toSyncedCampaign(c) } : null;
  }

  // ---- approval-mechanism failures ----
  createFailure(f: ApprovalFailure, event: AuditEvent): ApprovalFailure {
    return this.db
      .transaction(() => {
        this.s.insertFailure.run(f.id, JSON.stringify(f), f.recordedAt, f.noticeSentAt);
        this.audit(event);
        return f;
      })
      .immediate();
  }

  listFailures(limit = 500): ApprovalFailure[] {
    return (this.s.failures.all(limit) as string[]).map((d) => JSON.parse(d) as ApprovalFailure);
  }

  updateFailure(id: string, mutate: FailureMutation): FailureUpdateOutcome {
    return this.db
      .transaction((): FailureUpdateOutcome => {
        const data = this.s.failure.get(id) as string | undefined;
        if (!data) return { ok: false, code: 'not_found', message: `No approval-mechanism failure ${id}.` };
        const r = mutate(JSON.parse(data) as ApprovalFailure);
        if (!r.ok) return r;
        this.s.updateFailure.run(JSON.stringify(r.next), r.next.noticeSentAt, id);
        this.audit(r.event);
        return { ok: true, failure: r.next };
      })
      .immediate();
  }
}
