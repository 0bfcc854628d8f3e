// The background, assembled from its parts and free of `browser`: index.ts passes in the
// runtime's pieces, tests pass fakes. Handlers for every message live here; router.ts parses
// messages and checks senders before they get here.
import type { CacheMode, ContentMessage, PageMessage, PanelState, RecordRefresh, SyncStatus } from '@/lib/messages';
import { recordKeys } from '@/lib/buckets';
import { IdentifierKey, LOOKUP_MAX_KEYS, type AuditQueryResponse } from '@/lib/api';
import { DEFAULT_POLICY } from '@/lib/schemas';
import type { RecordIdentifiers, Snapshot } from '@/lib/snapshot';
import { createBackendClient, type BackendFailure, type Fetch } from './backend';
import { createCampaignHandlers } from './campaigns';
import { createAdapterHandlers, type ContentScriptApi } from './adapters';
import { CRM_MATCHES } from '@/lib/crm-matches';
import { createCallHandlers } from './calls';
import { openCustomerCache, type CachedCustomer, type CustomerCache } from './cache';
import { createOutbox, type OutboxInput } from './outbox';
import { createRouter, type Identity, type Reply, type Sender } from './router';
import { GuardStore, Kv, SyncMeta, type Session } from './store';
import { createSyncEngine, type SyncOutcome } from './sync';
import { TabRegistry, type PanelPort, type SessionArea } from './tabs';

export interface BackgroundDeps extends Identity {
  fetch: Fetch;
  now?: () => Date;
  /** IndexedDB names; tests use fresh ones. */
  cacheName?: string;
  storeName?: string;
  sessionArea?: SessionArea | null;
  syncPageLimit?: number;
  /** How long sign-out waits for the outbox to deliver before it signs out anyway. */
  signOutFlushMs?: number;
  /** Tells a tab's content scripts that the record on screen must be looked up again. */
  notifyTab?: (tabId: number, message: RecordRefresh) => void;
  /** browser.scripting + permissions, for admin-defined adapters on origins outside the manifest. */
  contentScripts?: ContentScriptApi | null;
}

/** A runtime Port as the panel opens it (`browser.runtime.connect({ name: 'panel' })`). */
export interface IncomingPort extends PanelPort {
  sender?: Sender;
  disconnect(): void;
  onDisconnect: { addListener(cb: () => void): void };
}

export type Background = ReturnType<typeof createBackground>;

export function createBackground(deps: BackgroundDeps) {
  const now = deps.now ?? (() => new Date());
  const identity: Identity = { runtimeId: deps.runtimeId, extensionOrigin: deps.extensionOrigin };
  const store = new GuardStore(deps.storeName ?? 'cpni-guard');
  const kv = new Kv(store);
  const cache: CustomerCache = openCustomerCache(deps.cacheName ?? 'cpni-cache');
  const tabs = new TabRegistry(deps.sessionArea ?? null);

  // ---- backend reachability: the panel's "backend unreachable, data as of ..." line ----
  let reachable: boolean | null = null;
  const backend = createBackendClient({
    fetch: deps.fetch,
    onReachability(r) {
      if (r === reachable) return;
      reachable = r;
      void kv.set('reachability', { reachable: r, at: now().toISOString() }).catch(() => undefined);
      void pushAll();
    },
  });

  const session = () => kv.get('session');
  const activeSession = async () => {
    const s = await session();
    return s && !s.expired ? s : null;
  };
  const markExpired = async () => {
    const s = await session();
    if (s && !s.expired) await kv.set('session', { ...s, expired: true });
  };

  const outbox = createOutbox({ store, backend, session, now, onUnauthorized: markExpired });
  const sync = createSyncEngine({
    cache,
    backend,
    store,
    kv,
    now,
    pageLimit: deps.syncPageLimit,
    onRunEnd: (o) => (void refreshTabs(o), void adapters.syncScripts()),
  });
  // Admin-defined adapters (entrypoints/background/adapters.ts): synced documents, checked before use.
  const adapters = createAdapterHandlers({
    cache,
    fetch: deps.fetch,
    activeSession,
    markExpired,
    syncSoon: () => void sync.run().catch(() => undefined),
    manifestMatches: CRM_MATCHES,
    scripts: deps.contentScripts ?? null,
  });
  const campaigns = createCampaignHandlers({
    fetch: deps.fetch,
    cache,
    activeSession,
    markExpired,
    syncSoon: () => void sync.run().catch(() => undefined),
  });
  // The rep's call (entrypoints/background/calls.ts): calls, verification, captures, account changes.
  const calls = createCallHandlers({
    store,
    fetch: deps.fetch,
    now,
    session,
    activeSession,
    markExpired,
    policy: () => policy(),
    outbox,
    customer: async (id) => {
      for (const tabId of tabs.knownTabIds()) {
        const s = (await tabs.get(tabId)).snapshot;
        if (s?.state === 'known' && s.customer.id === id) return s.customer;
      }
      return null;
    },
    changed: () => refreshTabs(),
    syncSoon: () => void sync.run().catch(() => undefined),
  });

  // ---- startup: finish an interrupted sign-out, restore reachability ----
  let started: Promise<void> | null = null;
  function init(): Promise<void> {
    started ??= (async () => {
      const r = await kv.get('reachability');
      if (reachable === null && r) reachable = r.reachable;
      if (!(await session())) {
        const counts = await cache.counts();
        if (counts.customers > 0 || counts.consents > 0 || (await cache.cursor()) !== null) await resetCache();
      }
    })();
    return started;
  }

  // Bumped by every reset: an on-demand lookup answered after a sign-out (or a sign-in as
  // someone else) must not put its customer into the emptied cache.
  let cacheEpoch = 0;

  async function resetCache() {
    cacheEpoch += 1;
    await sync.cancel();
    await cache.clear();
    await kv.set('sync', SyncMeta.parse({}));
    await store.quarantine.clear();
  }

  // ---- snapshots and panels ----
  async function lookup(ids: RecordIdentifiers): Promise<Snapshot> {
    const s = await session();
    const { lastSuccessAt: syncedAt } = await kv.syncMeta();
    if (!s) return { state: 'unknown', why: 'signed_out', syncedAt: null };
    if (!syncedAt) return { state: 'unknown', why: 'not_synced', syncedAt: null };
    let found = await cache.findCustomer(ids);
    if (!found && s.cacheMode === 'on_demand') found = await lookupOnDemand(ids);
    if (!found) return { state: 'unknown', why: 'not_found', syncedAt };
    const { call, verification, consents } = await calls.snapshotPart(found.customer.id, found.consents);
    return { state: 'known', customer: found.customer, consents, call, verification, syncedAt };
  }

  /**
   * On-demand mode: a customer the cache does not hold is asked of the backend, held, and found
   * again in the cache (which applies the same ambiguity rule). Runs while no sync page is
   * applied (sync.exclusive): a page applied between the backend's answer and the hold would
   * drop that customer's change as "not held" and leave the held copy stale. Meanwhile the
   * content script has no status for the record (its record.open is pending), so the guard
   * blocks (UNKNOWN_STATUS). Any failure is "not found" (fail closed); never throws.
   */
  async function lookupOnDemand(ids: RecordIdentifiers): Promise<CachedCustomer | null> {
    const keys = recordKeys(ids)
      .filter((k) => IdentifierKey.safeParse(k).success)
      .slice(0, LOOKUP_MAX_KEYS); // recordKeys lists the strongest first (CRM ref, account)
    if (keys.length === 0) return null;
    const epoch = cacheEpoch;
    try {
      return await sync.exclusive(async () => {
        const s = await activeSession();
        if (!s || s.cacheMode !== 'on_demand' || epoch !== cacheEpoch) return null;
        // Another lookup of the same record may have held the customer while this one waited.
        const held = await cache.findCustomer(ids);
        if (held) return held;
        const res = await backend.lookup(s, keys);
        if (!res.ok) {
          if (res.kind === 'unauthorized') await markExpired();
          return null;
        }
        if (epoch !== cacheEpoch) return null; // signed out or in again meanwhile: the cache was emptied
        await cache.hold(res.data.matches);
        return cache.findCustomer(ids);
      });
    } catch {
      return null;
    }
  }

  async function panelState(tabId: number): Promise<PanelState> {
    let t = await tabs.get(tabId);
    if (!t.snapshot) {
      const { lastSuccessAt } = await kv.syncMeta();
      const snapshot: Snapshot = t.identifiers
        ? await lookup(t.identifiers)
        : { state: 'unknown', why: 'loading', syncedAt: lastSuccessAt };
      if (t.identifiers) t = await tabs.update(tabId, { snapshot });
      else t = { ...t, snapshot };
    }
    return {
      type: 'panel.state',
      snapshot: t.snapshot!,
      user: (await session())?.user ?? null,
      policy: await policy(),
      backendReachable: reachable,
      lastBlock: t.lastBlock,
      ...(t.snapshot?.state === 'known' ? { calls: await calls.panelInfo(t.snapshot.customer.id) } : {}),
    };
  }

  const policy = async () => (await cache.getPolicy()) ?? DEFAULT_POLICY;

  async function push(tabId: number) {
    if (tabs.hasPorts(tabId)) tabs.post(tabId, await panelState(tabId));
  }

  async function pushAll() {
    await Promise.all(tabs.knownTabIds().map((id) => push(id).catch(() => undefined)));
  }

  /**
   * After a sync (or sign-in/out), look the records on screen up again, tell their panels, and
   * tell their guards to ask again (`invalidate`: forget the old status at once).
   */
  async function refreshTabs(_o?: SyncOutcome, invalidate = false) {
    for (const tabId of tabs.knownTabIds()) {
      deps.notifyTab?.(tabId, { type: 'record.refresh', invalidate });
      const t = await tabs.get(tabId);
      if (t.identifiers) await tabs.update(tabId, { snapshot: await lookup(t.identifiers) });
      else if (t.snapshot) await tabs.update(tabId, { snapshot: null });
    }
    await pushAll();
  }

  async function status(): Promise<SyncStatus> {
    const [s, meta, counts, outboxPending, quarantined] = await Promise.all([
      session(),
      kv.syncMeta(),
      cache.counts(),
      outbox.pending(),
      store.quarantine.filter((q) => q.resolvedAt === null).count(),
    ]);
    return {
      backendUrl: s?.backendUrl ?? null,
      user: s?.user ?? null,
      lastSuccessAt: meta.lastSuccessAt,
      lastAttemptAt: meta.lastAttemptAt,
      lastError: s?.expired ? (meta.lastError ?? 'Signed out: the session expired. Sign in again.') : meta.lastError,
      running: sync.running,
      counts,
      outboxPending,
      quarantined,
      backendReachable: reachable,
      adapters: await adapters.status(),
      ...(s ? { cacheMode: s.cacheMode } : {}),
    };
  }

  // ---- content-script messages ----
  async function onContent(msg: ContentMessage, from: { tabId: number; frameId: number; url: string }): Promise<Reply> {
    switch (msg.type) {
      case 'record.open': {
        const snapshot = await lookup(msg.identifiers);
        // Read the tab after the lookup: a block the guard recorded meanwhile must survive.
        const prev = await tabs.get(from.tabId);
        const sameRecord = JSON.stringify(prev.identifiers) === JSON.stringify(msg.identifiers);
        await tabs.update(from.tabId, {
          identifiers: msg.identifiers,
          frameId: from.frameId,
          snapshot,
          lastBlock: sameRecord ? prev.lastBlock : null,
        });
        void push(from.tabId);
        const s = await session();
        return {
          ok: true,
          data: {
            snapshot,
            user: s?.user ?? null,
            policy: await policy(),
            backendReachable: reachable,
          },
        };
      }
      case 'context.get': {
        // A frame that asks is a CRM tab the guard runs in: remember it so it hears refreshes.
        await tabs.update(from.tabId, {});
        return { ok: true, data: { user: (await session())?.user ?? null, policy: await policy() } };
      }
      case 'record.close': {
        // Every CRM frame runs a content script: only the frame that opened the record closes it.
        const prev = await tabs.get(from.tabId);
        if (prev.frameId !== null && prev.frameId !== from.frameId) return { ok: true, data: null };
        await tabs.update(from.tabId, { identifiers: null, frameId: null, snapshot: null, lastBlock: null });
        void push(from.tabId);
        return { ok: true, data: null };
      }
      case 'guard.event': {
        const ruleIds = [...new Set(msg.decision.reasons.map((r) => r.ruleId))];
        const input: OutboxInput = {
          kind: msg.kind,
          action: msg.action,
          customerId: msg.customerId,
          ruleIds,
          reasons: msg.decision.reasons.slice(0, 20).map((r) => r.text.slice(0, 1000)),
          crm: msg.crm,
          pageUrl: msg.pageUrl,
          control: msg.control,
          details: { verdict: msg.decision.verdict, ...msg.details },
        };
        const at = now().toISOString();
        const { id } = await outbox.record(input);
        if (msg.action === 'account.change') void calls.onGuardEvent(msg).catch(() => undefined);
        if (msg.kind === 'action.blocked') {
          await tabs.update(from.tabId, {
            lastBlock: {
              action: msg.action,
              control: msg.control,
              decision: msg.decision,
              at,
              eventId: id,
              campaignId: typeof msg.details.campaignId === 'string' ? msg.details.campaignId : null,
            },
          });
          void push(from.tabId);
        }
        return { ok: true, data: { eventId: id } };
      }
      case 'campaign.get':
        return campaigns.onContent(msg);
      case 'adapters.get':
        await tabs.update(from.tabId, {}); // this tab hears refreshes (new adapters come with a sync)
        return adapters.onContent(msg, from);
    }
  }

  // ---- extension-page messages ----
  async function onPage(msg: PageMessage, from: { tabId: number | null }): Promise<Reply> {
    switch (msg.type) {
      case 'auth.signIn':
        return signIn(msg.backendUrl, msg.email, msg.password, msg.cacheMode ?? 'full');
      case 'auth.signOut':
        return signOut();
      case 'status.get':
        return { ok: true, data: await status() };
      case 'sync.now': {
        const s = await session();
        if (!s) return { ok: false, error: 'Not signed in.' };
        const [outcome] = await Promise.all([sync.run(), outbox.flush({ force: true }), calls.flush(true)]);
        if (!outcome.ok) return { ok: false, error: outcome.error };
        return { ok: true, data: await status() };
      }
      case 'audit.query': {
        const s = await activeSession();
        if (!s) return { ok: false, error: 'Not signed in.' };
        const res = await backend.queryAudit(s, msg.query);
        if (!res.ok) {
          if (res.kind === 'unauthorized') await markExpired();
          return { ok: false, error: failureText(res) };
        }
        return { ok: true, data: res.data satisfies AuditQueryResponse };
      }
      case 'panel.dismissBlock': {
        if (from.tabId === null) return { ok: false, error: 'panel.dismissBlock must come from the panel inside a CRM tab.' };
        await tabs.update(from.tabId, { lastBlock: null });
        void push(from.tabId);
        return { ok: true, data: null };
      }
      case 'call.start':
      case 'call.end':
      case 'verify.password':
      case 'verify.callback':
      case 'verify.addressOfRecord':
      case 'verify.business':
      case 'notices.current':
      case 'consent.capture':
      case 'account.changed':
      case 'passwordLocks.list':
      case 'passwordLocks.unlock':
      case 'accountNotices.list':
      case 'accountNotices.markSent':
        return calls.onPage(msg);
      case 'campaigns.list':
      case 'campaigns.get':
      case 'campaigns.create':
      case 'campaigns.submit':
      case 'campaigns.decide':
      case 'campaigns.recordScrub':
      case 'approvalFailures.list':
      case 'approvalFailures.create':
      case 'approvalFailures.markSent':
        return campaigns.onPage(msg);
      case 'adapters.list':
      case 'adapters.put':
      case 'adapters.delete':
      case 'adapters.permissionsChanged':
        return adapters.onPage(msg);
    }
  }

  async function signIn(backendUrl: string, email: string, password: string, cacheMode: CacheMode): Promise<Reply> {
    const res = await backend.signIn(backendUrl, { email, password });
    if (!res.ok) {
      return {
        ok: false,
        error: res.kind === 'unauthorized' ? `Sign-in failed: ${res.message}` : failureText(res),
      };
    }
    const prev = await session();
    const meta = await kv.syncMeta();
    const sameCache =
      prev !== null &&
      prev.backendUrl === backendUrl &&
      prev.user.id === res.data.user.id &&
      prev.cacheMode === cacheMode &&
      meta.cacheBackendUrl === backendUrl;
    // Another backend or another user: start from an empty cache (it may hold another tenant's
    // data). Another cache mode too: a full cache is not what on-demand mode holds (nor keeps
    // fresh), and an on-demand cache is not the whole base a full sync expects.
    if (!sameCache) await resetCache();
    const next: Session = { backendUrl, token: res.data.token, user: res.data.user, expired: false, cacheMode };
    await kv.set('session', next);
    await outbox.stampPending(res.data.user);
    void sync.run();
    void outbox.flush({ force: true }); // a fresh session: try everything waiting now
    void refreshTabs(undefined, !sameCache);
    return { ok: true, data: await status() };
  }

  async function signOut(): Promise<Reply> {
    // Deliver what we can first; undelivered events stay in the outbox for the next sign-in.
    if (await activeSession()) {
      await Promise.race([outbox.flush({ force: true }), sleep(deps.signOutFlushMs ?? 5000)]);
    }
    await kv.remove('session');
    await resetCache();
    await refreshTabs(undefined, true);
    return { ok: true, data: await status() };
  }

  // ---- runtime events ----
  const router = createRouter(
    {
      content: async (m, from) => {
        await init();
        return onContent(m, from);
      },
      page: async (m, from) => {
        await init();
        return onPage(m, from);
      },
    },
    identity,
  );

  /** The panel's Port: accepted only from an extension page inside a tab. */
  function connectPanel(port: IncomingPort): boolean {
    const s = port.sender;
    const tabId = s?.tab?.id;
    if (
      port.name !== 'panel' ||
      s?.id !== identity.runtimeId ||
      !s.url?.startsWith(identity.extensionOrigin) ||
      typeof tabId !== 'number'
    ) {
      port.disconnect();
      return false;
    }
    const detach = tabs.addPort(tabId, port);
    port.onDisconnect.addListener(detach);
    void init()
      .then(() => panelState(tabId))
      .then((state) => port.postMessage(state))
      .catch(() => undefined);
    return true;
  }

  /** Alarm, install, browser start: sync and deliver audit events. */
  async function tick(): Promise<void> {
    await init();
    await Promise.all([sync.run(), outbox.flush(), calls.flush()]);
  }

  return {
    cache,
    adapters,
    store,
    kv,
    backend,
    sync,
    outbox,
    tabs,
    init,
    tick,
    status,
    lookup,
    panelState,
    /** Parses, checks the sender, handles; never throws. */
    handleMessage: router.handle,
    /** `runtime.onMessage` listener (sendResponse + return true). */
    onMessage: router.listener,
    connectPanel,
    async onTabRemoved(tabId: number) {
      await tabs.remove(tabId);
    },
    async close() {
      await sync.cancel();
      cache.close();
      store.close();
    },
  };
}

function failureText(f: BackendFailure): string {
  switch (f.kind) {
    case 'network':
      return f.message;
    case 'unauthorized':
      return `Signed out: ${f.message}. Sign in again.`;
    case 'http':
      return `The backend answered HTTP ${f.status}: ${f.message}`;
    case 'invalid_response':
      return `The backend's answer does not match the contract: ${f.message}`;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

