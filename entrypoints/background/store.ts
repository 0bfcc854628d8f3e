// The background's own state that is not the customer cache: the audit outbox, quarantined
// sync pages and a small key-value area (session, sync status, reachability). It is a separate
// Dexie database from the cache (cache.ts), so the cache layout can be re-packed, or the cache
// database dropped and re-synced, without touching undelivered audit events.
//
// Everything here survives a service-worker restart; nothing here is kept only in memory.
import Dexie, { type Table } from 'dexie';
import { z } from 'zod';
import { AuditEvent, User, isoDateTime } from '@/lib/schemas';

// An audit event waiting for delivery. `pendingActor` events were recorded while nobody was
// signed in: they have no actor yet and are stamped with the next user who signs in.
export const DraftAuditEvent = AuditEvent.omit({ actor: true, actorRole: true });
export type DraftAuditEvent = z.infer<typeof DraftAuditEvent>;

export type OutboxRow =
  | { id: string; pendingActor: false; event: AuditEvent; attempts: number; nextAttemptAt: number; lastError: string | null }
  | { id: string; pendingActor: true; event: DraftAuditEvent; attempts: number; nextAttemptAt: number; lastError: string | null };

export interface QuarantineRow {
  id?: number;
  cursor: string | null; // the cursor the bad page was asked for (null: from the start)
  error: string;
  receivedAt: string;
  rawSize: number; // bytes of the response body; the body itself is not kept (it may hold CPNI)
  resolvedAt: string | null; // set once a good page from the same cursor was applied
}

export interface KvRow {
  key: string;
  value: unknown;
}

export class GuardStore extends Dexie {
  outbox!: Table<OutboxRow, string>;
  quarantine!: Table<QuarantineRow, number>;
  kv!: Table<KvRow, string>;

  constructor(name: string) {
    super(name);
    this.version(1).stores({
      outbox: 'id, nextAttemptAt',
      quarantine: '++id, cursor',
      kv: 'key',
    });
  }
}

// ---- typed keys in kv; values are parsed on read (they may come from an older version) ----

export const Session = z.object({
  backendUrl: z.string().url(),
  token: z.string().min(1),
  user: User,
  // Set when the backend answered 401: the user still sees the cached data, but must sign in again.
  expired: z.boolean().default(false),
  // 'full': the whole customer base is cached (first sync downloads it). 'on_demand': for bases
  // too big for a browser, only customers this rep opens are fetched, kept and kept fresh.
  cacheMode: z.enum(['full', 'on_demand']).default('full'),
});
export type Session = z.infer<typeof Session>;

export const SyncMeta = z.object({
  lastSuccessAt: isoDateTime.nullable().default(null),
  lastAttemptAt: isoDateTime.nullable().default(null),
  lastError: z.string().nullable().default(null),
  // The backend the cached data came from: signing in to another one starts from an empty cache.
  cacheBackendUrl: z.string().nullable().default(null),
  // Where the last successful run spent its time (seconds): shown by `npm run bench`.
  lastRun: z
    .object({
      pages: z.number(),
      changes: z.number(),
      total: z.number(),
      network: z.number(), // waiting for and reading answers
      parse: z.number(), // JSON.parse
      validate: z.number(), // zod
      apply: z.number(), // writing to the cache
    })
    .nullable()
    .default(null),
});
export type SyncMeta = z.infer<typeof SyncMeta>;

export const Reachability = z.object({ reachable: z.boolean(), at: isoDateTime });
export type Reachability = z.infer<typeof Reachability>;

const KEYS = { session: Session, sync: SyncMeta, reachability: Reachability } as const;
type Keys = typeof KEYS;
export type KvKey = keyof Keys;

export class Kv {
  constructor(private readonly store: GuardStore) {}

  async get<K extends KvKey>(key: K): Promise<z.infer<Keys[K]> | null> {
    const row = await this.store.kv.get(key);
    if (!row) return null;
    const parsed = KEYS[key].safeParse(row.value);
    return parsed.success ? (parsed.data as z.infer<Keys[K]>) : null;
  }

  async set<K extends KvKey>(key: K, value: z.input<Keys[K]>): Promise<void> {
    const parsed = KEYS[key].parse(value);
    await this.store.kv.put({ key, value: parsed });
  }

  async remove(key: KvKey): Promise<void> {
    await this.store.kv.delete(key);
  }

  async syncMeta(): Promise<SyncMeta> {
    return (await this.get('sync')) ?? SyncMeta.parse({});
  }

  async patchSync(patch: Partial<SyncMeta>): Promise<SyncMeta> {
    return this.store.transaction('rw', this.store.kv, async () => {
      const next = { ...(await this.syncMeta()), ...patch };
      await this.set('sync', next);
      return next;
    });
  }
}
