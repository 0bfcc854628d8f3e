// The sync engine: pulls pages of changes after the stored cursor until the backend says there
// is no more. A page is applied with its cursor in one transaction (cache.applyChanges), so a
// worker stopped at any point resumes from the last whole page. A page that does not match the
// contract is quarantined: nothing of it is applied and the cursor stays before it.
//
// State lives in the cache (cursor) and the store (status, quarantine); only `running` is in
// memory. One run at a time: asking while a run is going joins it.
import type { BackendClient, BackendFailure, BackendResult, SnapshotRange } from './backend';
import type { SnapshotPage } from '@/lib/bucket-page';
import type { CustomerCache, EncodedSnapshotPage } from './cache';
import type { GuardStore, Kv, Session } from './store';
import { errorMessage } from '@/lib/errors';


// Pages of 5,000 (the backend's maximum): fewer round trips and transactions for a big delta.
export const SYNC_PAGE_LIMIT = 5000;
const QUARANTINE_KEEP = 100;

export type SyncOutcome =
  | { ok: true; pages: number; changes: number }
  | { ok: false; reason: 'signed_out' | 'unauthorized' | 'network' | 'http' | 'quarantined' | 'cancelled' | 'stuck' | 'internal'; error: string };

export interface SyncEngine {
  run(): Promise<SyncOutcome>;
  readonly running: boolean;
  /** Stops the running pull after the page in flight (its fetch is aborted) and waits for it. */
  cancel(): Promise<void>;
  /**
   * Runs `fn` while no sync runs (waiting for a running one; a sync asked for meanwhile waits).
   * On-demand lookups hold customers this way, so no page is applied between the lookup's read
   * and its hold (a change there would be dropped as "not held" and the customer left stale).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

// On-demand mode's first sync: everything but customers and consents, to reach the feed's head.
const SMALL_ENTITIES = ['policy', 'adapter', 'campaign'] as const;

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

  /** A failed request as an outcome; an answer that breaks the contract is quarantined first. */
  async function failed(res: BackendFailure, session: Session, where: string, label: string | null): Promise<SyncOutcome> {
    const outcome = failureOf(res);
    if (res.kind === 'invalid_response') {
      outcome.error =
        `Sync stopped: ${where} does not match the sync contract (${res.message}). ` +
        'The page was quarantined and nothing from it was applied; sync retries from the same place.';
      await quarantine(label, res.message, res.rawSize);
    }
    if (res.kind === 'unauthorized') await kv.set('session', { ...session, expired: true });
    return fail(outcome);
  }

  /**
   * First sync: the snapshot, bucket range by bucket range (lib/api.ts), resuming where a stopped
   * worker left it. Returns null when done (or when the backend has no snapshot: then the change
   * feed from the start does the same job, only slower), else the outcome to stop with.
   */
  async function snapshot(session: Session, signal: AbortSignal, counted: { pages: number; changes: number; applyMs: number }): Promise<SyncOutcome | null> {
    const progress = await cache.snapshotProgress();
    type Query = Parameters<BackendClient['snapshot']>[1];
    // A page asked for. The next page is asked for as soon as this one's range is known (a bucket
    // page's header, read before its buckets are checked), so the backend and the browser's fetch
    // bring it while the worker checks this one; never more than one page beyond the one checked.
    type Asked = { q: Query; first: boolean; result: Promise<BackendResult<SnapshotPage>>; range?: SnapshotRange; taken: boolean; next?: Asked | null };
    // Aborts a page asked for ahead when the sync stops before taking it.
    const ahead = new AbortController();
    const fetchSignal = AbortSignal.any([signal, ahead.signal]);
    /** The query after a page, or null after the last; later pages ask for the build the first page came from. */
    const queryAfter = (range: SnapshotRange, a: Asked): Query | null => {
      if (range.phase === 'identifiers' && range.done) return null;
      const build = a.first ? range.build : a.q.build;
      return range.done ? { phase: 'identifiers', bits: range.bits, from: 0, build } : { phase: range.phase, bits: range.bits, from: range.to, build };
    };
    const ask = (q: Query, first: boolean): Asked => {
      const a: Asked = { q, first, taken: false, result: Promise.resolve(null as never) };
      a.result = backend.snapshot(session, q, fetchSignal, (range) => {
        if (fetchSignal.aborted) return; // the sync stopped: ask for nothing more
        a.range = range;
        if (a.taken) askNext(a);
      });
      return a;
    };
    const askNext = (a: Asked) => {
      if (a.next !== undefined || !a.range) return;
      const q = queryAfter(a.range, a);
      a.next = q ? ask(q, false) : null;
    };
    const cancelled: SyncOutcome = { ok: false, reason: 'cancelled', error: 'Sync cancelled.' };
    const invalid = (e: unknown): BackendFailure => ({ ok: false, kind: 'invalid_response', status: 200, message: errorMessage(e), rawSize: 0 });
    // The page before this one while its transaction commits: the worker checks the next page
    // meanwhile. Every way out waits for it, so nothing is written after the sync stops.
    let writing: { result: Promise<{ error: unknown } | null>; label: string; where: string; changes: number } | null = null;
    /** Waits for the page being written: null when it was written (or none was), else the outcome to stop with. */
    const written = async (): Promise<SyncOutcome | null> => {
      const w = writing;
      if (!w) return null;
      writing = null;
      const waiting = performance.now();
      const failure = await w.result;
      counted.applyMs += performance.now() - waiting;
      if (failure) return failed(invalid(failure.error), session, w.where, w.label);
      counted.pages += 1;
      counted.changes += w.changes;
      await resolveQuarantine(w.label);
      return null;
    };
    let asked = ask(
      progress ? { phase: progress.phase, bits: progress.bits, from: progress.next, build: progress.build } : { phase: 'customers', bits: null, from: 0 },
      progress === null,
    );
    try {
      for (;;) {
        // Its header may have been read while the page before was checked: then ask for the next now.
        asked.taken = true;
        askNext(asked);
        if (signal.aborted) return (await written()) ?? cancelled;
        const res = await asked.result;
        if (signal.aborted) return (await written()) ?? cancelled;
        const { q } = asked;
        const label = `snapshot:${q.phase}:${q.from}`;
        const where = `the first-sync snapshot page (${q.phase} from bucket ${q.from})`;
        if (!res.ok) {
          const stopped = await written();
          if (stopped) return stopped;
          if (res.kind === 'http' && res.status === 404 && asked.first) return null;
          return failed(res, session, where, label);
        }
        const page = res.data;
        // A JSON page tells its range only now.
        asked.range ??= page;
        askNext(asked);
        const encoding = performance.now();
        let encoded: EncodedSnapshotPage;
        try {
          encoded = await cache.encodeSnapshotPage(page);
        } catch (e) {
          return (await written()) ?? failed(invalid(e), session, where, label);
        }
        counted.applyMs += performance.now() - encoding;
        const stopped = await written();
        if (stopped) return stopped;
        if (signal.aborted) return cancelled;
        const result = cache.writeSnapshotPage(encoded).then(
          () => null,
          (error: unknown) => ({ error }),
        );
        writing = { result, label, where, changes: encoded.customers };
        if (!asked.next) return written();
        asked = asked.next;
      }
    } finally {
      ahead.abort();
    }
  }

  async function runOnce(signal: AbortSignal): Promise<SyncOutcome> {
    const session = await kv.get('session');
    if (!session) return { ok: false, reason: 'signed_out', error: 'Not signed in.' };
    await kv.patchSync({ lastAttemptAt: now().toISOString(), cacheBackendUrl: session.backendUrl });

    const counted = { pages: 0, changes: 0, applyMs: 0 };
    const t0 = { ...backend.timings, at: performance.now() };
    const onDemand = session.cacheMode === 'on_demand';
    const fromScratch = (await cache.cursor()) === null;
    if (fromScratch && !onDemand) {
      const stopped = await snapshot(session, signal, counted);
      if (stopped) return stopped;
    }
    for (;;) {
      if (signal.aborted) return { ok: false, reason: 'cancelled', error: 'Sync cancelled.' };
      const cursor = await cache.cursor();
      const entities = onDemand && fromScratch ? SMALL_ENTITIES : undefined;
      const res = await backend.pull(session, cursor, limit, signal, entities);
      if (signal.aborted) return { ok: false, reason: 'cancelled', error: 'Sync cancelled.' };
      if (!res.ok) {
        const where = cursor === null ? 'the first page' : `the page after cursor "${cursor}"`;
        return failed(res, session, where, cursor);
      }
      const page = res.data;
      if (page.hasMore && page.cursor === cursor && page.changes.length === 0) {
        return fail({ ok: false, reason: 'stuck', error: `Sync stopped: the backend returned an empty page that does not move the cursor ("${cursor}").` });
      }
      const applying = performance.now();
      await cache.applyChanges(page.changes, page.cursor, { heldOnly: onDemand });
      counted.applyMs += performance.now() - applying;
      counted.pages += 1;
      counted.changes += page.changes.length;
      await resolveQuarantine(cursor);
      if (!page.hasMore) break;
    }
    // A large overlay slows every read: fold it into the buckets now that the pull is done.
    // (On demand, the overlay is all the cache holds: only what the rep opened.)
    const compacting = performance.now();
    if (!onDemand) await cache.compact();
    counted.applyMs += performance.now() - compacting;
    if (session.expired) await kv.set('session', { ...session, expired: false });
    const t = backend.timings;
    const lastRun = {
      pages: counted.pages,
      changes: counted.changes,
      total: (performance.now() - t0.at) / 1000,
      network: (t.network - t0.network) / 1000,
      parse: (t.parse - t0.parse) / 1000,
      validate: (t.validate - t0.validate) / 1000,
      apply: counted.applyMs / 1000,
    };
    await kv.patchSync({ lastSuccessAt: now().toISOString(), lastError: null, lastRun });
    return { ok: true, pages: counted.pages, changes: counted.changes };
  }

  let holding: Promise<unknown> | null = null;

  return {
    get running() {
      return current !== null;
    },
    async exclusive(fn) {
      for (;;) {
        if (current) await current.catch(() => undefined);
        else if (holding) await holding.catch(() => undefined);
        else break;
      }
      const p = fn();
      holding = p;
      try {
        return await p;
      } finally {
        if (holding === p) holding = null;
      }
    },
    run() {
      if (current) return current;
      const ctrl = new AbortController();
      abort = ctrl;
      current = (async () => {
        while (holding) await holding.catch(() => undefined);
        return runOnce(ctrl.signal);
      })()
        .catch(async (err: unknown): Promise<SyncOutcome> => {
          const error = `Sync failed: ${errorMessage(err)}`;
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
