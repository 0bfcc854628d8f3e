// On-demand cache mode (issue "Scale and speed", part 3): the extension keeps only the customers
// a rep opens, looked up from the backend when the cache does not know the record, and kept
// fresh by the delta sync (changes of customers it does not hold are dropped).
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import type { Snapshot } from '@/lib/snapshot';
import { FakeBackend, consent, customer, makeBackground, openRecord, openedRecord, pageSender, signIn, status, tomb, up, type LookupEntry } from './helpers';

type Bg = ReturnType<typeof makeBackground>;

const POLICY = up('policy', { id: 'current', approvalMode: 'opt_out_allowed' } as never);
const entry = (n: number, version: number, over: Parameters<typeof customer>[1] = {}, consents: LookupEntry['consents'] = []): LookupEntry => ({
  customer: { ...customer(n, over), version },
  consents,
});

/**
 * A backend of three customers. The feed's first page holds them all (as a real feed would);
 * asked with `entities`, the fake serves only those kinds, like the backend.
 */
function onDemandBackend() {
  const backend = new FakeBackend()
    .page('', {
      changes: [POLICY, up('customer', customer(1)), up('customer', customer(2)), up('customer', customer(3)), up('consent', consent(1, 'c1'))],
      cursor: 'h1',
      hasMore: false,
    })
    .page('h1', { changes: [], cursor: 'h1', hasMore: false });
  backend.lookupEntries = [
    entry(1, 1, {}, [{ ...consent(1, 'c1'), version: 1 }]),
    entry(2, 1),
    entry(3, 1),
  ];
  return backend;
}

const open = async (bg: Bg, ids: Record<string, unknown>, tabId = 7) => (await openedRecord(bg, ids, tabId)).snapshot;

const nameOf = (s: Snapshot) => (s.state === 'known' ? `${s.customer.name} v${s.customer.version}` : `unknown:${s.why}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('on-demand cache mode', () => {
  beforeEach(() => fakeBrowser.reset());

  it('signing in does not download customers: no snapshot, the first pull asks only policy, adapters, campaigns', async () => {
    const backend = onDemandBackend();
    // A snapshot route that would answer (and record the request) if it were asked.
    backend.snapshots.set('customers:0', { status: 500, body: { error: 'boom', message: 'should not be asked' } });
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });

    expect(backend.snapshotRequests).toEqual([]);
    expect(backend.pullEntities[0]).toBe('policy,adapter,campaign');
    expect(backend.lookupRequests).toEqual([]);
    const s = await status(bg);
    expect(s).toMatchObject({ cacheMode: 'on_demand', counts: { customers: 0, consents: 0 }, lastError: null });
    expect(s.lastSuccessAt).not.toBeNull();
    expect(await bg.cache.getPolicy()).toMatchObject({ approvalMode: 'opt_out_allowed' }); // small entities arrived

    // The next sync pulls every kind from the head (changes for held customers only are kept).
    await bg.sync.run();
    expect(backend.pullEntities.slice(1)).toEqual([null]);
    expect(backend.pullCursors).toEqual(['', 'h1']);
  });

  it('full mode (the default) is unchanged: the status says so and customers are downloaded', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg);
    const s = await status(bg);
    expect(s).toMatchObject({ cacheMode: 'full', counts: { customers: 3, consents: 1 } });
    expect(backend.pullEntities).toEqual([null]);
    expect(await open(bg, { crmId: 'crm-1' })).toMatchObject({ state: 'known', customer: { id: 'c1' } });
    expect(await open(bg, { crmId: 'crm-999' })).toMatchObject({ state: 'unknown', why: 'not_found' });
    expect(backend.lookupRequests).toEqual([]); // full mode never asks
  });

  it('opening a record fetches its customer: the snapshot and the panel know it, the status counts 1 customer', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });

    const snapshot = await open(bg, { crmId: 'crm-1', phones: ['(407) 555-0001'] });
    expect(snapshot).toMatchObject({ state: 'known', customer: { id: 'c1', name: 'Customer 1' } });
    expect(snapshot.state === 'known' && snapshot.consents.map((c) => [c.id, c.state])).toEqual([['k1', 'opt_in']]);
    expect(snapshot.syncedAt).toBe((await status(bg)).lastSuccessAt);
    // Keys as lib/buckets.ts makes them, strongest first; the phone normalized to E.164.
    expect(backend.lookupRequests).toEqual([['crm:demo-crm:crm-1', 'tel:+14075550001']]);

    const panel = await bg.panelState(7);
    expect(panel.snapshot).toMatchObject({ state: 'known', customer: { id: 'c1' } });
    expect((await status(bg)).counts).toEqual({ customers: 1, consents: 1 });

    // Held now: opening it again (or by another identifier) asks the backend nothing.
    expect(await open(bg, { emails: ['customer1@example.com'] }, 8)).toMatchObject({ state: 'known', customer: { id: 'c1' } });
    expect(backend.lookupRequests).toHaveLength(1);
  });

  it('a later pull updates a held customer and drops changes of customers it does not hold', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });
    await open(bg, { crmId: 'crm-1' });

    backend
      .page('h1', {
        changes: [
          up('customer', customer(1, { name: 'Ada Renamed' }), 2),
          up('consent', consent(1, 'c1', { state: 'revoked' }), 2),
          up('customer', customer(2, { name: 'Not held' }), 2),
          up('consent', consent(2, 'c2'), 1),
        ],
        cursor: 'h2',
        hasMore: false,
      })
      .page('h2', { changes: [], cursor: 'h2', hasMore: false });
    const outcome = await bg.sync.run();
    expect(outcome).toMatchObject({ ok: true });

    const s1 = await open(bg, { crmId: 'crm-1' });
    expect(nameOf(s1)).toBe('Ada Renamed v2');
    expect(s1.state === 'known' && s1.consents.map((c) => [c.id, c.state])).toEqual([['k1', 'revoked']]);
    expect((await status(bg)).counts).toEqual({ customers: 1, consents: 1 });
    // c2's change was dropped: the cache does not hold c2 (nor its consent).
    expect(await bg.cache.findCustomer({ crm: 'demo-crm', crmId: 'crm-2', accountNumber: null, phones: [], emails: [] })).toBeNull();
    expect(backend.lookupRequests).toHaveLength(1);

    // A tombstone of a held customer removes it.
    backend
      .page('h2', { changes: [tomb('customer', 'c1', 3), tomb('consent', 'k1', 3)], cursor: 'h3', hasMore: false })
      .page('h3', { changes: [], cursor: 'h3', hasMore: false });
    backend.lookupEntries = backend.lookupEntries.filter((e) => e.customer.id !== 'c1'); // deleted on the backend too
    await bg.sync.run();
    expect(await open(bg, { crmId: 'crm-1' })).toMatchObject({ state: 'unknown', why: 'not_found' });
    expect((await status(bg)).counts).toEqual({ customers: 0, consents: 0 });
  });

  it('a lookup that finds nothing is not_found, and holds nothing', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });
    expect(await open(bg, { crmId: 'crm-999', phones: ['+19995550000'] })).toMatchObject({ state: 'unknown', why: 'not_found' });
    expect(backend.lookupRequests).toEqual([['crm:demo-crm:crm-999', 'tel:+19995550000']]);
    expect((await status(bg)).counts).toEqual({ customers: 0, consents: 0 });
  });

  it('an ambiguous identifier holds only the lookup\'s matches and still matches nobody', async () => {
    const backend = onDemandBackend();
    backend.lookupEntries = [entry(1, 1, { phones: ['+14075550100'] }), entry(2, 1, { phones: ['+14075550100'] }), entry(3, 1)];
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });
    expect(await open(bg, { phones: ['+14075550100'] })).toMatchObject({ state: 'unknown', why: 'not_found' });
    expect((await status(bg)).counts).toEqual({ customers: 2, consents: 0 }); // c1 and c2, not c3
  });

  it('the backend down during a lookup: not_found, no exception; it is asked again next time', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });

    backend.lookup = 'down';
    const reply = await openRecord(bg, { crmId: 'crm-1' });
    expect(reply).toMatchObject({ ok: true, data: { snapshot: { state: 'unknown', why: 'not_found' }, backendReachable: false } });
    backend.lookup = { status: 500, body: { error: 'internal', message: 'database is locked' } };
    expect(await open(bg, { crmId: 'crm-1' })).toMatchObject({ state: 'unknown', why: 'not_found' });
    backend.lookup = { status: 200, body: { matches: 'not a list' } }; // breaks the contract
    expect(await open(bg, { crmId: 'crm-1' })).toMatchObject({ state: 'unknown', why: 'not_found' });
    expect((await status(bg)).counts).toEqual({ customers: 0, consents: 0 });

    backend.lookup = 'up';
    expect(await open(bg, { crmId: 'crm-1' })).toMatchObject({ state: 'known', customer: { id: 'c1' } });
    expect(backend.lookupRequests).toHaveLength(4);
  });

  it('a 401 during a lookup marks the session expired, like every other call', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });
    backend.lookup = { status: 401, body: { error: 'unauthorized', message: 'Session expired' } };
    expect(await open(bg, { crmId: 'crm-1' })).toMatchObject({ state: 'unknown', why: 'not_found' });
    expect((await bg.kv.get('session'))?.expired).toBe(true);
    expect((await status(bg)).lastError).toMatch(/Signed out/);
    // Expired: no more lookups until the rep signs in again.
    expect(await open(bg, { crmId: 'crm-2' })).toMatchObject({ state: 'unknown', why: 'not_found' });
    expect(backend.lookupRequests).toHaveLength(1);
  });

  it('a sync running when a lookup is asked finishes first, so the change it delivers is not lost', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });

    // The next page changes c1 (v2); it is slow to arrive. A lookup that read c1 from the backend
    // before the change and held it after that page was applied (and dropped as "not held")
    // would leave v1 in the cache for good.
    let release!: () => void;
    backend.pullGates.set('h1', new Promise<void>((r) => (release = r)));
    backend
      .page('h1', { changes: [up('customer', customer(1, { name: 'Customer 1 renamed' }), 2)], cursor: 'h2', hasMore: false })
      .page('h2', { changes: [], cursor: 'h2', hasMore: false });
    backend.lookupDelayMs = 100;

    const syncing = bg.sync.run();
    await until(() => backend.pullCursors.includes('h1'), 'the slow pull');
    const opening = open(bg, { crmId: 'crm-1' });
    await sleep(40);
    expect(backend.lookupRequests).toEqual([]); // the lookup waits for the sync

    // The change is on the backend now; the page carrying it arrives.
    backend.lookupEntries[0] = entry(1, 2, { name: 'Customer 1 renamed' }, [{ ...consent(1, 'c1'), version: 1 }]);
    release();
    expect(await syncing).toMatchObject({ ok: true, changes: 1 });
    expect(nameOf(await opening)).toBe('Customer 1 renamed v2');
    expect(backend.lookupRequests).toHaveLength(1);
    expect(nameOf(await open(bg, { crmId: 'crm-1' }))).toBe('Customer 1 renamed v2');
  });

  it('a sync asked while a lookup is in flight waits for the hold, then keeps the newer change', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });

    backend.lookupDelayMs = 100; // the lookup reads c1 v1 now and answers 100 ms later
    const opening = open(bg, { crmId: 'crm-1' });
    await until(() => backend.lookupRequests.length === 1, 'the lookup');
    // Meanwhile c1 changes on the backend and a sync starts; applied before the hold, the change
    // would be dropped (c1 not held yet) and v1 held after it.
    backend
      .page('h1', { changes: [up('customer', customer(1, { name: 'Customer 1 renamed' }), 2)], cursor: 'h2', hasMore: false })
      .page('h2', { changes: [], cursor: 'h2', hasMore: false });
    const pullsBefore = backend.pullCursors.length;
    const syncing = bg.sync.run();
    await sleep(40);
    expect(backend.pullCursors.length).toBe(pullsBefore); // not pulled while the lookup holds

    expect(nameOf(await opening)).toBe('Customer 1 v1'); // what the backend had when asked
    expect(await syncing).toMatchObject({ ok: true, changes: 1 });
    expect(nameOf(await open(bg, { crmId: 'crm-1' }))).toBe('Customer 1 renamed v2');
    expect(backend.lookupRequests).toHaveLength(1);
  });

  it('signing in with another cache mode starts from an empty cache, like another user', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg); // full
    expect((await status(bg)).counts.customers).toBe(3);

    await signIn(bg, { cacheMode: 'on_demand' }); // same user and backend, other mode
    expect(await status(bg)).toMatchObject({ cacheMode: 'on_demand', counts: { customers: 0, consents: 0 } });
    expect(backend.pullEntities.at(-1)).toBe('policy,adapter,campaign');
    await open(bg, { crmId: 'crm-2' });
    expect((await status(bg)).counts.customers).toBe(1);

    // Same mode again: the held customers stay.
    await signIn(bg, { cacheMode: 'on_demand' });
    expect((await status(bg)).counts.customers).toBe(1);

    await signIn(bg); // back to full: everything again, from the start
    expect(await status(bg)).toMatchObject({ cacheMode: 'full', counts: { customers: 3, consents: 1 } });
    expect(backend.pullEntities.at(-1)).toBeNull();
  });

  it('a lookup answered after sign-out does not put its customer into the emptied cache', async () => {
    const backend = onDemandBackend();
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });
    backend.lookupDelayMs = 100;
    const opening = openRecord(bg, { crmId: 'crm-1' });
    await until(() => backend.lookupRequests.length === 1, 'the lookup');
    const out = await bg.handleMessage({ type: 'auth.signOut' }, pageSender());
    expect(out.ok).toBe(true);
    await opening;
    expect((await status(bg)).counts).toEqual({ customers: 0, consents: 0 });
    expect(await bg.cache.findCustomer({ crm: 'demo-crm', crmId: 'crm-1', accountNumber: null, phones: [], emails: [] })).toBeNull();
  });
});
