import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import {
  FakeBackend,
  consent,
  customer,
  makeBackground,
  openedRecord,
  pageSender,
  signIn,
  status,
  tomb,
  up,
} from './helpers';

function threePages(backend: FakeBackend) {
  return backend
    .page('', {
      changes: [
        up('policy', { id: 'current', approvalMode: 'opt_out_allowed' } as never),
        up('customer', customer(1)),
        up('consent', consent(1, 'c1')),
      ],
      cursor: 'c1',
      hasMore: true,
    })
    .page('c1', {
      changes: [up('customer', customer(2)), up('customer', customer(3, { emails: ['Mixed.Case@Example.com'] }))],
      cursor: 'c2',
      hasMore: true,
    })
    .page('c2', {
      changes: [up('customer', customer(4, { accountNumber: 'ACCT-44' })), up('consent', consent(2, 'c4', { state: 'revoked' }))],
      cursor: 'c3',
      hasMore: false,
    })
    .page('c3', { changes: [], cursor: 'c3', hasMore: false });
}

const snapshotOf = openedRecord;

describe('sync', () => {
  beforeEach(() => fakeBrowser.reset());

  it('pulls every page into the cache and finds customers by CRM ref, account number, phone and email', async () => {
    const backend = threePages(new FakeBackend());
    const bg = makeBackground(backend);
    await signIn(bg);

    expect(backend.pullCursors).toEqual(['', 'c1', 'c2']);
    const s = await status(bg);
    expect(s.counts).toEqual({ customers: 4, consents: 2 });
    expect(s.lastSuccessAt).not.toBeNull();
    expect(s.lastError).toBeNull();
    expect(s.user?.email).toBe('rita.rep@carrier.test');

    const byCrm = await snapshotOf(bg, { crmId: 'crm-1' });
    expect(byCrm.snapshot).toMatchObject({ state: 'known', customer: { id: 'c1' }, syncedAt: s.lastSuccessAt });
    expect(byCrm.snapshot.state === 'known' && byCrm.snapshot.consents.map((c) => c.state)).toEqual(['opt_in']);
    expect(byCrm.policy.approvalMode).toBe('opt_out_allowed');
    expect(byCrm.user?.role).toBe('rep');

    expect((await snapshotOf(bg, { accountNumber: 'ACCT-44' })).snapshot).toMatchObject({ customer: { id: 'c4' } });
    // phones as a CRM shows them are normalized to E.164
    expect((await snapshotOf(bg, { phones: ['(407) 555-0002'] })).snapshot).toMatchObject({ customer: { id: 'c2' } });
    expect((await snapshotOf(bg, { emails: ['MIXED.case@example.com'] })).snapshot).toMatchObject({ customer: { id: 'c3' } });
    // a CRM id of another CRM does not match
    expect((await snapshotOf(bg, { crm: 'other-crm', crmId: 'crm-1' })).snapshot).toMatchObject({ state: 'unknown', why: 'not_found' });
  });

  it('says why a record is unknown: signed out, not synced yet, not found', async () => {
    const backend = threePages(new FakeBackend());
    backend.page('', 'network');
    const bg = makeBackground(backend);

    expect((await snapshotOf(bg, { crmId: 'crm-1' })).snapshot).toEqual({ state: 'unknown', why: 'signed_out', syncedAt: null });
    await signIn(bg);
    const notSynced = await snapshotOf(bg, { crmId: 'crm-1' });
    expect(notSynced.snapshot).toEqual({ state: 'unknown', why: 'not_synced', syncedAt: null });
    expect(notSynced.backendReachable).toBe(false);
    expect(notSynced.policy.approvalMode).toBe('opt_in_only'); // DEFAULT_POLICY until synced
    expect((await status(bg)).lastError).toMatch(/Backend unreachable/);

    threePages(backend);
    await bg.sync.run();
    const missing = await snapshotOf(bg, { crmId: 'nope', phones: ['+19995550000'] });
    expect(missing.snapshot).toMatchObject({ state: 'unknown', why: 'not_found' });
    expect(missing.backendReachable).toBe(true);
  });

  it('quarantines a page that fails validation: nothing from it applied, cursor kept, next good run resumes', async () => {
    const backend = threePages(new FakeBackend());
    backend.page('c1', {
      changes: [up('customer', customer(2)), up('customer', customer(3, { phones: ['407-555-0003'] }))],
      cursor: 'c2',
      hasMore: true,
    });
    const bg = makeBackground(backend);
    await signIn(bg);

    const s = await status(bg);
    expect(s.quarantined).toBe(1);
    expect(s.lastError).toMatch(/quarantined/);
    expect(s.lastError).toMatch(/changes\.1\.data\.phones\.0: phone must be E\.164/);
    expect(s.lastSuccessAt).toBeNull();
    expect(s.counts.customers).toBe(1); // page 1 only; the good customer of the bad page was not applied
    expect(await bg.cache.cursor()).toBe('c1');
    const q = await bg.store.quarantine.toArray();
    expect(q[0]).toMatchObject({ cursor: 'c1', resolvedAt: null });
    expect(q[0]!.rawSize).toBeGreaterThan(100);
    // data the bad page carried is not in the extension either
    expect(JSON.stringify(q)).not.toContain('Customer 2');

    // the backend fixes the page: the next run starts at the kept cursor and completes
    threePages(backend);
    backend.pullCursors = [];
    const outcome = await bg.sync.run();
    expect(outcome.ok).toBe(true);
    expect(backend.pullCursors).toEqual(['c1', 'c2']);
    const after = await status(bg);
    expect(after).toMatchObject({ quarantined: 0, lastError: null, counts: { customers: 4 } });
    expect((await snapshotOf(bg, { phones: ['+14075550003'] })).snapshot).toMatchObject({ customer: { id: 'c3' } });
  });

  it('applies tombstones: a deleted customer and its consents are gone', async () => {
    const backend = threePages(new FakeBackend());
    const bg = makeBackground(backend);
    await signIn(bg);
    expect((await snapshotOf(bg, { crmId: 'crm-4' })).snapshot.state).toBe('known');

    backend
      .page('c3', { changes: [tomb('customer', 'c4'), tomb('consent', 'k1')], cursor: 'c4', hasMore: false })
      .page('c4', { changes: [], cursor: 'c4', hasMore: false });
    await bg.sync.run();

    expect((await snapshotOf(bg, { crmId: 'crm-4' })).snapshot).toMatchObject({ state: 'unknown', why: 'not_found' });
    const c1 = (await snapshotOf(bg, { crmId: 'crm-1' })).snapshot;
    expect(c1.state === 'known' && c1.consents).toEqual([]);
    expect((await status(bg)).counts).toEqual({ customers: 3, consents: 0 });
  });

  it('ignores a change older than what the cache holds', async () => {
    const backend = threePages(new FakeBackend());
    const bg = makeBackground(backend);
    await signIn(bg);
    backend
      .page('c3', { changes: [up('customer', customer(1, { name: 'New name' }), 5)], cursor: 'c4', hasMore: true })
      .page('c4', { changes: [up('customer', customer(1, { name: 'Stale name' }), 4)], cursor: 'c5', hasMore: false });
    await bg.sync.run();
    expect((await snapshotOf(bg, { crmId: 'crm-1' })).snapshot).toMatchObject({ customer: { name: 'New name', version: 5 } });
  });

  it('a restarted worker resumes from the stored cursor', async () => {
    const backend = threePages(new FakeBackend());
    backend.page('c2', 'network'); // the worker "dies" (or loses the network) after two pages
    const first = makeBackground(backend);
    await signIn(first);
    expect(await first.cache.cursor()).toBe('c2');
    await first.close();

    threePages(backend);
    backend.pullCursors = [];
    const restarted = makeBackground(backend, { names: first.names });
    await restarted.tick(); // alarm
    expect(backend.pullCursors).toEqual(['c2']);
    expect((await status(restarted)).counts.customers).toBe(4);
    expect((await snapshotOf(restarted, { accountNumber: 'ACCT-44' })).snapshot.state).toBe('known');
  });

  it('runs one sync at a time: a second request joins the running one', async () => {
    const backend = threePages(new FakeBackend());
    const bg = makeBackground(backend);
    await signIn(bg);
    backend.pullCursors = [];
    const [a, b] = await Promise.all([
      bg.handleMessage({ type: 'sync.now' }, pageSender()),
      bg.handleMessage({ type: 'sync.now' }, pageSender()),
    ]);
    expect(a.ok && b.ok).toBe(true);
    expect(backend.pullCursors).toEqual(['c3']);
  });

  it('a 401 reports "signed out" and keeps the cache', async () => {
    const backend = threePages(new FakeBackend());
    const bg = makeBackground(backend);
    await signIn(bg);
    backend.tokenValid = false;
    const reply = await bg.handleMessage({ type: 'sync.now' }, pageSender());
    expect(reply).toMatchObject({ ok: false, error: expect.stringMatching(/Signed out/) });
    const s = await status(bg);
    expect(s.lastError).toMatch(/Signed out/);
    expect(s.counts.customers).toBe(4);
    expect((await snapshotOf(bg, { crmId: 'crm-1' })).snapshot.state).toBe('known');
  });

  it('streams every customer with its consents for a scrub', async () => {
    const backend = threePages(new FakeBackend());
    const bg = makeBackground(backend);
    await signIn(bg);
    const seen: string[] = [];
    const n = await bg.cache.streamAll(({ customer, consents }) => {
      seen.push(`${customer.id}:${consents.length}`);
    });
    expect(n).toBe(4);
    expect(seen.sort()).toEqual(['c1:1', 'c2:0', 'c3:0', 'c4:1']);
  });
});
