// The audit outbox (DESIGN invariant 4): every event is written here, with a client-made
// UUIDv7, before anyone is told it happened, and delivered to the backend at least once.
// Only ids the backend acknowledges (accepted or duplicate) are deleted; the rest wait with
// exponential backoff. Attempts and next-attempt times are stored, so backoff survives a
// service-worker restart.
//
// Signed out: an event still needs an actor, and the backend accepts no "unknown" actor. Such
// events are kept with `pendingActor` and stamped with the next user who signs in, with
// `details.actorAssignedAtSignIn = true` so the audit trail shows the actor was inferred.
import { uuidv7 } from 'uuidv7';
import { AUDIT_BATCH_MAX } from '@/lib/api';
import { AuditEvent, type AuditEventInput, type User } from '@/lib/schemas';
import type { BackendClient, Endpoint } from './backend';
import { DraftAuditEvent, type GuardStore, type OutboxRow } from './store';

export type OutboxInput = Omit<AuditEventInput, 'id' | 'at' | 'actor' | 'actorRole'>;

export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_CAP_MS = 5 * 60_000;

export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

export type FlushOutcome =
  | { ok: true; delivered: number; remaining: number }
  | { ok: false; reason: 'signed_out' | 'unauthorized' | 'failed'; delivered: number; error: string };

export interface Outbox {
  /** Validates and stores an event; resolves with it once the write committed. Starts a flush. */
  record(input: OutboxInput): Promise<{ id: string; pendingActor: boolean }>;
  /** Sends due events (all waiting events with `force`), in batches. One flush at a time. */
  flush(opts?: { force?: boolean }): Promise<FlushOutcome>;
  /** Gives events recorded while signed out to `user`. Returns how many. */
  stampPending(user: User): Promise<number>;
  pending(): Promise<number>;
}

export interface OutboxDeps {
  store: GuardStore;
  backend: BackendClient;
  /** The signed-in session; an expired one still names the actor but cannot deliver. */
  session: () => Promise<(Endpoint & { user: User; expired?: boolean }) | null>;
  now: () => Date;
  /** Called when the backend answers 401 to a flush. */
  onUnauthorized?: () => void | Promise<void>;
}

export function createOutbox(deps: OutboxDeps): Outbox {
  const { store, backend, now } = deps;
  let active: Promise<FlushOutcome> | null = null;
  let queued: Promise<FlushOutcome> | null = null;
  let queuedForce = false;

  async function postpone(rows: OutboxRow[], error: string) {
    const t = now().getTime();
    await store.transaction('rw', store.outbox, async () => {
      for (const r of rows) {
        const attempts = r.attempts + 1;
        await store.outbox.update(r.id, { attempts, nextAttemptAt: t + backoffMs(attempts), lastError: error });
      }
    });
  }

  async function flushOnce(force: boolean): Promise<FlushOutcome> {
    const session = await deps.session();
    if (!session || session.expired) {
      return { ok: false, reason: 'signed_out', delivered: 0, error: 'Not signed in: audit events wait in the outbox.' };
    }
    let delivered = 0;
    let after = ''; // walk forward by id (UUIDv7: time order), so no event is sent twice in one flush
    for (;;) {
      const t = now().getTime();
      const batch = await store.outbox
        .where('id')
        .above(after)
        .filter((r) => !r.pendingActor && (force || r.nextAttemptAt <= t))
        .limit(AUDIT_BATCH_MAX)
        .toArray();
      if (batch.length === 0) break;
      after = batch[batch.length - 1]!.id;
      const events = batch.map((r) => r.event as AuditEvent);
      const res = await backend.pushAudit(session, events);
      if (!res.ok) {
        if (res.kind === 'unauthorized') {
          await deps.onUnauthorized?.();
          return { ok: false, reason: 'unauthorized', delivered, error: res.message };
        }
        await postpone(batch, res.message);
        return { ok: false, reason: 'failed', delivered, error: res.message };
      }
      const acked = new Set([...res.data.accepted, ...res.data.duplicates]);
      const ackedIds = batch.filter((r) => acked.has(r.id)).map((r) => r.id);
      const notAcked = batch.filter((r) => !acked.has(r.id));
      await store.outbox.bulkDelete(ackedIds);
      delivered += ackedIds.length;
      if (notAcked.length) await postpone(notAcked, 'not acknowledged by the backend');
      if (batch.length < AUDIT_BATCH_MAX) break;
    }
    return { ok: true, delivered, remaining: await store.outbox.count() };
  }

  function flush(opts: { force?: boolean } = {}): Promise<FlushOutcome> {
    if (!active) {
      active = flushOnce(!!opts.force)
        .catch((err: unknown): FlushOutcome => ({ ok: false, reason: 'failed', delivered: 0, error: String(err) }))
        .finally(() => {
          active = null;
        });
      return active;
    }
    // A flush is running and may have picked its batch already: run once more after it.
    queuedForce ||= !!opts.force;
    queued ??= active.then(() => {
      queued = null;
      const force = queuedForce;
      queuedForce = false;
      return flush({ force });
    });
    return queued;
  }

  return {
    async record(input) {
      const session = await deps.session();
      const base = { ...input, id: uuidv7(), at: now().toISOString() };
      let row: OutboxRow;
      if (session) {
        const event = AuditEvent.parse({ ...base, actor: session.user.email, actorRole: session.user.role });
        row = { id: event.id, pendingActor: false, event, attempts: 0, nextAttemptAt: 0, lastError: null };
      } else {
        const event = DraftAuditEvent.parse(base);
        row = { id: event.id, pendingActor: true, event, attempts: 0, nextAttemptAt: 0, lastError: null };
      }
      // db.transaction resolves only after the transaction committed.
      await store.transaction('rw', store.outbox, () => store.outbox.add(row));
      if (session && !session.expired) void flush();
      return { id: row.id, pendingActor: row.pendingActor };
    },

    flush,

    async stampPending(user) {
      return store.transaction('rw', store.outbox, async () => {
        const rows = await store.outbox.filter((r) => r.pendingActor).toArray();
        for (const r of rows) {
          const event = AuditEvent.parse({
            ...r.event,
            actor: user.email,
            actorRole: user.role,
            details: { ...r.event.details, actorAssignedAtSignIn: true },
          });
          await store.outbox.put({ ...r, pendingActor: false, event });
        }
        return rows.length;
      });
    },

    pending() {
      return store.outbox.count();
    },
  };
}
