// The customer cache (entrypoints/background/cache.ts) on its own: snapshot pages, change pages,
// lookups, list scrubs (approvalsMany), counts, compaction and several handles on one database.
// Pages are built the way the backend builds them (lib/buckets.ts) and parsed with the same
// schemas the sync engine parses them with.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KeyTable, openCustomerCache, type CachedCustomer, type CustomerCache, type MarketingApprovals, type ScanHelper } from '@/entrypoints/background/cache';
import { Change, SnapshotCustomersPage, SnapshotIdentifiersPage } from '@/lib/api';
import { bucket16, bucketOf, customerKeys } from '@/lib/buckets';
import { Customer, DEFAULT_POLICY, type Consent, type ConsentInput, type CustomerInput } from '@/lib/schemas';
import { ScanRequest } from '@/entrypoints/campaigns/protocol';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { consent, customer, tomb, up } from './helpers';

// ---- building pages ----

type BaseEntry = { customer: CustomerInput; consents?: ConsentInput[] };
type Pages = [SnapshotCustomersPage, SnapshotCustomersPage, SnapshotIdentifiersPage, SnapshotIdentifiersPage];

const V = 5; // the version every snapshot row carries; changes use higher (or, on purpose, lower) ones

/** A customer as the snapshot holds it: version V, consents at version V. */
const base = (n: number, over: Partial<CustomerInput> = {}, consents: ConsentInput[] = []): BaseEntry => ({
  customer: customer(n, { version: V, ...over }),
  consents: consents.map((c) => ({ version: V, ...c })),
});

/**
 * A complete snapshot of `entries` in a 2^bits layout: customers in two pages (buckets [0, half)
 * and [half, 2^bits)), then identifiers in two pages, each parsed as the sync engine parses it.
 */
function snapshotPages(
  entries: BaseEntry[],
  opts: { bits?: number; cursors?: [string, string, string, string]; others?: unknown[]; keyOrder?: KeyOrder } = {},
): Pages {
  const bits = opts.bits ?? 3;
  const size = 2 ** bits;
  const half = size / 2;
  const [k1, k2, k3, k4] = opts.cursors ?? ['snap-1', 'snap-2', 'snap-3', 'snap-4'];
  return [
    customersPage(entries, bits, 0, half, k1, opts.others ?? []),
    customersPage(entries, bits, half, size, k2),
    identifiersPage(entries, bits, 0, half, k3, opts.keyOrder),
    identifiersPage(entries, bits, half, size, k4, opts.keyOrder),
  ];
}

function customersPage(entries: BaseEntry[], bits: number, from: number, to: number, cursor: string, others: unknown[] = []) {
  const buckets: { b: number; customers: unknown[] }[] = [];
  for (let b = from; b < to; b++) {
    const customers = entries
      .filter((e) => bucketOf(e.customer.id!, bits) === b)
      .map((e) => ({ customer: e.customer, consents: e.consents ?? [] }));
    if (customers.length) buckets.push({ b, customers });
  }
  return SnapshotCustomersPage.parse({ phase: 'customers', bits, from, to, done: to === 2 ** bits, cursor, buckets, others });
}

/**
 * How a page lists a bucket's keys: by customer, or as the backend sends them (its index order:
 * bucket16 of the key, then the key, then the id), which the cache encodes in one pass.
 */
type KeyOrder = 'customers' | 'index';
function identifiersPage(entries: BaseEntry[], bits: number, from: number, to: number, cursor: string, order: KeyOrder = 'customers') {
  const byBucket = new Map<number, [string, string][]>();
  for (const e of entries) {
    const c = Customer.parse(e.customer); // keys of the customer as stored (emails normalized)
    for (const key of customerKeys(c)) {
      const b = bucketOf(key, bits);
      if (b < from || b >= to) continue;
      if (!byBucket.has(b)) byBucket.set(b, []);
      byBucket.get(b)!.push([key, c.id]);
    }
  }
  const byIndex = ([k1, id1]: [string, string], [k2, id2]: [string, string]) =>
    bucket16(k1) - bucket16(k2) || (k1 < k2 ? -1 : k1 > k2 ? 1 : id1 < id2 ? -1 : id1 > id2 ? 1 : 0);
  const buckets = [...byBucket].sort(([a], [b]) => a - b).map(([b, keys]) => ({ b, keys: order === 'index' ? keys.sort(byIndex) : keys }));
  return SnapshotIdentifiersPage.parse({ phase: 'identifiers', bits, from, to, done: to === 2 ** bits, cursor, buckets });
}

const changes = (list: unknown[]) => z.array(Change).parse(list);

const ids = (over: Partial<RecordIdentifiers> = {}): RecordIdentifiers => ({
  crm: 'demo-crm',
  crmId: null,
  accountNumber: null,
  phones: [],
  emails: [],
  ...over,
});

// ---- handles ----

let seq = 0;
const opened: CustomerCache[] = [];
const nameOf = new WeakMap<CustomerCache, string>();
const newName = () => `cache-test-${++seq}-${Math.random().toString(36).slice(2)}`;
function open(name: string): CustomerCache {
  const cache = openCustomerCache(name);
  opened.push(cache);
  nameOf.set(cache, name);
  return cache;
}

/**
 * Each row's standing marketing consents as a list scrub sees them (decideMany), matched both
 * ways the cache can (key by key in the identifier buckets, and one scan of every summary):
 * the two must answer alike.
 */
async function approvalsMany(cache: CustomerCache, rows: readonly RecordIdentifiers[]): Promise<(MarketingApprovals | null)[]> {
  const same = (a: MarketingApprovals | null) => a;
  const byLookup = await cache.decideMany(rows, same, { scan: false });
  expect(await cache.decideMany(rows, same, { scan: true }), 'the scan answers as the lookups do').toEqual(byLookup);
  // And split across two handles, as a scrub splits it across two workers (messages are clones).
  const other = open(nameOf.get(cache)!);
  const helper: ScanHelper<MarketingApprovals | null> = async (table, from, to) => {
    splitScans += 1;
    return structuredClone(await other.scanPart(structuredClone(table), from, to, same));
  };
  expect(await cache.decideMany(rows, same, { scan: true, helper }), 'the split scan answers as the lookups do').toEqual(byLookup);
  return byLookup;
}
let splitScans = 0;
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
});

async function applyAll(cache: CustomerCache, pages: readonly (SnapshotCustomersPage | SnapshotIdentifiersPage)[]) {
  for (const p of pages) await cache.applySnapshotPage(p);
}

// ---- the world most tests start from ----

const SHARED_PHONE = '+14075559999';
const MOVED_PHONE = '+14075550009';

/**
 * Ten customers, eight consents:
 *   c1  k1 marketing/standing opt_in, k2 third_party opt_in
 *   c2  k3 marketing/standing none          (flipped to opt_in by CHANGES)
 *   c3  k4 marketing/call opt_in, email Mixed.Case@Example.com
 *   c4  account ACCT-44, no consents
 *   c5  k5 marketing/standing opt_in; shares account SHARED-1 and phone SHARED_PHONE with c6
 *   c6  shares account SHARED-1 and SHARED_PHONE with c5, own phone +14075550006
 *   c7  k6 marketing/standing opt_in, k7 new_carrier opt_in (tombstoned by CHANGES)
 *   c8  (renamed by CHANGES)
 *   c9  k8 marketing/standing opt_out_effective, phones MOVED_PHONE and +14075558888 (MOVED_PHONE goes to c10)
 *   c10
 */
function world(): BaseEntry[] {
  return [
    base(1, {}, [consent(1, 'c1'), consent(2, 'c1', { purpose: 'third_party' })]),
    base(2, {}, [consent(3, 'c2', { state: 'none', method: null })]),
    base(3, { emails: ['Mixed.Case@Example.com'] }, [consent(4, 'c3', { scope: 'call', callId: 'call-1', method: 'oral' })]),
    base(4, { accountNumber: 'ACCT-44' }),
    base(5, { accountNumber: 'SHARED-1', phones: [SHARED_PHONE] }, [consent(5, 'c5')]),
    base(6, { accountNumber: 'SHARED-1', phones: [SHARED_PHONE, '+14075550006'] }),
    base(7, {}, [consent(6, 'c7'), consent(7, 'c7', { purpose: 'new_carrier' })]),
    base(8),
    base(9, { phones: [MOVED_PHONE, '+14075558888'] }, [consent(8, 'c9', { state: 'opt_out_effective', method: null })]),
    base(10),
  ];
}
const WORLD_COUNTS = { customers: 10, consents: 8 };
const POLICY_CHANGE = up('policy', { id: 'current', approvalMode: 'opt_out_allowed' } as never, 3);

/** The changes of test 4, in one page. */
const CHANGES = () =>
  changes([
    up('customer', customer(8, { name: 'Renamed Eight' }), V + 2), // rename
    up('customer', customer(9, { phones: ['+14075558888'] }), V + 1), // MOVED_PHONE leaves c9 ...
    up('customer', customer(10, { phones: ['+14075550010', MOVED_PHONE] }), V + 1), // ... for c10
    up('customer', customer(11, { emails: ['new.eleven@example.com'] }), 1), // new, only in the changes
    up('consent', consent(9, 'c11'), 1),
    tomb('customer', 'c7', V + 1), // gone, with its two consents
    up('consent', consent(3, 'c2', { state: 'opt_in', method: 'electronic' }), V + 1), // none -> opt_in
    up('consent', consent(10, 'c4'), 1), // a new consent for a base customer
    up('consent', consent(5, 'c5', { scope: 'call', callId: 'call-9', method: 'oral' }), V + 1), // no longer standing
    up('customer', customer(8, { name: 'Stale Eight' }), V + 1), // older than the rename: ignored
  ]);

async function snapshotWorld(name = newName(), others: unknown[] = [POLICY_CHANGE], keyOrder?: KeyOrder) {
  const cache = open(name);
  await applyAll(cache, snapshotPages(world(), { others, keyOrder }));
  return cache;
}

/** Rows a list scrub might send: base-only, changed, new, tombstoned, ambiguous and unknown. */
const ROWS: RecordIdentifiers[] = [
  ids({ crmId: 'crm-1' }), // base only
  ids({ emails: ['MIXED.case@example.com'] }), // base only, call-scoped consent
  ids({ accountNumber: 'ACCT-44' }), // base customer, new consent in the overlay
  ids({ phones: ['(407) 555-0002'] }), // consent flipped
  ids({ crmId: 'crm-8' }), // renamed
  ids({ phones: [MOVED_PHONE] }), // moved phone: c10 now
  ids({ phones: ['+14075558888'] }), // c9 by the phone it kept
  ids({ accountNumber: 'A-1009' }), // c9 by account
  ids({ emails: ['new.eleven@example.com'] }), // new customer
  ids({ crmId: 'crm-7' }), // tombstoned
  ids({ phones: ['+14075550007'] }), // tombstoned, by phone
  ids({ phones: [SHARED_PHONE] }), // ambiguous only
  ids({ accountNumber: 'SHARED-1' }), // ambiguous only
  ids({ accountNumber: 'SHARED-1', phones: [SHARED_PHONE], emails: ['customer5@example.com'] }), // falls through to email
  ids({ accountNumber: 'SHARED-1', phones: ['+1 (407) 555-0006'] }), // falls through to phone
  ids({ crmId: 'crm-5' }), // c5, consent no longer standing
  ids({ crmId: 'nope', phones: ['+19995550000'], emails: ['nobody@example.com'] }), // unknown
  ids({ crm: 'other-crm', crmId: 'crm-1' }), // unknown: the CRM ref is per CRM
  ids(), // nothing to look up by
];

const standingMarketing = (c: Consent) => c.purpose === 'marketing' && c.scope === 'standing';
const byId = <T extends { id: string }>(list: readonly T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));

/** Everything a user could notice, for `rows`. */
async function observe(cache: CustomerCache, rows: RecordIdentifiers[] = ROWS) {
  const found: (CachedCustomer | null)[] = [];
  for (const r of rows) found.push(await cache.findCustomer(r));
  const approvals = await approvalsMany(cache, rows);
  const streamed: CachedCustomer[] = [];
  const streamedCount = await cache.streamAll((e) => {
    streamed.push(e);
  });
  return {
    found: found.map(normalize),
    approvals: approvals.map((a) => (a ? { customerId: a.customerId, consents: byId(a.consents) } : null)),
    counts: await cache.counts(),
    cursor: await cache.cursor(),
    streamed: byIdOfCustomer(streamed.map((e) => normalize(e)!)),
    streamedCount,
  };
}
const normalize = (e: CachedCustomer | null) => (e ? { customer: e.customer, consents: byId(e.consents) } : null);
const byIdOfCustomer = (list: CachedCustomer[]) => [...list].sort((a, b) => a.customer.id.localeCompare(b.customer.id));

/** approvalsMany answers, row by row, what findCustomer answers, restricted to standing marketing consents. */
async function expectApprovalsAgree(cache: CustomerCache, rows: RecordIdentifiers[]) {
  const approvals = await approvalsMany(cache, rows);
  expect(approvals).toHaveLength(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const found = await cache.findCustomer(rows[i]!);
    const expected: MarketingApprovals | null = found
      ? { customerId: found.customer.id, consents: byId(found.consents.filter(standingMarketing)) }
      : null;
    const got = approvals[i] ? { customerId: approvals[i]!.customerId, consents: byId(approvals[i]!.consents) } : null;
    expect(got, `row ${i}: ${JSON.stringify(rows[i])}`).toEqual(expected);
  }
  return approvals;
}

const idOf = (e: CachedCustomer | null) => e?.customer.id ?? null;

// ---- tests ----

describe('customer cache: snapshot', () => {
  it('applies a complete snapshot: cursor, progress, lookups by every identifier, counts and policy', async () => {
    const cache = open(newName());
    expect(await cache.cursor()).toBeNull();
    expect(await cache.snapshotProgress()).toBeNull();
    expect(await cache.counts()).toEqual({ customers: 0, consents: 0 });
    expect(await cache.getPolicy()).toBeNull();
    expect(await cache.findCustomer(ids({ crmId: 'crm-1' }))).toBeNull();

    const [c1, c2, i1, i2] = snapshotPages(world(), { others: [POLICY_CHANGE] });
    // every page has something in it (otherwise this test proves less than it says)
    expect(c1.buckets.length && c2.buckets.length && i1.buckets.length && i2.buckets.length).toBeTruthy();

    await cache.applySnapshotPage(c1);
    expect(await cache.cursor()).toBeNull();
    expect(await cache.snapshotProgress()).toEqual({ bits: 3, cursor: 'snap-1', phase: 'customers', next: 4 });

    await cache.applySnapshotPage(c2);
    expect(await cache.cursor()).toBeNull();
    expect(await cache.snapshotProgress()).toEqual({ bits: 3, cursor: 'snap-1', phase: 'identifiers', next: 0 });

    await cache.applySnapshotPage(i1);
    expect(await cache.cursor()).toBeNull();
    expect(await cache.snapshotProgress()).toEqual({ bits: 3, cursor: 'snap-1', phase: 'identifiers', next: 4 });

    await cache.applySnapshotPage(i2);
    expect(await cache.snapshotProgress()).toBeNull();
    expect(await cache.cursor()).toBe('snap-1'); // the FIRST page's cursor, not the last one's

    // CRM ref
    const one = await cache.findCustomer(ids({ crmId: 'crm-1' }));
    expect(one?.customer).toMatchObject({ id: 'c1', name: 'Customer 1', version: V, accountNumber: 'A-1001' });
    expect(byId(one!.consents).map((c) => [c.id, c.purpose, c.state])).toEqual([
      ['k1', 'marketing', 'opt_in'],
      ['k2', 'third_party', 'opt_in'],
    ]);
    expect(await cache.findCustomer(ids({ crm: 'other-crm', crmId: 'crm-1' }))).toBeNull();
    // account number (trimmed)
    expect(idOf(await cache.findCustomer(ids({ accountNumber: 'ACCT-44' })))).toBe('c4');
    expect(idOf(await cache.findCustomer(ids({ accountNumber: '  ACCT-44 ' })))).toBe('c4');
    // phone, in any spelling normalizePhone accepts
    for (const p of ['+14075550002', '(407) 555-0002', '407.555.0002', '1-407-555-0002', '+1 407 555 0002', 'tel:+14075550002']) {
      expect(idOf(await cache.findCustomer(ids({ phones: [p] }))), p).toBe('c2');
    }
    // email, any case
    for (const e of ['mixed.case@example.com', 'MIXED.CASE@EXAMPLE.COM', ' Mixed.Case@Example.com ']) {
      expect(idOf(await cache.findCustomer(ids({ emails: [e] }))), e).toBe('c3');
    }
    expect(idOf(await cache.findCustomer(ids({ emails: ['CUSTOMER1@Example.COM'] })))).toBe('c1');
    // every customer by each of its identifiers
    for (const n of [1, 2, 3, 4, 7, 8, 9, 10]) {
      const e = world()[n - 1]!.customer;
      expect(idOf(await cache.findCustomer(ids({ crmId: `crm-${n}` })))).toBe(`c${n}`);
      expect(idOf(await cache.findCustomer(ids({ accountNumber: e.accountNumber })))).toBe(`c${n}`);
      expect(idOf(await cache.findCustomer(ids({ phones: [e.phones![0]!] })))).toBe(`c${n}`);
      expect(idOf(await cache.findCustomer(ids({ emails: [e.emails![0]!] })))).toBe(`c${n}`);
    }
    // unknown identifiers
    expect(await cache.findCustomer(ids({ crmId: 'crm-999' }))).toBeNull();
    expect(await cache.findCustomer(ids({ accountNumber: 'NOPE' }))).toBeNull();
    expect(await cache.findCustomer(ids({ phones: ['+19995550000'] }))).toBeNull();
    expect(await cache.findCustomer(ids({ phones: ['call me maybe'] }))).toBeNull();
    expect(await cache.findCustomer(ids({ emails: ['nobody@example.com'] }))).toBeNull();
    expect(await cache.findCustomer(ids())).toBeNull();

    expect(await cache.counts()).toEqual(WORLD_COUNTS);
    expect(await cache.getPolicy()).toMatchObject({ approvalMode: 'opt_out_allowed', callIdleMinutes: 30 });

    // findMany answers what findCustomer answers, in order
    const many = await cache.findMany(ROWS);
    for (let i = 0; i < ROWS.length; i++) expect(normalize(many[i]!)).toEqual(normalize(await cache.findCustomer(ROWS[i]!)));
  });

  it('finds customers whose ids and CRM refs hold quotes, newlines, commas, non-ASCII or prefixes of one another', async () => {
    // Buckets are JSON lines searched by the start of a line (cache.ts BucketText): none of these
    // may be mistaken for another customer's line, or break out of its own.
    const awkward = ['q"uote', 'new\nline', 'comma",[x', 'Zoë-😀', 'pre', 'prefix', 'back\\slash'];
    const entries = awkward.map((id, i) =>
      base(100 + i, { id, crmRefs: [{ crm: 'demo-crm', id: `ref-${id}` }], accountNumber: `ACCT-${id}`, phones: [], emails: [] }),
    );
    const cache = open(newName());
    for (const page of snapshotPages(entries, { bits: 1 })) await cache.applySnapshotPage(page);
    for (const id of awkward) {
      expect(idOf(await cache.findCustomer(ids({ crmId: `ref-${id}` }))), id).toBe(id);
      expect(idOf(await cache.findCustomer(ids({ accountNumber: `ACCT-${id}` }))), id).toBe(id);
    }
    expect(await cache.findCustomer(ids({ crmId: 'ref-pr' }))).toBeNull();
    expect(await cache.findCustomer(ids({ crmId: 'ref-q' }))).toBeNull();
    const found = await approvalsMany(cache, awkward.map((id) => ids({ crmId: `ref-${id}` })));
    expect(found.map((f) => f?.customerId ?? null)).toEqual(awkward);
  });

  it.each(['customers', 'index'] as const)('a shared identifier matches nobody, but the lookup falls through to the next identifier (keys sent by %s)', async (keyOrder) => {
    const cache = await snapshotWorld(newName(), [POLICY_CHANGE], keyOrder);
    expect(await cache.findCustomer(ids({ phones: [SHARED_PHONE] }))).toBeNull();
    expect(await cache.findCustomer(ids({ phones: ['(407) 555-9999'] }))).toBeNull();
    expect(await cache.findCustomer(ids({ accountNumber: 'SHARED-1' }))).toBeNull();
    // account ambiguous -> phone ambiguous -> email unique
    const five = await cache.findCustomer(ids({ accountNumber: 'SHARED-1', phones: [SHARED_PHONE], emails: ['customer5@example.com'] }));
    expect(five?.customer.id).toBe('c5');
    expect(five?.consents.map((c) => c.id)).toEqual(['k5']);
    // account ambiguous -> the first phone ambiguous -> the second phone unique
    expect(idOf(await cache.findCustomer(ids({ accountNumber: 'SHARED-1', phones: [SHARED_PHONE, '4075550006'] })))).toBe('c6');
    // an ambiguous identifier does not block a CRM ref that comes first
    expect(idOf(await cache.findCustomer(ids({ crmId: 'crm-6', phones: [SHARED_PHONE] })))).toBe('c6');
    // nothing unique at all
    expect(await cache.findCustomer(ids({ accountNumber: 'SHARED-1', phones: [SHARED_PHONE], emails: ['nobody@example.com'] }))).toBeNull();

    const approvals = await expectApprovalsAgree(cache, [
      ids({ phones: [SHARED_PHONE] }),
      ids({ accountNumber: 'SHARED-1', phones: [SHARED_PHONE], emails: ['customer5@example.com'] }),
      ids({ accountNumber: 'SHARED-1', phones: [SHARED_PHONE, '4075550006'] }),
    ]);
    expect(approvals.map((a) => a?.customerId ?? null)).toEqual([null, 'c5', 'c6']);
  });

  it('throws on snapshot pages out of order and changes nothing', async () => {
    const name = newName();
    const cache = open(name);
    const [c1, c2, i1, i2] = snapshotPages(world(), { others: [POLICY_CHANGE] });

    // nothing started: only the customers page from bucket 0 may come
    await expect(cache.applySnapshotPage(i1)).rejects.toThrow(/out of order/);
    await expect(cache.applySnapshotPage(c2)).rejects.toThrow(/out of order/);
    expect(await cache.snapshotProgress()).toBeNull();
    expect(await cache.counts()).toEqual({ customers: 0, consents: 0 });
    expect(await cache.getPolicy()).toBeNull();
    // c2's buckets were written along with the reads that refused it, and rolled back with them.
    expect(await observe(open(name))).toEqual(await observe(open(newName())));

    await cache.applySnapshotPage(c1);
    const progress = { bits: 3, cursor: 'snap-1', phase: 'customers', next: 4 };
    expect(await cache.snapshotProgress()).toEqual(progress);
    const countsAfterFirst = await cache.counts();
    expect(countsAfterFirst.customers).toBeGreaterThan(0);
    const storedAfterFirst = await observe(open(name));

    // identifiers before the customers are done
    await expect(cache.applySnapshotPage(i1)).rejects.toThrow(/out of order/);
    // a customers page with the wrong `from` (6 instead of 4)
    await expect(cache.applySnapshotPage(customersPage(world(), 3, 6, 8, 'snap-x'))).rejects.toThrow(/out of order/);
    // a customers page repeating one already applied
    await expect(cache.applySnapshotPage(customersPage(world(), 3, 2, 4, 'snap-x'))).rejects.toThrow(/out of order/);
    // the right `from` but the wrong layout: 2^2 buckets instead of 2^3
    await expect(cache.applySnapshotPage(customersPage(world(), 2, 2, 4, 'snap-x'))).rejects.toThrow(/out of order/);
    // the right `from` but the wrong layout: 2^4 buckets
    await expect(cache.applySnapshotPage(customersPage(world(), 4, 4, 16, 'snap-x'))).rejects.toThrow(/out of order/);

    expect(await cache.snapshotProgress()).toEqual(progress);
    expect(await cache.counts()).toEqual(countsAfterFirst);
    expect(await cache.cursor()).toBeNull();
    // A page that goes on with the snapshot has its buckets written along with the reads that
    // check it: refused, they are rolled back with the rest (what another handle reads is unchanged).
    expect(await observe(open(name))).toEqual(storedAfterFirst);

    // the snapshot still completes with the right pages
    await cache.applySnapshotPage(c2);
    // an identifiers page with the wrong `from`, and one with the wrong bits
    await expect(cache.applySnapshotPage(i2)).rejects.toThrow(/out of order/);
    await expect(cache.applySnapshotPage(identifiersPage(world(), 2, 0, 2, 'snap-x'))).rejects.toThrow(/out of order/);
    expect(await cache.snapshotProgress()).toEqual({ ...progress, phase: 'identifiers', next: 0 });
    await cache.applySnapshotPage(i1);
    await cache.applySnapshotPage(i2);
    expect(await cache.cursor()).toBe('snap-1');
    expect(await cache.counts()).toEqual(WORLD_COUNTS);

    // after completion: neither phase continues
    const before = await observe(cache);
    await expect(cache.applySnapshotPage(i2)).rejects.toThrow(/out of order/);
    await expect(cache.applySnapshotPage(identifiersPage(world(), 3, 0, 4, 'snap-x'))).rejects.toThrow(/out of order/);
    await expect(cache.applySnapshotPage(c2)).rejects.toThrow(/out of order/);
    expect(await cache.snapshotProgress()).toBeNull();
    expect(await observe(cache)).toEqual(before);
    expect(await cache.getPolicy()).toMatchObject({ approvalMode: 'opt_out_allowed' });
  });

  it('a customers page from bucket 0 starts over and replaces everything held', async () => {
    const name = newName();
    const cache = await snapshotWorld(name);
    await cache.applyChanges(CHANGES(), 'chg-1');
    const smaller = [base(1, { name: 'Re-synced One' }), base(20, {}, [consent(20, 'c20')])];
    const pages = snapshotPages(smaller, { bits: 2, cursors: ['re-1', 're-2', 're-3', 're-4'] });
    await cache.applySnapshotPage(pages[0]);
    expect(await cache.cursor()).toBeNull();
    expect(await cache.snapshotProgress()).toEqual({ bits: 2, cursor: 're-1', phase: 'customers', next: 2 });
    await applyAll(cache, pages.slice(1));
    expect(await cache.cursor()).toBe('re-1');
    expect((await cache.findCustomer(ids({ crmId: 'crm-1' })))?.customer.name).toBe('Re-synced One');
    expect(idOf(await cache.findCustomer(ids({ crmId: 'crm-20' })))).toBe('c20');
    expect(await cache.findCustomer(ids({ crmId: 'crm-8' }))).toBeNull(); // not in the new snapshot
    expect(await cache.findCustomer(ids({ emails: ['new.eleven@example.com'] }))).toBeNull(); // overlay gone too
    expect(await cache.getPolicy()).toBeNull(); // the new first page sent no policy
  });
});

describe('customer cache: changes over a snapshot', () => {
  it('renames, moves a phone, adds, tombstones, flips a consent and ignores an older version', async () => {
    const cache = await snapshotWorld();

    // a customer tombstone on its own: counts drop by it and its two consents
    await cache.applyChanges(changes([tomb('customer', 'c7', V + 1)]), 'chg-0');
    expect(await cache.cursor()).toBe('chg-0');
    expect(await cache.findCustomer(ids({ crmId: 'crm-7' }))).toBeNull();
    expect(await cache.findCustomer(ids({ phones: ['+14075550007'] }))).toBeNull();
    expect(await cache.findCustomer(ids({ emails: ['customer7@example.com'] }))).toBeNull();
    expect(await cache.counts()).toEqual({ customers: 9, consents: 6 });

    await cache.applyChanges(CHANGES(), 'chg-1');
    expect(await cache.cursor()).toBe('chg-1');

    // rename (the older "Stale Eight" that came after it is ignored)
    const eight = await cache.findCustomer(ids({ crmId: 'crm-8' }));
    expect(eight?.customer).toMatchObject({ id: 'c8', name: 'Renamed Eight', version: V + 2 });

    // the moved phone finds c10 only; c9 is still found by everything else it has
    expect(idOf(await cache.findCustomer(ids({ phones: [MOVED_PHONE] })))).toBe('c10');
    expect(idOf(await cache.findCustomer(ids({ phones: ['(407) 555-0009'] })))).toBe('c10');
    expect(idOf(await cache.findCustomer(ids({ phones: ['+14075550010'] })))).toBe('c10');
    expect(idOf(await cache.findCustomer(ids({ phones: ['+14075558888'] })))).toBe('c9');
    expect(idOf(await cache.findCustomer(ids({ crmId: 'crm-9' })))).toBe('c9');
    expect(idOf(await cache.findCustomer(ids({ accountNumber: 'A-1009' })))).toBe('c9');
    expect(idOf(await cache.findCustomer(ids({ emails: ['customer9@example.com'] })))).toBe('c9');
    const nine = await cache.findCustomer(ids({ crmId: 'crm-9' }));
    expect(nine?.customer.phones).toEqual(['+14075558888']);
    expect(nine?.consents.map((c) => c.id)).toEqual(['k8']); // its consents stay with it

    // a new customer only in the changes, with its consent
    const eleven = await cache.findCustomer(ids({ emails: ['NEW.Eleven@example.com'] }));
    expect(eleven?.customer).toMatchObject({ id: 'c11', version: 1 });
    expect(eleven?.consents.map((c) => [c.id, c.state])).toEqual([['k9', 'opt_in']]);
    expect(idOf(await cache.findCustomer(ids({ crmId: 'crm-11' })))).toBe('c11');
    expect(idOf(await cache.findCustomer(ids({ phones: ['407-555-0011'] })))).toBe('c11');

    // a consent flipped from none to opt_in
    const two = await cache.findCustomer(ids({ phones: ['(407) 555-0002'] }));
    expect(two?.consents).toHaveLength(1);
    expect(two?.consents[0]).toMatchObject({ id: 'k3', state: 'opt_in', method: 'electronic', version: V + 1 });

    // a new consent for a base customer; a consent that changed scope
    expect(byId((await cache.findCustomer(ids({ accountNumber: 'ACCT-44' })))!.consents).map((c) => c.id)).toEqual(['k10']);
    expect((await cache.findCustomer(ids({ crmId: 'crm-5' })))?.consents).toEqual([
      expect.objectContaining({ id: 'k5', scope: 'call', callId: 'call-9' }),
    ]);

    // an older version of the tombstoned customer does not bring it back
    await cache.applyChanges(changes([up('customer', customer(7), V)]), 'chg-2');
    expect(await cache.findCustomer(ids({ crmId: 'crm-7' }))).toBeNull();

    // an older version than the snapshot's, of a base customer, is ignored
    await cache.applyChanges(changes([up('customer', customer(4, { accountNumber: 'ACCT-44', name: 'Stale Four' }), V - 2)]), 'chg-3');
    expect((await cache.findCustomer(ids({ accountNumber: 'ACCT-44' })))?.customer).toMatchObject({ name: 'Customer 4', version: V });
    // an older consent version than the one held is ignored
    await cache.applyChanges(changes([up('consent', consent(3, 'c2', { state: 'denied' }), V)]), 'chg-4');
    expect((await cache.findCustomer(ids({ crmId: 'crm-2' })))?.consents[0]).toMatchObject({ state: 'opt_in' });
    // an older rename of c8 arriving on a later page is ignored too
    await cache.applyChanges(changes([up('customer', customer(8, { name: 'Older Eight' }), V + 1)]), 'chg-5');
    expect((await cache.findCustomer(ids({ crmId: 'crm-8' })))?.customer.name).toBe('Renamed Eight');

    // c7 and its consents gone; c11 and k9, k10 new
    expect(await cache.counts()).toEqual({ customers: 10, consents: 8 });
    expect(await cache.cursor()).toBe('chg-5');
  });

  it('a customer tombstone, then a newer upsert, brings the customer back', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(changes([tomb('customer', 'c1', V + 1)]), 'a');
    expect(await cache.findCustomer(ids({ crmId: 'crm-1' }))).toBeNull();
    await cache.applyChanges(changes([up('customer', customer(1, { name: 'Back' }), V + 2)]), 'b');
    const one = await cache.findCustomer(ids({ crmId: 'crm-1' }));
    expect(one?.customer.name).toBe('Back');
    expect(one?.consents.map((c) => c.id).sort()).toEqual(['k1', 'k2']);
    expect(await cache.counts()).toEqual(WORLD_COUNTS);
  });

  it('policy changes in a change page replace the snapshot policy', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(changes([up('policy', { id: 'current', approvalMode: 'opt_in_only', callIdleMinutes: 10 } as never, 4)]), 'p');
    expect(await cache.getPolicy()).toMatchObject({ approvalMode: 'opt_in_only', callIdleMinutes: 10 });
    // an older one is ignored
    await cache.applyChanges(changes([up('policy', { id: 'current', approvalMode: 'opt_out_allowed' } as never, 2)]), 'q');
    expect(await cache.getPolicy()).toMatchObject({ approvalMode: 'opt_in_only' });
  });
});

describe('customer cache: approvalsMany', () => {
  it('agrees with findCustomer on base-only, changed, new, tombstoned, ambiguous and unknown rows', async () => {
    const cache = await snapshotWorld();
    await expectApprovalsAgree(cache, ROWS); // the snapshot alone
    await cache.applyChanges(CHANGES(), 'chg-1');
    const approvals = await expectApprovalsAgree(cache, ROWS);

    // and not vacuously: what the rows name
    expect(approvals.map((a) => a?.customerId ?? null)).toEqual([
      'c1', 'c3', 'c4', 'c2', 'c8', 'c10', 'c9', 'c9', 'c11', null, null, null, null, 'c5', 'c6', 'c5', null, null, null,
    ]);
    const consentsOf = (i: number) => approvals[i]!.consents.map((c) => [c.id, c.state]);
    expect(consentsOf(0)).toEqual([['k1', 'opt_in']]); // k2 is third_party
    expect(consentsOf(1)).toEqual([]); // k4 is call-scoped
    expect(consentsOf(2)).toEqual([['k10', 'opt_in']]); // new in the overlay
    expect(consentsOf(3)).toEqual([['k3', 'opt_in']]); // flipped from none
    expect(consentsOf(7)).toEqual([['k8', 'opt_out_effective']]);
    expect(consentsOf(8)).toEqual([['k9', 'opt_in']]);
    expect(consentsOf(13)).toEqual([]); // k5 became call-scoped

    // the same rows in another order, and repeated, answer the same
    const reversed = [...ROWS].reverse();
    expect(await approvalsMany(cache, reversed)).toEqual([...approvals].reverse());
    expect(await approvalsMany(cache, [...ROWS, ...ROWS])).toEqual([...approvals, ...approvals]);
    expect(await approvalsMany(cache, [])).toEqual([]);
  });

  it('answers a list of thousands of keys (mostly unknown, some not ASCII, known ones repeated) as it answers its known rows', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(CHANGES(), 'chg-1');
    const known = await approvalsMany(cache, ROWS);
    const rows: RecordIdentifiers[] = [];
    const expected: (MarketingApprovals | null)[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i % 7 === 0) {
        rows.push(ROWS[i % ROWS.length]!);
        expected.push(known[i % ROWS.length]!);
      } else {
        rows.push(ids({ crmId: `crm-unknown-${i}${i % 3 ? '' : '-ü✓'}`, emails: [`nobody${i}@example.com`] }));
        expected.push(null);
      }
    }
    expect(await approvalsMany(cache, rows)).toEqual(expected);
  });

  it('agrees with findCustomer on a cache that holds changes only (no snapshot)', async () => {
    const cache = open(newName());
    await cache.applyChanges(
      changes([
        up('customer', customer(1), 1),
        up('consent', consent(1, 'c1'), 1),
        up('customer', customer(2, { phones: [SHARED_PHONE] }), 1),
        up('customer', customer(3, { phones: [SHARED_PHONE] }), 1),
        up('consent', consent(2, 'c3', { state: 'revoked' }), 1),
        up('customer', customer(4), 1),
        tomb('customer', 'c4', 2),
      ]),
      'only-1',
    );
    const rows = [
      ids({ crmId: 'crm-1' }),
      ids({ phones: [SHARED_PHONE] }),
      ids({ phones: [SHARED_PHONE], emails: ['customer3@example.com'] }),
      ids({ crmId: 'crm-4' }),
      ids({ crmId: 'crm-9' }),
    ];
    const approvals = await expectApprovalsAgree(cache, rows);
    expect(approvals.map((a) => a?.customerId ?? null)).toEqual(['c1', null, 'c3', null, null]);
    expect(await cache.counts()).toEqual({ customers: 3, consents: 2 });
  });
});

describe('customer cache: compact', () => {
  it('compact(0) folds the overlay into the buckets without changing any answer, for this and a new handle', async () => {
    const name = newName();
    const cache = await snapshotWorld(name);
    await cache.applyChanges(CHANGES(), 'chg-1');
    await cache.applyChanges(
      changes([
        up('customer', customer(6, { accountNumber: 'SHARED-1', phones: ['+14075550006'] }), V + 1), // SHARED_PHONE now c5's alone
        up('customer', customer(12, { emails: ['customer1@example.com'] }), 1), // c1's email now shared
        up('customer', customer(1, { name: 'One v2' }), V + 1),
        tomb('consent', 'k2', V + 1), // of c1, which the overlay touches: compact places it
      ]),
      'chg-1b',
    );
    const rows = [
      ...ROWS,
      ids({ emails: ['customer1@example.com'] }), // ambiguous now
      ids({ emails: ['customer1@example.com'], phones: ['+14075550001'] }),
      ids({ crmId: 'crm-12' }),
      ids({ crmId: 'crm-6' }),
    ];
    const before = await observe(cache, rows);
    expect(before.counts).toEqual({ customers: 11, consents: 7 });
    expect(before.streamedCount).toBe(11);
    expect(before.found.map((f) => f?.customer.id ?? null).slice(-4)).toEqual([null, 'c1', 'c12', 'c6']);
    expect(before.found[11]?.customer.id).toBe('c5'); // SHARED_PHONE alone: no longer ambiguous
    expect(before.found[0]?.customer.name).toBe('One v2');
    expect(before.found[0]?.consents.map((c) => c.id)).toEqual(['k1']);

    expect(await cache.compact()).toBe(false); // the default threshold is far away
    expect(await cache.compact(0)).toBe(true);
    expect(await observe(cache, rows)).toEqual(before);
    await expectApprovalsAgree(cache, rows);

    const second = open(name);
    expect(await observe(second, rows)).toEqual(before);
    expect(await second.snapshotProgress()).toBeNull();

    // the overlay is empty now: nothing left to fold
    expect(await cache.compact(0)).toBe(false);

    // changes after compacting apply over the new buckets
    await cache.applyChanges(
      changes([
        up('customer', customer(10, { phones: ['+14075550010'] }), V + 2), // MOVED_PHONE leaves c10 too
        up('customer', customer(9, { phones: [MOVED_PHONE, '+14075558888'] }), V + 2), // and goes back to c9
      ]),
      'chg-2',
    );
    expect(idOf(await cache.findCustomer(ids({ phones: [MOVED_PHONE] })))).toBe('c9');
    expect(idOf(await second.findCustomer(ids({ phones: [MOVED_PHONE] })))).toBe('c9');
    await expectApprovalsAgree(second, [...rows, ids({ phones: [MOVED_PHONE] })]);
    const again = await observe(cache, rows);
    expect(await cache.compact(0)).toBe(true);
    expect(await observe(cache, rows)).toEqual(again);
    expect(await observe(second, rows)).toEqual(again);
  });

  it('a scan split across two handles: a key naming a customer on each side, a customer the overlay moved on the helper\'s side, an empty list', async () => {
    const bits = 6; // 64 buckets: 4 summary records; the caller scans buckets 0-31, the helper 32-63
    const side = (e: BaseEntry) => (bucketOf(e.customer.id!, bits) < 32 ? 'caller' : 'helper');
    const entries = Array.from({ length: 80 }, (_, i) => base(i + 1, {}, [consent(i + 1, `c${i + 1}`, { state: i % 2 ? 'opt_in' : 'denied' })]));
    const mine = entries.find((e) => side(e) === 'caller')!;
    const theirs = entries.filter((e) => side(e) === 'helper');
    const SHARED = '+14075550777';
    mine.customer.phones = [SHARED];
    theirs[0]!.customer.phones = [SHARED];
    const name = newName();
    const cache = open(name);
    await cache.applySnapshotPage(customersPage(entries, bits, 0, 2 ** bits, 'snap'));
    await cache.applySnapshotPage(identifiersPage(entries, bits, 0, 2 ** bits, 'snap'));
    const moved = theirs[1]!;
    await cache.applyChanges(changes([up('customer', customer(Number(moved.customer.id!.slice(1)), { phones: ['+14075550888'] }), V + 1)]), 'chg');
    const rows = [...entries.map((e) => ids({ crmId: e.customer.crmRefs![0]!.id })), ids({ phones: [SHARED] }), ids({ phones: ['+14075550888'] })];
    const before = splitScans;
    const answers = await approvalsMany(cache, rows);
    expect(splitScans).toBe(before + 1);
    expect(answers.at(-2)).toBeNull(); // one customer on each side: the phone names nobody
    expect(answers.at(-1)).toMatchObject({ customerId: moved.customer.id, consents: [{ id: `k${moved.customer.id!.slice(1)}` }] });
    const other = open(name);
    const helper: ScanHelper<MarketingApprovals | null> = async (table, from, to) => structuredClone(await other.scanPart(structuredClone(table), from, to, (a) => a));
    expect(await cache.decideMany([], (a) => a, { scan: true, helper })).toEqual([]);
  });

  it('a scan helper warmed before a sync (while the scrub reads its file) scans the cache the sync left', async () => {
    const bits = 6;
    const entries = Array.from({ length: 80 }, (_, i) => base(i + 1, {}, [consent(i + 1, `c${i + 1}`, { state: 'opt_in' })]));
    const name = newName();
    const cache = open(name);
    await cache.applySnapshotPage(customersPage(entries, bits, 0, 2 ** bits, 'snap'));
    await cache.applySnapshotPage(identifiersPage(entries, bits, 0, 2 ** bits, 'snap'));
    const helperHandle = open(name);
    await helperHandle.warm();
    // A customer on the helper's side loses its approval after the helper read the cache.
    const k = entries.findIndex((e) => bucketOf(e.customer.id!, bits) >= 2 ** bits / 2);
    const revoked = entries[k]!.customer.id!;
    await open(name).applyChanges(changes([up('consent', consent(k + 1, revoked, { state: 'revoked' }), V + 1)]), 'chg');
    const rows = entries.map((e) => ids({ crmId: e.customer.crmRefs![0]!.id }));
    const same = (a: MarketingApprovals | null) => a;
    let asked = 0;
    const helper: ScanHelper<MarketingApprovals | null> = async (table, from, to) => {
      asked += 1;
      return structuredClone(await helperHandle.scanPart(structuredClone(table), from, to, same));
    };
    const answers = await cache.decideMany(rows, same, { scan: true, helper });
    expect(asked).toBe(1);
    expect(answers[k]!.consents).toEqual([expect.objectContaining({ customerId: revoked, state: 'revoked' })]);
    expect(answers).toEqual(await cache.decideMany(rows, same, { scan: false }));
    // The warmed helper's part is taken, not thrown away for a stale read and scanned again here:
    // with its claims emptied, its customers come back unknown.
    const claimsNothing: ScanHelper<MarketingApprovals | null> = async (table, from, to) => {
      const part = structuredClone(await helperHandle.scanPart(structuredClone(table), from, to, same));
      return { ...part, claims: { keys: new Uint32Array(0), ids: [], decided: [], several: [] } };
    };
    const withEmpty = await cache.decideMany(rows, same, { scan: true, helper: claimsNothing });
    expect(withEmpty[k]).toBeNull();
    expect(withEmpty.filter((a) => a === null).length).toBe(entries.filter((e) => bucketOf(e.customer.id!, bits) >= 2 ** bits / 2).length);
  });

  it('a scan split with a helper that fails, or that read the cache after a sync changed it, answers from this handle alone', async () => {
    const bits = 6; // 64 buckets: 4 summary records; the caller scans buckets 0-31, the helper 32-63
    const entries = Array.from({ length: 80 }, (_, i) => base(i + 1, {}, i % 2 ? [consent(i + 1, `c${i + 1}`, { state: 'opt_in' })] : []));
    const name = newName();
    const cache = open(name);
    await cache.applySnapshotPage(customersPage(entries, bits, 0, 2 ** bits, 'snap'));
    await cache.applySnapshotPage(identifiersPage(entries, bits, 0, 2 ** bits, 'snap'));
    const rows = entries.map((e) => ids({ crmId: e.customer.crmRefs![0]!.id }));
    const same = (a: MarketingApprovals | null) => a;
    const expected = await cache.decideMany(rows, same, { scan: false });
    expect(expected.filter((a) => a?.consents.length).length).toBe(40);

    let asked = 0;
    const failing: ScanHelper<MarketingApprovals | null> = async () => {
      asked += 1;
      throw new Error('the helper worker died');
    };
    expect(await cache.decideMany(rows, same, { helper: failing })).toEqual(expected);

    // The helper reads after a sync changed a customer of this handle's half, which this handle
    // had already scanned: the two halves are not mixed, the whole list is read again.
    const i = entries.findIndex((e, j) => j % 2 && bucketOf(e.customer.id!, bits) < 2 ** bits / 2);
    const changed = entries[i]!.customer.id!;
    const writer = open(name);
    const helperHandle = open(name);
    const stale: ScanHelper<MarketingApprovals | null> = async (table, from, to) => {
      asked += 1;
      await new Promise((r) => setTimeout(r, 50)); // this handle's half is scanned meanwhile
      await writer.applyChanges(changes([up('consent', consent(i + 1, changed, { state: 'revoked' }), V + 1)]), 'chg');
      return structuredClone(await helperHandle.scanPart(structuredClone(table), from, to, same));
    };
    const answers = await cache.decideMany(rows, same, { helper: stale });
    expect(asked).toBe(2);
    expect(answers[i]!.consents).toEqual([expect.objectContaining({ customerId: changed, state: 'revoked' })]);
    expect(answers).toEqual(await cache.decideMany(rows, same, { scan: false }));

    // And the other way round: the helper reads its half before a sync changes a customer there,
    // and this handle reads its own after.
    const k = entries.findIndex((e, j) => j % 2 && bucketOf(e.customer.id!, bits) >= 2 ** bits / 2);
    const early: ScanHelper<MarketingApprovals | null> = (table, from, to) => {
      asked += 1;
      const part = helperHandle.scanPart(structuredClone(table), from, to, same);
      void writer.applyChanges(changes([up('consent', consent(k + 1, entries[k]!.customer.id!, { state: 'revoked' }), V + 1)]), 'chg2');
      return part.then((p) => structuredClone(p));
    };
    const after = await cache.decideMany(rows, same, { helper: early });
    expect(asked).toBe(3);

    // A sync page with no customer or consent in it (every minute's sync ends with one) does not
    // void a split running at the time: the helper's part is still taken. (This helper's part
    // claims nothing, so its customers come back unknown: the sign that it was used.)
    const idle: ScanHelper<MarketingApprovals | null> = async (table, from, to) => {
      await writer.applyChanges(changes([]), 'empty-page');
      const part = structuredClone(await helperHandle.scanPart(structuredClone(table), from, to, same));
      return { ...part, claims: { keys: new Uint32Array(0), ids: [], decided: [], several: [] } };
    };
    const withIdle = await cache.decideMany(rows, same, { helper: idle });
    const helperSide = entries.map((e, j) => (bucketOf(e.customer.id!, bits) >= 2 ** bits / 2 ? j : -1)).filter((j) => j >= 0);
    expect(helperSide.length).toBeGreaterThan(0);
    expect(helperSide.every((j) => withIdle[j] === null)).toBe(true);
    expect(after[k]!.consents).toEqual([expect.objectContaining({ state: 'revoked' })]);
    expect(after).toEqual(await cache.decideMany(rows, same, { scan: false }));
  });

  it('a bigger layout: pages that write whole and partial summary groups, then a compact that empties buckets, keep every answer', async () => {
    // 2^10 buckets: 64 records of summaries (16 buckets each), read in 4 chunks by a scan; pages
    // end inside a record and on its edge.
    const bits = 10;
    const entries = Array.from({ length: 300 }, (_, i) => base(i + 1, {}, i % 3 ? [consent(i + 1, `c${i + 1}`, { state: i % 2 ? 'opt_in' : 'denied' })] : []));
    const name = newName();
    const cache = open(name);
    const edges = [0, 16, 40, 41, 2 ** bits];
    for (let i = 0; i + 1 < edges.length; i++) await cache.applySnapshotPage(customersPage(entries, bits, edges[i]!, edges[i + 1]!, 'snap'));
    await cache.applySnapshotPage(identifiersPage(entries, bits, 0, 2 ** bits, 'snap'));
    expect(await cache.counts()).toEqual({ customers: 300, consents: 200 });
    const rows = entries.map((e) => ids({ crmId: e.customer.crmRefs![0]!.id }));
    const before = await approvalsMany(cache, rows);
    expect(before.every((a, i) => a?.customerId === `c${i + 1}`)).toBe(true);

    // Buckets by record: one record whose customers all sit in one bucket (it goes away whole),
    // and one with two buckets or more (one bucket empties, a customer of another one changes).
    const bucketsOf = new Map<number, Map<number, BaseEntry[]>>();
    for (const e of entries) {
      const b = bucketOf(e.customer.id!, bits);
      const inRecord = bucketsOf.get(b >> 4) ?? new Map<number, BaseEntry[]>();
      bucketsOf.set(b >> 4, inRecord.set(b, [...(inRecord.get(b) ?? []), e]));
    }
    const lone = [...bucketsOf.values()].find((m) => m.size === 1)!;
    const shared = [...bucketsOf.values()].find((m) => m.size >= 2)!;
    const [emptied, kept] = [...shared.values()];
    const gone = [...[...lone.values()][0]!, ...emptied!];
    const other = kept![0]!;
    // And a customer of the buckets gets a new phone: a scan finds it by the overlay's key.
    const moved = entries.find((e) => !gone.includes(e) && e !== other && e.consents?.length)!;
    await cache.applyChanges(
      changes([
        ...gone.map((e) => tomb('customer', e.customer.id!, V + 1)),
        up('consent', consent(9000, other.customer.id!, { state: 'revoked' }), 1),
        up('customer', customer(Number(moved.customer.id!.slice(1)), { phones: ['+14075550999'] }), V + 1),
      ]),
      'chg',
    );
    const expected = before.map((a, i) => {
      const id = `c${i + 1}`;
      if (gone.some((e) => e.customer.id === id)) return null;
      return id === other.customer.id ? { customerId: id, consents: [...a!.consents, expect.objectContaining({ id: 'k9000', state: 'revoked' })] } : a;
    });
    rows.push(ids({ phones: ['+14075550999'] }));
    expected.push(before[entries.indexOf(moved)]!);
    const counts = { customers: 300 - gone.length, consents: 200 - gone.reduce((n, e) => n + (e.consents?.length ?? 0), 0) + 1 };
    expect(expected.at(-1)?.customerId).toBe(moved.customer.id);
    expect(await approvalsMany(cache, rows)).toEqual(expected);
    expect(await cache.counts()).toEqual(counts);
    expect(await cache.compact(0)).toBe(true);
    expect(await approvalsMany(cache, rows)).toEqual(expected);
    expect(await cache.counts()).toEqual(counts);
    const second = open(name);
    expect(await approvalsMany(second, rows)).toEqual(expected);
  });

  it('compact() works on a cache that never had a snapshot', async () => {
    const name = newName();
    const cache = open(name);
    const feed = changes([
      POLICY_CHANGE,
      ...Array.from({ length: 12 }, (_, i) => up('customer', customer(i + 1), 1)),
      up('customer', customer(13, { phones: ['+14075550001'] }), 1), // shares c1's phone
      up('consent', consent(1, 'c1'), 1),
      up('consent', consent(2, 'c2', { state: 'revoked' }), 1),
      up('consent', consent(3, 'c3', { purpose: 'third_party' }), 1),
      up('consent', consent(4, 'c4'), 1),
      tomb('customer', 'c4', 2),
      up('customer', customer(5, { name: 'Five v2', emails: ['five@example.com'] }), 2),
    ]);
    await cache.applyChanges(feed, 'only-1');
    const rows = [
      ...Array.from({ length: 14 }, (_, i) => ids({ crmId: `crm-${i + 1}` })),
      ids({ phones: ['+14075550001'] }), // ambiguous
      ids({ phones: ['+14075550001'], emails: ['customer1@example.com'] }),
      ids({ emails: ['customer5@example.com'] }), // c5's old email
      ids({ emails: ['FIVE@example.com'] }),
    ];
    const before = await observe(cache, rows);
    expect(before.counts).toEqual({ customers: 12, consents: 3 });
    expect(before.found.map((f) => f?.customer.id ?? null)).toEqual([
      'c1', 'c2', 'c3', null, 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11', 'c12', 'c13', null, null, 'c1', null, 'c5',
    ]);

    expect(await cache.compact(0)).toBe(true);
    expect(await observe(cache, rows)).toEqual(before);
    await expectApprovalsAgree(cache, rows);
    expect(await cache.cursor()).toBe('only-1');
    expect(await cache.snapshotProgress()).toBeNull();
    expect(await cache.getPolicy()).toMatchObject({ approvalMode: 'opt_out_allowed' });

    const second = open(name);
    expect(await observe(second, rows)).toEqual(before);

    // and changes keep applying after it
    await second.applyChanges(changes([up('customer', customer(14), 1), tomb('customer', 'c13', 2)]), 'only-2');
    expect(idOf(await cache.findCustomer(ids({ phones: ['+14075550001'] })))).toBe('c1'); // no longer ambiguous
    expect(idOf(await cache.findCustomer(ids({ crmId: 'crm-14' })))).toBe('c14');
    expect(await cache.counts()).toEqual({ customers: 12, consents: 3 });
    await expectApprovalsAgree(cache, rows);
  });
});

describe('customer cache: an older layout on disk', () => {
  it('a cache written in the layout before (summaries one bucket to a record) is dropped and synced again', async () => {
    const name = newName();
    // Version 5 as Dexie stored it (IndexedDB version 50), with a synced cursor and a summary bucket.
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.open(name, 50);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore('customerBuckets', { keyPath: 'b' });
        db.createObjectStore('summaryBuckets', { keyPath: 'b' }).put({ b: 0, data: new Uint8Array(3), size: 3 });
        db.createObjectStore('identifierBuckets', { keyPath: 'b' });
        db.createObjectStore('overlay', { keyPath: 'seq', autoIncrement: true });
        for (const t of ['policy', 'adapters', 'campaigns']) db.createObjectStore(t, { keyPath: 'id' });
        const state = db.createObjectStore('syncState', { keyPath: 'key' });
        state.put({ key: 'cursor', value: 'old-cursor' });
        state.put({ key: 'layout', value: { bits: 3, customers: 1, consents: 0 } });
      };
      req.onsuccess = () => {
        req.result.close();
        resolve();
      };
      req.onerror = () => reject(req.error);
    });
    const cache = open(name);
    expect(await cache.cursor()).toBeNull(); // the next sync starts over with a snapshot
    expect(await cache.counts()).toEqual({ customers: 0, consents: 0 });
    await applyAll(cache, snapshotPages(world()));
    expect(await cache.counts()).toEqual(WORLD_COUNTS);
    expect(idOf(await cache.findCustomer(ids({ crmId: 'crm-5' })))).toBe('c5');
    await expectApprovalsAgree(cache, ROWS);
  });
});

describe('customer cache: several handles', () => {
  it('a handle that already looked up sees changes another handle applied', async () => {
    const name = newName();
    const a = await snapshotWorld(name);
    const b = open(name);
    expect((await b.findCustomer(ids({ crmId: 'crm-8' })))?.customer.name).toBe('Customer 8');
    expect(idOf(await b.findCustomer(ids({ phones: [MOVED_PHONE] })))).toBe('c9');
    expect(await b.counts()).toEqual(WORLD_COUNTS);
    expect((await approvalsMany(b, [ids({ crmId: 'crm-2' })]))[0]?.consents.map((c) => c.state)).toEqual(['none']);
    await a.applyChanges(CHANGES(), 'chg-1');

    expect((await b.findCustomer(ids({ crmId: 'crm-8' })))?.customer.name).toBe('Renamed Eight');
    expect(idOf(await b.findCustomer(ids({ phones: [MOVED_PHONE] })))).toBe('c10');
    expect(await b.findCustomer(ids({ crmId: 'crm-7' }))).toBeNull();
    expect(await b.counts()).toEqual({ customers: 10, consents: 8 });
    expect(await b.cursor()).toBe('chg-1');
    expect((await approvalsMany(b, [ids({ crmId: 'crm-2' })]))[0]?.consents.map((c) => c.state)).toEqual(['opt_in']);

    // and the other way round, after a compaction by A
    expect(await a.compact(0)).toBe(true);
    expect(await observe(b)).toEqual(await observe(a));
    await b.applyChanges(changes([up('customer', customer(8, { name: 'Eight by B' }), V + 3)]), 'chg-2');
    expect((await a.findCustomer(ids({ crmId: 'crm-8' })))?.customer.name).toBe('Eight by B');
    expect(await a.cursor()).toBe('chg-2');
  });
});

describe('customer cache: a compaction interrupted by another handle', () => {
  it('gives up when another handle clears the cache between its read and its write, and brings nothing back', async () => {
    const name = newName();
    const a = await snapshotWorld(name);
    await a.applyChanges(CHANGES(), 'chg-1');
    const b = open(name);
    const Real = globalThis.CompressionStream;
    let cleared: Promise<void> | null = null;
    // Compaction deflates between its read and its write: the first bucket it deflates waits until B has cleared.
    globalThis.CompressionStream = class {
      readonly readable: ReadableStream<Uint8Array>;
      readonly writable: WritableStream<BufferSource>;
      constructor(format: CompressionFormat) {
        const real = new Real(format);
        const held = (cleared ??= b.clear());
        const gate = new TransformStream<BufferSource, BufferSource>({
          async transform(chunk, out) {
            await held;
            out.enqueue(chunk);
          },
        });
        void gate.readable.pipeTo(real.writable).catch(() => undefined);
        this.writable = gate.writable;
        this.readable = real.readable;
      }
    } as unknown as typeof CompressionStream;
    try {
      expect(await a.compact(0)).toBe(false);
    } finally {
      globalThis.CompressionStream = Real;
    }
    expect(cleared).not.toBeNull();
    for (const cache of [a, b]) {
      expect(await cache.counts()).toEqual({ customers: 0, consents: 0 });
      for (const r of ROWS) expect(await cache.findCustomer(r)).toBeNull();
    }
    expect(await a.compact(0)).toBe(false);
  });
});

describe('customer cache: clear and streamAll', () => {
  it('clear() empties everything', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(CHANGES(), 'chg-1');
    expect(await cache.counts()).toEqual({ customers: 10, consents: 8 });
    await cache.clear();
    expect(await cache.counts()).toEqual({ customers: 0, consents: 0 });
    expect(await cache.cursor()).toBeNull();
    expect(await cache.snapshotProgress()).toBeNull();
    expect(await cache.getPolicy()).toBeNull();
    for (const r of ROWS) expect(await cache.findCustomer(r)).toBeNull();
    expect(await approvalsMany(cache, ROWS)).toEqual(ROWS.map(() => null));
    expect(await cache.streamAll(() => {})).toBe(0);
    expect(await cache.compact(0)).toBe(false);

    // and the cache takes a new snapshot afterwards
    await applyAll(cache, snapshotPages(world(), { bits: 2 }));
    expect(await cache.counts()).toEqual(WORLD_COUNTS);
    expect(idOf(await cache.findCustomer(ids({ crmId: 'crm-8' })))).toBe('c8');
  });

  it('clear() an unfinished snapshot', async () => {
    const cache = open(newName());
    const pages = snapshotPages(world());
    await cache.applySnapshotPage(pages[0]);
    await cache.clear();
    expect(await cache.snapshotProgress()).toBeNull();
    expect(await cache.counts()).toEqual({ customers: 0, consents: 0 });
    await expect(cache.applySnapshotPage(pages[1])).rejects.toThrow(/out of order/);
  });

  it('streamAll visits every live customer once, base and overlay-only, with merged data', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(CHANGES(), 'chg-1');
    const seen: CachedCustomer[] = [];
    const n = await cache.streamAll(async (e) => {
      await Promise.resolve(); // the callback may await
      seen.push(e);
    });
    const idsSeen = seen.map((e) => e.customer.id);
    expect(n).toBe(seen.length);
    expect(new Set(idsSeen).size).toBe(idsSeen.length);
    expect([...idsSeen].sort()).toEqual(['c1', 'c10', 'c11', 'c2', 'c3', 'c4', 'c5', 'c6', 'c8', 'c9']);
    const get = (id: string) => seen.find((e) => e.customer.id === id)!;
    expect(get('c8').customer.name).toBe('Renamed Eight');
    expect(get('c9').customer.phones).toEqual(['+14075558888']);
    expect(get('c10').customer.phones).toEqual(['+14075550010', MOVED_PHONE]);
    expect(get('c2').consents.map((c) => [c.id, c.state])).toEqual([['k3', 'opt_in']]);
    expect(get('c11').consents.map((c) => c.id)).toEqual(['k9']);
    expect(get('c4').consents.map((c) => c.id)).toEqual(['k10']);
    expect(byId(get('c1').consents).map((c) => c.id)).toEqual(['k1', 'k2']);
    // every streamed entry is what findCustomer answers for it
    for (const e of seen) expect(normalize(await cache.findCustomer(ids({ crmId: e.customer.crmRefs[0]!.id })))).toEqual(normalize(e));
    // the counts agree with what is streamed
    expect(await cache.counts()).toEqual({ customers: seen.length, consents: seen.reduce((s, e) => s + e.consents.length, 0) });
  });

  it('streamAll on an empty cache and on a changes-only cache', async () => {
    const cache = open(newName());
    expect(await cache.streamAll(() => {})).toBe(0);
    await cache.applyChanges(changes([up('customer', customer(1), 1), up('customer', customer(2), 1), tomb('customer', 'c2', 2)]), 'x');
    const seen: string[] = [];
    expect(await cache.streamAll((e) => void seen.push(e.customer.id))).toBe(1);
    expect(seen).toEqual(['c1']);
  });
});

// ---- edge cases found in review (each was a bug once; the last is a known limit) ----

describe('customer cache: edge cases', () => {
  // The generation number must survive clear() and a new snapshot: a number a handle already
  // holds coming back would leave that handle with stale overlay, layout, decoded buckets and counts.
  it('counts() after clear() on the same handle answer zero', async () => {
    const cache = open(newName());
    await cache.applyChanges(changes([up('customer', customer(1), 1)]), 'x'); // generation 1
    expect(await cache.counts()).toEqual({ customers: 1, consents: 0 }); // memo for generation 1
    await cache.clear(); // the generation goes on counting across clear()
    expect(await cache.findCustomer(ids({ crmId: 'crm-1' }))).toBeNull();
    expect(await cache.counts()).toEqual({ customers: 0, consents: 0 });
  });

  it('counts() after a new snapshot with as many pages as the last one answer the new counts', async () => {
    const cache = await snapshotWorld(); // 4 pages: generation 4
    expect(await cache.counts()).toEqual(WORLD_COUNTS);
    await applyAll(cache, snapshotPages([base(1), base(20, {}, [consent(20, 'c20')])], { cursors: ['re-1', 're-2', 're-3', 're-4'] })); // generation 1..4
    expect(idOf(await cache.findCustomer(ids({ crmId: 'crm-20' })))).toBe('c20');
    expect(await cache.counts()).toEqual({ customers: 2, consents: 1 });
  });

  it('a handle no longer finds a customer another handle cleared', async () => {
    const name = newName();
    const a = open(name);
    const b = open(name);
    await a.applyChanges(changes([up('customer', customer(1), 1)]), 'x'); // generation 1
    expect(idOf(await b.findCustomer(ids({ crmId: 'crm-1' })))).toBe('c1'); // B decodes at generation 1
    await a.clear(); // generation 1 again
    expect(await a.findCustomer(ids({ crmId: 'crm-1' }))).toBeNull();
    expect(await b.findCustomer(ids({ crmId: 'crm-1' }))).toBeNull();
  });

  it('a handle sees the new data after another handle took a new snapshot', async () => {
    const name = newName();
    const a = await snapshotWorld(name); // generation 4
    const b = open(name);
    expect((await b.findCustomer(ids({ crmId: 'crm-1' })))?.customer.name).toBe('Customer 1');
    await applyAll(a, snapshotPages([base(1, { name: 'Re-synced One' }), base(20)], { cursors: ['re-1', 're-2', 're-3', 're-4'] })); // generation 4 again
    expect((await a.findCustomer(ids({ crmId: 'crm-1' })))?.customer.name).toBe('Re-synced One');
    expect((await b.findCustomer(ids({ crmId: 'crm-1' })))?.customer.name).toBe('Re-synced One');
  });

  // A consent tombstone carries no customer id: the summaries keep every consent id with its
  // version, so approvalsMany and counts() see the tombstone on a customer nothing else changed.
  // (compact() leaves such a tombstone in the overlay; it goes on applying.)
  it('approvalsMany drops a standing marketing consent that was tombstoned', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(changes([tomb('consent', 'k1', V + 1)]), 't');
    expect((await cache.findCustomer(ids({ crmId: 'crm-1' })))!.consents.map((c) => c.id)).toEqual(['k2']);
    const [row] = await approvalsMany(cache, [ids({ crmId: 'crm-1' })]);
    expect(row).toEqual({ customerId: 'c1', consents: [] });
  });

  it('approvalsMany drops a tombstoned consent after compact(0) as well', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(changes([tomb('consent', 'k1', V + 1)]), 't');
    expect(await cache.compact(0)).toBe(true);
    expect((await cache.findCustomer(ids({ crmId: 'crm-1' })))!.consents.map((c) => c.id)).toEqual(['k2']);
    await expectApprovalsAgree(cache, [ids({ crmId: 'crm-1' })]);
  });

  it('counts() drop a tombstoned consent of a customer nothing else changed', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(changes([tomb('consent', 'k1', V + 1)]), 't');
    expect(await cache.counts()).toEqual({ customers: 10, consents: 7 });
  });

  // A consent upsert that moves a consent to another customer names the new owner only: the
  // old owner's summary still lists it. approvalsMany drops it there (the overlay's version
  // wins); counts() cannot know the old owner without reading every summary: a known limit.
  it('approvalsMany no longer answers a consent moved to another customer for its old customer', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(changes([up('consent', consent(1, 'c4'), V + 1)]), 'm'); // k1: c1 -> c4
    expect((await cache.findCustomer(ids({ crmId: 'crm-1' })))!.consents.map((c) => c.id)).toEqual(['k2']);
    expect((await cache.findCustomer(ids({ crmId: 'crm-4' })))!.consents.map((c) => c.id)).toEqual(['k1']);
    const [one] = await approvalsMany(cache, [ids({ crmId: 'crm-1' })]);
    expect(one).toEqual({ customerId: 'c1', consents: [] });
  });

  it.fails('KNOWN LIMIT: counts() count a consent moved to another customer twice (a consent change does not say its old customer)', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(changes([up('consent', consent(1, 'c4'), V + 1)]), 'm');
    expect(await cache.counts()).toEqual(WORLD_COUNTS); // fails: { customers: 10, consents: 9 }
  });

  // Versions decide in approvalsMany as in findCustomer: an overlay op OLDER than the snapshot's
  // customer neither hides the customer from its keys nor names it by keys it no longer has.
  it('approvalsMany ignores an older customer version than the snapshot holds', async () => {
    const cache = await snapshotWorld();
    // c4 in the snapshot: version V, phone +14075550004. An older version had another phone.
    await cache.applyChanges(changes([up('customer', customer(4, { accountNumber: 'ACCT-44', phones: ['+14075557777'] }), V - 2)]), 'o');
    const rows = [ids({ phones: ['+14075550004'] }), ids({ phones: ['+14075557777'] })];
    expect(idOf(await cache.findCustomer(rows[0]!))).toBe('c4');
    expect(await cache.findCustomer(rows[1]!)).toBeNull();
    const approvals = await approvalsMany(cache, rows);
    expect(approvals.map((a) => a?.customerId ?? null)).toEqual(['c4', null]);
  });

  it('approvalsMany ignores a tombstone older than the snapshot', async () => {
    const cache = await snapshotWorld();
    await cache.applyChanges(changes([tomb('customer', 'c4', V - 2)]), 'o');
    expect(idOf(await cache.findCustomer(ids({ accountNumber: 'ACCT-44' })))).toBe('c4');
    expect(await cache.counts()).toEqual(WORLD_COUNTS);
    const [row] = await approvalsMany(cache, [ids({ accountNumber: 'ACCT-44' })]);
    expect(row).toEqual({ customerId: 'c4', consents: [] });
  });

  // The summary keeps every consent's version, so an older overlay consent does not replace a
  // newer one that is not standing marketing.
  it('approvalsMany ignores an older consent version when the newer one is not standing marketing', async () => {
    const cache = await snapshotWorld();
    // k2 in the snapshot: third_party, version V. An older version V-1 was marketing/standing opt_in.
    await cache.applyChanges(changes([up('consent', consent(2, 'c1'), V - 1)]), 'o');
    expect((await cache.findCustomer(ids({ crmId: 'crm-1' })))!.consents.find((c) => c.id === 'k2')).toMatchObject({ purpose: 'third_party', version: V });
    const [row] = await approvalsMany(cache, [ids({ crmId: 'crm-1' })]);
    expect(row!.consents.map((c) => c.id)).toEqual(['k1']);
  });
});

describe('KeyTable (a scrub list\'s keys by number)', () => {
  it('finds every key it holds at every size, also when finding one grows its buffer', () => {
    const table = new KeyTable();
    const first = 'mail:a.rather.long.first.address@example.com';
    expect(table.add(first)).toBe(0);
    for (let i = 1; i < 20_000; i++) {
      // keys of 6-11 bytes (~150 KB in all, past the first 64 KB buffer and the next): the
      // buffer's end is met at many offsets, some within reach of a find but not of an add
      expect(table.add(`k${i.toString(36)}${'x'.repeat(i % 5)}`)).toBe(i);
      expect(table.find(first)).toBe(0);
      expect(table.find('tel:+10000000000')).toBe(-1);
    }
    expect(table.add(first)).toBe(0); // a repeated key keeps its number
    expect(table.find('kü✓"\\')).toBe(-1);
    expect(table.add('kü✓"\\')).toBe(20_000);
    expect(table.find('kü✓"\\')).toBe(20_000);
    expect(table.size).toBe(20_001);
    // the keys as text again, from the bytes it keeps
    expect(table.keyAt(0)).toBe(first);
    expect(table.keyAt(20_000)).toBe('kü✓"\\');
    const all = table.all();
    expect(all).toHaveLength(20_001);
    expect(all[7]).toBe(`k${(7).toString(36)}${'x'.repeat(2)}`);
  });

  it('made with room for the keys it expects, numbers them as one that grew, and still grows past them', () => {
    const keys = Array.from({ length: 5_000 }, (_, i) => `tel:+1${2000000000 + (i % 4_000)}`); // 1,000 repeated
    const grown = new KeyTable();
    const sized = new KeyTable(1_000); // fewer than it gets
    expect(keys.map((k) => sized.add(k))).toEqual(keys.map((k) => grown.add(k)));
    expect(sized.size).toBe(4_000);
    expect(sized.find('tel:+12000003999')).toBe(3_999);
    expect(KeyTable.fromData(sized.toData()).all()).toEqual(grown.all());
    // and a table sized for more keys than it got holds together for the scan helper's check
    const roomy = new KeyTable(100_000);
    roomy.add('tel:+12000000001');
    const request = { type: 'scan', id: 1, cacheName: 'c', policy: DEFAULT_POLICY, now: new Date().toISOString(), from: 0, to: 1, table: roomy.toData() };
    expect(ScanRequest.safeParse(request).success).toBe(true);
    expect(new KeyTable(Number.POSITIVE_INFINITY).add('k')).toBe(0); // an estimate it cannot use is ignored
  });

  it('holds each key as the bytes of its JSON string, as a summary line spells it, whatever the key holds', () => {
    const table = new KeyTable();
    const awkward = ['crm:x:a"b', 'crm:x:a\\b', 'crm:x:tab\there', 'crm:x:del\u007f', 'crm:x:\u00e9', 'crm:x:😀', 'crm:x:\ud800', 'acct: 12 '];
    for (const key of awkward) {
      const i = table.add(key);
      const json = new TextEncoder().encode(JSON.stringify(key));
      expect(table.indexOf(json, 0, json.length), key).toBe(i);
      expect(table.keyAt(i)).toBe(key);
    }
  });
});
