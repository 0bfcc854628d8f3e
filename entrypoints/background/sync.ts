// The sync engine: pulls pages of changes after the stored cursor until the backend says there
// is no more. A page is applied with its cursor in one transaction (cache.applyChanges), so a
// worker stopped at any point resumes from the last whole page. A page that does not match the
// contract is quarantined: nothing of it is applied and the cursor stays before it.
//
// State lives in the cache (cursor) and the store (status, quarantine); only `running` is in
// memory. One run at a time: asking while a run is going joins it.
import type { BackendClient, BackendFailure } from './backend';
import type { CustomerCache } from './cache';
import type { GuardStore, Kv } from './store';

export const SYNC_PAGE_LIMIT = 1000;
const QUARANTINE_KEEP = 100;

export type SyncOutcome =
  | { ok: true; pages: number; changes: number }
  | { ok: false; reason: 'signed_out' | 'unauthorized' | 'network' | 'http' | 'quarantined' | 'cancelled' | 'stuck' | 'internal'; error: string };

export interface SyncEngine {
  run(): Promise<SyncOutcome>;
  readonly running: boolean;
  /** Stops the running pull after the page in flight (its fetch is aborted) and waits for it. */
  cancel(): Promise<void>;
}

export interface SyncDeps {
  cache: CustomerCache;
  backend: BackendClient;
  store: GuardStore;
  kv: Kv;
  now: () => Date;
  pageLimit?: number;
  /** Called after each run that changed something or finished (status, panels). */
  onRunEnd?: (outcome: SyncOutcome) => void;
}

export function createSyncEngine(deps: SyncDeps): SyncEngine {
  const { cache, backend, store, kv, now } = deps;
  const limit = deps.pageLimit ?? SYNC_PAGE_LIMIT;
  let current: Promise<SyncOutcome> | null = null;
  let abort: AbortController | null = null;

  async function fail(outcome: Extract<SyncOutcome, { ok: false }>): Promise<SyncOutcome> {
    await kv.patchSync({ lastError: outcome.error });
    return outcome;
  }

  function failureOf(f: BackendFailure): Extract<SyncOutcome, { ok: false }> {
    switch (f.kind) {
      case 'unauthorized':
        return { ok: false, reason: 'unauthorized', error: `Signed out: the backend no longer accepts this session (${f.message}). Sign in again.` };
      case 'network':
        return { ok: false, reason: 'network', error: f.message };
      case 'http':
        return { ok: false, reason: 'http', error: `Sync failed: the backend answered HTTP ${f.status}: ${f.message}` };
      case 'invalid_response':
        return { ok: false, reason: 'quarantined', error: f.message };
    }
  }

  async function quarantine(cursor: string | null, error: string, rawSize: number) {
    await store.transaction('rw', store.quarantine, async () => {
      await store.quarantine.add({ cursor, error, rawSize, receivedAt: now().toISOString(), resolvedAt: null });
      const n = await store.quarantine.count();
      if (n > QUARANTINE_KEEP) {
        const old = await store.quarantine.orderBy('id').limit(n - QUARANTINE_KEEP).primaryKeys();
        await store.quarantine.bulkDelete(old);
      }
    });
  }

  async function resolveQuarantine(cursor: string | null) {
    const at = now().toISOString();
    await store.quarantine
      .filter((q) => q.cursor === cursor && q.resolvedAt === null)
      .modify({ resolvedAt: at });
  }

  async function runOnce(signal: AbortSignal): Promise<SyncOutcome> {
    const session = await kv.get('session');
    if (!session) return { ok: false, reason: 'signed_out', error: 'Not signed in.' };
    await kv.patchSync({ lastAttemptAt: now().toISOString(), cacheBackendUrl: session.backendUrl });

    let pages = 0;
    let changes = 0;
    for (;;) {
      if (signal.aborted) return { ok: false, reason: 'cancelled', error: 'Sync cancelled.' };
      const cursor = await cache.cursor();
      const res = await backend.pull(session, cursor, limit, signal);
      if (signal.aborted) return { ok: false, reason: 'cancelled', error: 'Sync cancelled.' };
      if (!res.ok) {
        const outcome = failureOf(res);
        if (res.kind === 'invalid_response') {
          const where = cursor === null ? 'the first page' : `the page after cursor "${cursor}"`;
          outcome.error =
            `Sync stopped: ${where} does not match the sync contract (${res.message}). ` +
            'The page was quarantined and nothing from it was applied; sync retries from the same cursor.';
          await quarantine(cursor, res.message, res.rawSize);
        }
        if (res.kind === 'unauthorized') await kv.set('session', { ...session, expired: true });
        return fail(outcome);
      }
      const page = res.data;
      if (page.hasMore && page.cursor === cursor && page.changes.length === 0) {
        return fail({ ok: false, reason: 'stuck', error: `Sync stopped: the backend returned an empty page that does not move the cursor ("${cursor}").` });
      }
      await cache.applyChanges(page.changes, page.cursor);
      pages += 1;
      changes += page.changes.length;
      await resolveQuarantine(cursor);
      if (!page.hasMore) break;
    }
    if (session.expired) await kv.set('session', { ...session, expired: false });
    await kv.patchSync({ lastSuccessAt: now().toISOString(), lastError: null });
    return { ok: true, pages, changes };
  }

  return {
    get running() {
      return current !== null;
    },
    run() {
      if (current) return current;
      const ctrl = new AbortController();
      abort = ctrl;
      current = runOnce(ctrl.signal)
        .catch(async (err: unknown): Promise<SyncOutcome> => {
          const error = `Sync failed: ${err instanceof Error ? err.message : String(err)}`;
          return fail({ ok: false, reason: 'internal', error });
        })
        .finally(() => {
          current = null;
          abort = null;
        });
      const p = current;
      void p.then((o) => deps.onRunEnd?.(o));
      return p;
    },
    async cancel() {
      const running = current;
      abort?.abort();
      if (running) await running.catch(() => undefined);
    },
  };
}
