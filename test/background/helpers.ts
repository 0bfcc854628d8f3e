// A fake backend (served through a fake `fetch`) and small factories for background tests.
import { deflateRawSync } from 'node:zlib';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { BUCKET_PAGE, DEFLATED_JSON, SNAPSHOT_MAX_ROWS, SnapshotCustomersPage, SnapshotIdentifiersPage } from '@/lib/api';
import { encodeBucketPage } from '@/lib/bucket-page';
import type { AuditEvent, ConsentInput, CustomerInput, User } from '@/lib/schemas';
import { customerKeys } from '@/lib/buckets';
import { createBackground, type BackgroundDeps, type IncomingPort } from '@/entrypoints/background/app';
import type { Sender } from '@/entrypoints/background/router';
import { RecordOpenReply, StatusReply } from '@/lib/messages';

export const BACKEND = 'http://backend.test';
export const ORIGIN = fakeBrowser.runtime.getURL('/');
export const RUNTIME_ID = fakeBrowser.runtime.id;
export const T0 = '2025-01-02T10:00:00.000Z';

export const REP: User = { id: 'u1', email: 'rita.rep@carrier.test', name: 'Rita Rep', role: 'rep' };

export function customer(n: number, over: Partial<CustomerInput> = {}): CustomerInput {
  return {
    id: `c${n}`,
    accountNumber: `A-${1000 + n}`,
    name: `Customer ${n}`,
    crmRefs: [{ crm: 'demo-crm', id: `crm-${n}` }],
    phones: [`+1407555${String(n).padStart(4, '0')}`],
    emails: [`customer${n}@example.com`],
    updatedAt: T0,
    ...over,
  };
}

export function consent(n: number, customerId: string, over: Partial<ConsentInput> = {}): ConsentInput {
  return { id: `k${n}`, customerId, purpose: 'marketing', state: 'opt_in', method: 'written', updatedAt: T0, ...over };
}

export const up = (entity: string, data: { id: string }, version = 1) => ({ op: 'upsert', entity, id: data.id, version, data });
export const tomb = (entity: string, id: string, version = 2) => ({ op: 'tombstone', entity, id, version });

type Page = { changes: unknown[]; cursor: string; hasMore: boolean; serverTime?: string };
/** A customer as GET /api/customers/lookup answers it (lib/api.ts CustomerEntry). */
export type LookupEntry = { customer: CustomerInput; consents: ConsentInput[] };
type Served = Page | 'network' | { status: number; body: unknown };

/** Serves sync pages by the cursor asked for ('' = from the start), sign-in and audit routes. */
export class FakeBackend {
  pages = new Map<string, Served>();
  pullCursors: string[] = [];
  /** The `entities` query of each pull (null: none asked, every entity); the fake filters by it. */
  pullEntities: (string | null)[] = [];
  /** A pull of this cursor waits for the promise before it is served (a slow page). */
  pullGates = new Map<string, Promise<unknown>>();
  /** On-demand lookups: the customers the backend knows; a lookup answers those any key names. */
  lookupEntries: LookupEntry[] = [];
  lookupDelayMs = 0;
  lookup: 'up' | 'down' | { status: number; body: unknown } = 'up';
  /** The keys of each lookup, in order of arrival. */
  lookupRequests: string[][] = [];
  /**
   * First-sync snapshot pages by "phase:from"; none set: the route answers 404 (no snapshots).
   * Sent as the real backend sends them: a bucket page when asked (encoding=buckets), deflated
   * JSON when asked (encoding=deflate). `{ deflated }` / `{ bucketPage }`: these bytes as the answer.
   */
  snapshots = new Map<string, Served | Record<string, unknown> | { deflated: Uint8Array } | { bucketPage: Uint8Array }>();
  snapshotRequests: string[] = [];
  /** Snapshot pages asked for as bucket pages are sent so; false: a backend from before them, which refuses that encoding (400). */
  bucketPages = true;
  /** The most rows a snapshot page may be asked for (its query schema refuses more, 400); 20,000 on a backend from before 60,000-row pages. */
  maxRows = SNAPSHOT_MAX_ROWS;
  /** maxRows of each snapshot request, in order. */
  snapshotRows: number[] = [];
  audit: 'up' | 'down' | 'unauthorized' = 'up';
  /** ids the backend refuses to acknowledge (neither accepted nor duplicate) */
  dropIds = new Set<string>();
  stored = new Map<string, AuditEvent>();
  pushes = 0;
  token = 'token-0123456789abcdef';
  tokenValid = true;

  page(from: string, served: Served) {
    this.pages.set(from, served);
    return this;
  }

  readonly fetch: BackgroundDeps['fetch'] = async (input, init) => {
    const url = new URL(input);
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    const authed = () => this.tokenValid && new Headers(init?.headers).get('authorization') === `Bearer ${this.token}`;

    if (url.pathname === '/api/auth/sign-in') {
      const body = JSON.parse(String(init?.body));
      if (body.password !== 'secret') return json(401, { error: 'bad_credentials', message: 'Wrong email or password' });
      return json(200, { token: this.token, user: { ...REP, email: body.email } });
    }
    if (url.pathname === '/api/sync/pull') {
      if (!authed()) return json(401, { error: 'unauthorized', message: 'Session expired' });
      const cursor = url.searchParams.get('cursor') ?? '';
      this.pullCursors.push(cursor);
      const entities = url.searchParams.get('entities');
      this.pullEntities.push(entities);
      await this.pullGates.get(cursor);
      const served = this.pages.get(cursor);
      if (served === 'network') throw new TypeError('Failed to fetch');
      if (!served) return json(500, { error: 'no_page', message: `no page for cursor "${cursor}"` });
      if ('status' in served) return json(served.status, served.body);
      const only = entities ? new Set(entities.split(',')) : null;
      const changes = only ? served.changes.filter((c) => only.has((c as { entity: string }).entity)) : served.changes;
      return json(200, { serverTime: T0, ...served, changes });
    }
    if (url.pathname === '/api/sync/snapshot' && this.snapshots.size > 0) {
      if (!authed()) return json(401, { error: 'unauthorized', message: 'Session expired' });
      const key = `${url.searchParams.get('phase')}:${url.searchParams.get('from') ?? '0'}`;
      const build = url.searchParams.get('build');
      this.snapshotRequests.push(build ? `${key}@${build}` : key);
      const rows = Number(url.searchParams.get('maxRows'));
      this.snapshotRows.push(rows);
      if (rows > this.maxRows) return json(400, { error: 'invalid_query', message: 'The request query failed validation: Too big.' });
      const served = this.snapshots.get(key);
      if (served === 'network') throw new TypeError('Failed to fetch');
      if (!served) return json(500, { error: 'no_page', message: `no snapshot page ${key}` });
      if ('status' in served && typeof served.status === 'number') return json(served.status, served.body);
      const deflated = (bytes: Uint8Array) => new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': DEFLATED_JSON } });
      if ('deflated' in served && served.deflated instanceof Uint8Array) return deflated(served.deflated);
      if ('bucketPage' in served && served.bucketPage instanceof Uint8Array) {
        return new Response(served.bucketPage as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': BUCKET_PAGE } });
      }
      const encoding = url.searchParams.get('encoding');
      // A backend from before bucket pages: its query schema knows json and deflate only.
      if (encoding === 'buckets' && !this.bucketPages) return json(400, { error: 'invalid_query', message: 'The request query failed validation: Invalid option.' });
      if (encoding === 'deflate') return deflated(deflateRawSync(JSON.stringify(served)));
      // As the backend answers the extension: a bucket page (lib/bucket-page.ts). A page set up
      // broken (it does not parse as a snapshot page) goes out as JSON, to be refused there.
      const page = url.searchParams.get('phase') === 'customers' ? SnapshotCustomersPage.safeParse(served) : SnapshotIdentifiersPage.safeParse(served);
      if (encoding === 'buckets' && page.success) {
        const body = encodeBucketPage(page.data, (text) => deflateRawSync(text));
        return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': BUCKET_PAGE } });
      }
      return json(200, served);
    }
    if (url.pathname === '/api/customers/lookup') {
      if (!authed()) return json(401, { error: 'unauthorized', message: 'Session expired' });
      const keys = url.searchParams.getAll('key');
      this.lookupRequests.push(keys);
      // Read now, answered after the delay: what the backend held when the request arrived.
      const matches = this.lookupEntries
        .filter(({ customer: c }) =>
          customerKeys({ crmRefs: c.crmRefs ?? [], accountNumber: c.accountNumber, phones: c.phones ?? [], emails: c.emails ?? [] }).some(
            (k) => keys.includes(k),
          ),
        )
        .map((e) => structuredClone(e));
      const mode = this.lookup;
      if (this.lookupDelayMs > 0) await new Promise((r) => setTimeout(r, this.lookupDelayMs));
      if (mode === 'down') throw new TypeError('Failed to fetch');
      if (mode !== 'up') return json(mode.status, mode.body);
      return json(200, { matches, cursor: 'lookup-head' });
    }
    if (url.pathname === '/api/audit-events' && init?.method === 'POST') {
      if (this.audit === 'down') throw new TypeError('Failed to fetch');
      if (this.audit === 'unauthorized' || !authed()) return json(401, { error: 'unauthorized', message: 'Session expired' });
      this.pushes += 1;
      const { events } = JSON.parse(String(init.body)) as { events: AuditEvent[] };
      const accepted: string[] = [];
      const duplicates: string[] = [];
      for (const e of events) {
        if (this.dropIds.has(e.id)) continue;
        if (this.stored.has(e.id)) duplicates.push(e.id);
        else {
          this.stored.set(e.id, e);
          accepted.push(e.id);
        }
      }
      return json(200, { accepted, duplicates });
    }
    if (url.pathname === '/api/audit-events') {
      if (!authed()) return json(401, { error: 'unauthorized', message: 'Session expired' });
      const events = [...this.stored.values()].map((e) => ({ ...e, receivedAt: T0 }));
      return json(200, { events, next: null });
    }
    return json(404, { error: 'not_found', message: 'no route' });
  };
}

export const pageSender = (tabId?: number): Sender => ({
  id: RUNTIME_ID,
  url: `${ORIGIN}options.html`,
  ...(tabId === undefined ? {} : { tab: { id: tabId } }),
});
export const contentSender = (tabId = 7): Sender => ({
  id: RUNTIME_ID,
  url: 'http://localhost:5173/customers/crm-1',
  tab: { id: tabId },
  frameId: 0,
});

let dbSeq = 0;
/** A background on fresh databases (or on `names`, to simulate a restarted worker). */
export function makeBackground(
  backend: FakeBackend,
  opts: { names?: { cacheName: string; storeName: string }; now?: () => Date } = {},
) {
  dbSeq += 1;
  const names = opts.names ?? { cacheName: `cache-${dbSeq}-${Math.random()}`, storeName: `store-${dbSeq}-${Math.random()}` };
  const bg = createBackground({
    ...names,
    fetch: backend.fetch,
    runtimeId: RUNTIME_ID,
    extensionOrigin: ORIGIN,
    sessionArea: fakeBrowser.storage.session as never,
    now: opts.now,
    signOutFlushMs: 200,
  });
  return Object.assign(bg, { names });
}

export async function signIn(bg: ReturnType<typeof makeBackground>, opts: { cacheMode?: 'full' | 'on_demand' } = {}) {
  const reply = await bg.handleMessage(
    { type: 'auth.signIn', backendUrl: BACKEND, email: REP.email, password: 'secret', ...opts },
    pageSender(),
  );
  if (!reply.ok) throw new Error(reply.error);
  await bg.sync.run(); // joins the sync sign-in started
  return reply;
}

export const openRecord = (bg: ReturnType<typeof makeBackground>, identifiers: Record<string, unknown>, tabId = 7) =>
  bg.handleMessage({ type: 'record.open', identifiers: { crm: 'demo-crm', crmId: null, ...identifiers } }, contentSender(tabId));

/** status.get, as the options page asks it. */
export async function status(bg: ReturnType<typeof makeBackground>) {
  const reply = StatusReply.parse(await bg.handleMessage({ type: 'status.get' }, pageSender()));
  if (!reply.ok) throw new Error(reply.error);
  return reply.data;
}

/** record.open, as the content script sends it: the panel state the background answers. */
export async function openedRecord(bg: ReturnType<typeof makeBackground>, identifiers: Record<string, unknown>, tabId = 7) {
  const reply = RecordOpenReply.parse(await openRecord(bg, identifiers, tabId));
  if (!reply.ok) throw new Error(reply.error);
  return reply.data;
}

export function fakePort(sender: Sender, name = 'panel') {
  const messages: unknown[] = [];
  const disconnectListeners: (() => void)[] = [];
  const port: IncomingPort & { messages: unknown[]; disconnected: boolean; close(): void } = {
    name,
    sender,
    messages,
    disconnected: false,
    postMessage: (m) => messages.push(m),
    disconnect() {
      port.disconnected = true;
    },
    onDisconnect: { addListener: (cb) => disconnectListeners.push(cb) },
    close() {
      disconnectListeners.forEach((cb) => cb());
    },
  };
  return port;
}

