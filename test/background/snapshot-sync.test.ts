// The first sync through the snapshot (lib/api.ts): customer buckets, then identifier buckets,
// then the change feed after the first page's cursor; bad pages quarantined; a stopped worker
// resumes where it was.
import { deflateRawSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { OLDER_BACKEND_MAX_ROWS, SNAPSHOT_PAGE_ROWS, type SnapshotCustomersPage } from '@/lib/api';
import { linesText, summaryLine } from '@/lib/bucket-lines';
import { packCustomer } from '@/lib/packing';
import { bucketOf, customerKeys } from '@/lib/buckets';
import { Customer, Consent, type CustomerInput, type ConsentInput } from '@/lib/schemas';
import { inflateJson } from '@/entrypoints/background/backend';
import { FakeBackend, consent, customer, makeBackground, openedRecord, signIn, status, up } from './helpers';

const BITS = 1; // two buckets of each kind

/** Snapshot pages for these customers: customers in `customerPages` pages, identifiers in one. */
function serveSnapshot(backend: FakeBackend, people: CustomerInput[], consents: ConsentInput[], firstCursor = 's0') {
  const full = people.map((p) => Customer.parse(p));
  const cons = consents.map((c) => Consent.parse(c));
  const bucket = (b: number) => ({
    b,
    customers: full.filter((c) => bucketOf(c.id, BITS) === b).map((c) => ({ customer: c, consents: cons.filter((k) => k.customerId === c.id) })),
  });
  const keys = (b: number) => ({
    b,
    keys: full.flatMap((c) => customerKeys(c).filter((k) => bucketOf(k, BITS) === b).map((k) => [k, c.id])),
  });
  const base = { bits: BITS };
  backend.snapshots
    .set('customers:0', { ...base, phase: 'customers', from: 0, to: 1, done: false, cursor: firstCursor, buckets: [bucket(0)], others: [up('policy', { id: 'current', approvalMode: 'opt_out_allowed' } as never)] })
    .set('customers:1', { ...base, phase: 'customers', from: 1, to: 2, done: true, cursor: 's-later', buckets: [bucket(1)] })
    .set('identifiers:0', { ...base, phase: 'identifiers', from: 0, to: 2, done: true, cursor: 's-later', buckets: [keys(0), keys(1)] });
  return backend;
}

const people = [customer(1), customer(2), customer(3, { emails: ['Mixed.Case@Example.com'] }), customer(4, { accountNumber: 'ACCT-44' })];
const consents = [consent(1, 'c1'), consent(2, 'c4', { state: 'revoked' })];

/**
 * A bucket page's body (lib/api.ts BUCKET_PAGE) from a header whose buckets list only `b` and the
 * bucket texts in order (customers then summaries per bucket), as a backend that checks nothing would send it.
 */
function bucketPage(header: { buckets: { b: number }[] } & Record<string, unknown>, texts: string[]): Uint8Array {
  const deflated = texts.map((t) => deflateRawSync(t));
  const ref = (i: number) => [deflated[i]!.length, Buffer.byteLength(texts[i]!)];
  const buckets = header.buckets.map(({ b }, i) => ({ b, customers: ref(2 * i), summaries: ref(2 * i + 1) }));
  const head = Buffer.from(JSON.stringify({ ...header, buckets }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return new Uint8Array(Buffer.concat([length, head, ...deflated]));
}

const snapshotOf = async (bg: ReturnType<typeof makeBackground>, ids: Record<string, unknown>) => (await openedRecord(bg, ids)).snapshot;

describe('first sync through the snapshot', () => {
  beforeEach(() => fakeBrowser.reset());

  it.each([
    ['bucket pages', true],
    ['deflated JSON pages (a backend from before bucket pages refuses them once)', false],
  ])('downloads customer and identifier buckets as %s, then pulls changes after the first page', async (_, bucketPages) => {
    const backend = serveSnapshot(new FakeBackend(), people, consents);
    backend.bucketPages = bucketPages;
    // A change made while the snapshot was being served: the feed after "s0" carries it.
    backend.page('s0', { changes: [up('customer', customer(2, { name: 'Renamed during the snapshot' }), 2)], cursor: 's1', hasMore: false });
    const bg = makeBackground(backend);
    await signIn(bg);

    // Refused once (400), asked again as deflated JSON, and asked so from then on.
    expect(backend.snapshotRequests).toEqual(bucketPages ? ['customers:0', 'customers:1', 'identifiers:0'] : ['customers:0', 'customers:0', 'customers:1', 'identifiers:0']);
    expect(backend.pullCursors).toEqual(['s0']);
    const s = await status(bg);
    expect(s).toMatchObject({ lastError: null, quarantined: 0, counts: { customers: 4, consents: 2 } });
    expect(s.lastSuccessAt).not.toBeNull();
    expect(await snapshotOf(bg, { crmId: 'crm-1' })).toMatchObject({ state: 'known', customer: { id: 'c1' }, consents: [{ id: 'k1', state: 'opt_in' }] });
    expect(await snapshotOf(bg, { crmId: 'crm-2' })).toMatchObject({ customer: { name: 'Renamed during the snapshot' } });
    expect(await snapshotOf(bg, { emails: ['MIXED.case@example.com'] })).toMatchObject({ customer: { id: 'c3' } });
    expect(await snapshotOf(bg, { accountNumber: 'ACCT-44' })).toMatchObject({ customer: { id: 'c4' }, consents: [{ state: 'revoked' }] });
    expect(await snapshotOf(bg, { phones: ['(407) 555-0001'] })).toMatchObject({ customer: { id: 'c1' } });
    expect(await bg.cache.getPolicy()).toMatchObject({ approvalMode: 'opt_out_allowed' });
  });

  it.each([
    ['bucket pages', true],
    ['deflated JSON pages', false],
  ])('asks a backend from before 60,000-row pages for smaller ones once it refuses the size (%s)', async (_, bucketPages) => {
    const backend = serveSnapshot(new FakeBackend(), people, consents);
    backend.bucketPages = bucketPages;
    backend.maxRows = OLDER_BACKEND_MAX_ROWS;
    backend.page('s0', { changes: [], cursor: 's0', hasMore: false });
    const bg = makeBackground(backend);
    await signIn(bg);

    // Customers pages were never too big; the first identifiers page is asked for again, smaller,
    // and every later request is that size.
    const [customersRows, identifiersRows] = [SNAPSHOT_PAGE_ROWS.customers, SNAPSHOT_PAGE_ROWS.identifiers];
    expect(identifiersRows).toBeGreaterThan(OLDER_BACKEND_MAX_ROWS);
    expect(backend.snapshotRows.at(-1)).toBe(OLDER_BACKEND_MAX_ROWS);
    // (A bucket page refused is asked for once more as JSON: a backend without bucket pages refuses only that.)
    expect(backend.snapshotRows.filter((r) => r > OLDER_BACKEND_MAX_ROWS)).toEqual(bucketPages ? [identifiersRows, identifiersRows] : [identifiersRows]);
    expect(backend.snapshotRows[0]).toBe(customersRows);
    const s = await status(bg);
    expect(s).toMatchObject({ lastError: null, quarantined: 0, counts: { customers: 4, consents: 2 } });
    expect(await snapshotOf(bg, { phones: ['(407) 555-0001'] })).toMatchObject({ customer: { id: 'c1' } });

    // A 400 for the smaller size too is the backend's answer, not a reason to go on asking, and
    // the next sync asks for the full size again.
    const refusing = serveSnapshot(new FakeBackend(), people, consents);
    refusing.maxRows = 10_000;
    const bg2 = makeBackground(refusing);
    await signIn(bg2);
    // Both encodings at each size: the 400 might have been for bucket pages.
    expect(refusing.snapshotRows.slice(-4)).toEqual([identifiersRows, identifiersRows, OLDER_BACKEND_MAX_ROWS, OLDER_BACKEND_MAX_ROWS]);
    expect(refusing.snapshotRows.slice(0, -4).every((r) => r === customersRows)).toBe(true);
    expect((await status(bg2)).lastError).toMatch(/Too big/);
    refusing.snapshotRows = [];
    await bg2.sync.run();
    expect(refusing.snapshotRows[0]).toBe(identifiersRows);
  });

  it('quarantines a snapshot page that breaks the contract, applies nothing of it, and resumes there', async () => {
    const backend = serveSnapshot(new FakeBackend(), people, consents);
    backend.page('s0', { changes: [], cursor: 's0', hasMore: false });
    const good = backend.snapshots.get('customers:1') as { buckets: { b: number; customers: unknown[] }[] };
    // The second page puts bucket 1's customers under bucket 0: outside its range.
    backend.snapshots.set('customers:1', { ...good, buckets: good.buckets.map((b) => ({ ...b, b: 0 })) });
    const bg = makeBackground(backend);
    await signIn(bg);

    const s = await status(bg);
    expect(s.lastError).toMatch(/snapshot page \(customers from bucket 1\).*quarantined/);
    expect(s.quarantined).toBe(1);
    expect(s.lastSuccessAt).toBeNull();
    expect(await bg.cache.cursor()).toBeNull();
    expect(await bg.cache.snapshotProgress()).toMatchObject({ phase: 'customers', next: 1 });

    backend.snapshots.set('customers:1', good);
    backend.snapshotRequests = [];
    expect((await bg.sync.run()).ok).toBe(true);
    expect(backend.snapshotRequests).toEqual(['customers:1', 'identifiers:0']);
    expect(await status(bg)).toMatchObject({ quarantined: 0, lastError: null, counts: { customers: 4, consents: 2 } });
  });

  it('quarantines a bucket page whose customers are not in the bucket it names, applies nothing of it, and resumes there', async () => {
    const backend = serveSnapshot(new FakeBackend(), people, consents);
    backend.page('s0', { changes: [], cursor: 's0', hasMore: false });
    const first = backend.snapshots.get('customers:0') as SnapshotCustomersPage;
    const second = backend.snapshots.get('customers:1') as SnapshotCustomersPage;
    expect(second.buckets[0]!.customers.length).toBeGreaterThan(0);
    // Bucket 1's customers sent as bucket 0 (inside the first page's range): only their ids tell.
    // Written by hand: the backend's encoder refuses such a page.
    const forged = bucketPage({ ...first, others: [], buckets: [{ b: 0 }] }, (() => {
      const packed = second.buckets[0]!.customers.map(packCustomer);
      return [linesText(packed.map((p) => JSON.stringify(p)), '[]'), linesText(packed.map(summaryLine), '[]')];
    })());
    backend.snapshots.set('customers:0', { bucketPage: forged });
    const bg = makeBackground(backend);
    await signIn(bg);

    const s = await status(bg);
    expect(s.lastError).toMatch(/snapshot page \(customers from bucket 0\).*quarantined/);
    expect((await bg.store.quarantine.toArray()).at(-1)).toMatchObject({ error: expect.stringMatching(/customer c\d does not belong in bucket 0/), rawSize: forged.length });
    expect(s.counts).toMatchObject({ customers: 0, consents: 0 });
    expect(await bg.cache.snapshotProgress()).toBeNull();
    expect(await bg.cache.cursor()).toBeNull();

    backend.snapshots.set('customers:0', first);
    expect((await bg.sync.run()).ok).toBe(true);
    expect(await status(bg)).toMatchObject({ quarantined: 0, lastError: null, counts: { customers: 4, consents: 2 } });
  });

  it('keeps the page written while the next one was encoded when the cache refuses that next one, and resumes at it', async () => {
    const backend = serveSnapshot(new FakeBackend(), people, consents);
    backend.page('s0', { changes: [], cursor: 's0', hasMore: false });
    const good = backend.snapshots.get('customers:1')!;
    // A well-formed page of another layout: the schema passes it, the cache refuses it as out of
    // order, after the page it names as next has already been asked for.
    backend.snapshots.set('customers:1', { phase: 'customers', bits: 2, from: 1, to: 2, done: false, cursor: 's-later', buckets: [] });
    const bg = makeBackground(backend);
    await signIn(bg);

    const s = await status(bg);
    expect(s.lastError).toMatch(/snapshot page \(customers from bucket 1\).*out of order.*quarantined/);
    expect(s.quarantined).toBe(1);
    expect(backend.snapshotRequests).toEqual(['customers:0', 'customers:1', 'customers:2']);
    expect(await bg.cache.cursor()).toBeNull();
    // The first page was written while the refused one was encoded; nothing of the refused one.
    expect(await bg.cache.snapshotProgress()).toMatchObject({ phase: 'customers', next: 1, bits: 1 });

    backend.snapshots.set('customers:1', good);
    backend.snapshotRequests = [];
    expect((await bg.sync.run()).ok).toBe(true);
    expect(backend.snapshotRequests).toEqual(['customers:1', 'identifiers:0']);
    expect(await status(bg)).toMatchObject({ quarantined: 0, lastError: null, counts: { customers: 4, consents: 2 } });
    expect(await snapshotOf(bg, { accountNumber: 'ACCT-44' })).toMatchObject({ customer: { id: 'c4' } });
  });

  it('quarantines a deflated page that does not inflate (cut short, or not DEFLATE at all) and resumes there', async () => {
    const backend = serveSnapshot(new FakeBackend(), people, consents);
    backend.page('s0', { changes: [], cursor: 's0', hasMore: false });
    const good = backend.snapshots.get('customers:1')!;
    const whole = deflateRawSync(JSON.stringify(good));
    for (const [bytes, problem] of [
      [whole.subarray(0, whole.length - 20), /ends early|not valid DEFLATE/],
      [new TextEncoder().encode(JSON.stringify(good)), /not valid DEFLATE/],
    ] as const) {
      fakeBrowser.reset();
      backend.snapshots.set('customers:1', { deflated: bytes });
      const bg = makeBackground(backend);
      await signIn(bg);
      const s = await status(bg);
      expect(s.lastError).toMatch(/snapshot page \(customers from bucket 1\).*quarantined/);
      expect((await bg.store.quarantine.toArray()).at(-1)).toMatchObject({ error: expect.stringMatching(problem), rawSize: bytes.length });
      expect(s.counts).toMatchObject({ customers: people.filter((p) => bucketOf(p.id, BITS) === 0).length });
      expect(await bg.cache.snapshotProgress()).toMatchObject({ phase: 'customers', next: 1 });
    }
  });

  it('a worker stopped in the middle of the snapshot resumes from the page it had reached', async () => {
    const backend = serveSnapshot(new FakeBackend(), people, consents);
    backend.page('s0', { changes: [], cursor: 's0', hasMore: false });
    const { first, restart } = await signInStoppedBeforeIdentifiers(backend);
    expect(await first.cache.snapshotProgress()).toMatchObject({ phase: 'identifiers', next: 0 });

    const restarted = await restart();
    expect(backend.snapshotRequests).toEqual(['identifiers:0']);
    expect(await restarted.cache.cursor()).toBe('s0');
    expect(await snapshotOf(restarted, { crmId: 'crm-4' })).toMatchObject({ customer: { id: 'c4' } });
  });

  it('asks for the prebuilt snapshot its first page came from on every later page, also after a restart', async () => {
    const backend = serveSnapshot(new FakeBackend(), people, consents);
    backend.page('s0', { changes: [], cursor: 's0', hasMore: false });
    for (const [k, p] of backend.snapshots) backend.snapshots.set(k, { ...(p as object), build: 's0-1' });
    const { restart } = await signInStoppedBeforeIdentifiers(backend);
    expect(backend.snapshotRequests).toEqual(['customers:0', 'customers:1@s0-1', 'identifiers:0@s0-1']);

    const restarted = await restart();
    expect(backend.snapshotRequests).toEqual(['identifiers:0@s0-1']);
    expect(await status(restarted)).toMatchObject({ lastError: null, counts: { customers: 4, consents: 2 } });
  });
});

/**
 * Signs in while the identifiers page cannot be fetched, so the first sync stops after the
 * customer pages. `restart` serves that page again and starts a new worker on the same databases,
 * as after the service worker was stopped; its snapshot requests are recorded afresh.
 */
async function signInStoppedBeforeIdentifiers(backend: FakeBackend) {
  const identifiers = backend.snapshots.get('identifiers:0')!;
  backend.snapshots.set('identifiers:0', 'network');
  const first = makeBackground(backend);
  await signIn(first);
  return {
    first,
    async restart() {
      await first.close();
      backend.snapshots.set('identifiers:0', identifiers);
      backend.snapshotRequests = [];
      const restarted = makeBackground(backend, { names: first.names });
      await restarted.tick();
      return restarted;
    },
  };
}

describe('a deflated answer (lib/api.ts DEFLATED_JSON)', () => {
  const json = JSON.stringify({ phase: 'customers', note: 'é ✓'.repeat(1000) });

  it('inflates to the JSON text it was made from, whatever the compression level', () => {
    for (const level of [1, 6, 9] as const) expect(inflateJson(deflateRawSync(json, { level }))).toBe(json);
  });

  it('refuses an answer that inflates past the limit (a decompression bomb), a cut one and one that is not UTF-8', () => {
    const bomb = deflateRawSync(Buffer.alloc(10_000_000, 32));
    expect(bomb.length).toBeLessThan(20_000);
    expect(inflateJson(bomb, 1_000_000)).toEqual({ problem: 'the answer inflates to more than 1000000 bytes' });
    expect(inflateJson(deflateRawSync(json).subarray(0, 50))).toEqual({ problem: 'the compressed answer ends early' });
    expect(inflateJson(new Uint8Array(0))).toEqual({ problem: 'the compressed answer ends early' });
    expect(inflateJson(deflateRawSync(Buffer.from([0x7b, 0xff, 0x7d])))).toMatchObject({ problem: expect.stringMatching(/not valid DEFLATE data of UTF-8/) });
  });

  it('inflates an answer bigger than its 16 MB buffer, compressed or stored (level 0), and answers after it alike', () => {
    const big = JSON.stringify({ rows: Array.from({ length: 400_000 }, (_, i) => `row ${i} ${'x'.repeat(40)}`) });
    expect(big.length).toBeGreaterThan(16 * 1024 * 1024);
    for (const level of [0, 1] as const) expect(inflateJson(deflateRawSync(big, { level }))).toBe(big);
    expect(inflateJson(deflateRawSync('{"small":true}', { level: 0 }))).toBe('{"small":true}');
    // exactly at the limit passes; one byte more does not
    expect(inflateJson(deflateRawSync(big), big.length)).toBe(big);
    expect(inflateJson(deflateRawSync(big), big.length - 1)).toEqual({ problem: `the answer inflates to more than ${big.length - 1} bytes` });
  });
});
