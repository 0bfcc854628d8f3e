// First-sync snapshots (GET /api/sync/snapshot) and on-demand lookups (GET /api/customers/lookup):
// whole buckets that cover every live customer and identifier key exactly once, the same JSON
// the change feed sends, a cursor that loses nothing, and the bucket columns kept right on
// every write path (and by the migration's backfill).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  LookupResponse,
  SNAPSHOT_MAX_ROWS,
  SnapshotCustomersPage,
  SnapshotIdentifiersPage,
  type Change,
  type CustomerEntry,
} from '../../lib/api';
import { accountKey, bucket16, crmKey, customerKeys, emailKey, phoneKey, suggestBucketBits } from '../../lib/buckets';
import type { Consent, Customer } from '../../lib/schemas';
import { migrate, openSqliteStore } from '../../server/db';
import { consentRow, customerRow, setup, T0 } from './helpers';

type T = Awaited<ReturnType<typeof setup>>;
type Paging = { bits?: number; maxRows?: number };

async function getPage(t: T, phase: 'customers' | 'identifiers', from: number, { bits, maxRows }: Paging) {
  const q = new URLSearchParams({ phase, from: String(from) });
  if (bits !== undefined) q.set('bits', String(bits));
  if (maxRows !== undefined) q.set('maxRows', String(maxRows));
  const r = await t.call('rep', 'GET', `/api/sync/snapshot?${q}`);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  return r.json as unknown;
}

/** Every page of a phase, each checked against the contract's schema and chained by from/to. */
async function allPages<P extends { from: number; to: number; done: boolean; bits: number }>(
  t: T,
  phase: 'customers' | 'identifiers',
  parse: (raw: unknown) => P,
  paging: Paging = {},
): Promise<P[]> {
  const pages: P[] = [];
  let from = 0;
  let bits = paging.bits;
  for (;;) {
    const page = parse(await getPage(t, phase, from, { ...paging, bits }));
    expect(page.from).toBe(from);
    if (bits !== undefined) expect(page.bits).toBe(bits);
    bits = page.bits;
    pages.push(page);
    if (page.done) return pages;
    expect(page.to).toBeGreaterThan(from);
    from = page.to;
  }
}
const customerPages = (t: T, paging?: Paging) => allPages(t, 'customers', (r) => SnapshotCustomersPage.parse(r), paging);
const identifierPages = (t: T, paging?: Paging) => allPages(t, 'identifiers', (r) => SnapshotIdentifiersPage.parse(r), paging);

/** Whole buckets: none empty, in order, and a page stops at the first bucket that reaches maxRows. */
function expectWholeBucketPaging<B extends { b: number }>(pages: { buckets: B[]; done: boolean }[], sizeOf: (b: B) => number, maxRows: number) {
  for (const page of pages) {
    const sizes = page.buckets.map(sizeOf);
    expect(sizes.every((n) => n > 0)).toBe(true);
    const bs = page.buckets.map((b) => b.b);
    expect(bs).toEqual([...bs].sort((a, b) => a - b));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (!page.done) expect(total).toBeGreaterThanOrEqual(maxRows);
    if (sizes.length) expect(total - sizes[sizes.length - 1]!).toBeLessThan(maxRows);
  }
}

const byId = <X extends { id: string }>(xs: X[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** What a full pull says is live: customers and their consents, as the feed sends them. */
async function liveByPull(t: T) {
  const { changes, cursor } = await t.pullAll(undefined, 5000);
  const customers = new Map<string, Customer>();
  const consents = new Map<string, Consent[]>();
  for (const c of changes) {
    if (c.op !== 'upsert') continue;
    if (c.entity === 'customer') customers.set(c.id, c.data);
    if (c.entity === 'consent') consents.set(c.data.customerId, [...(consents.get(c.data.customerId) ?? []), c.data]);
  }
  const others = changes.filter((c) => c.op === 'upsert' && (c.entity === 'policy' || c.entity === 'adapter' || c.entity === 'campaign'));
  return { customers, consents, others, cursor };
}

const ODD_ID = 'Q"uote\\7';
const ODD_REF = { crm: 'odd:crm name', id: 'x"y\\z' };

/** The demo customers, 250 more (every other with consents, some sharing a phone), one with awkward ids, two tombstoned. */
async function population() {
  const t = await setup({ demo: true });
  const rows: unknown[] = [];
  for (let i = 1; i <= 250; i++) {
    const id = `X-${String(i).padStart(4, '0')}`;
    rows.push(customerRow(id));
    if (i % 2) rows.push(consentRow(`${id}-m`, id), consentRow(`${id}-t`, id, { purpose: 'third_party', state: 'denied' }));
  }
  rows.push(customerRow(ODD_ID, { crmRefs: [ODD_REF, { crm: 'test-crm', id: ODD_ID }], emails: ['Odd.One@Example.COM'] }));
  rows.push(consentRow('odd-consent', ODD_ID, { evidence: 'said "yes" \\ on the line\n(recorded)' }));
  expect((await t.call('admin', 'POST', '/api/import/customers', rows)).status).toBe(200);
  const gone = [
    { type: 'tombstone', entity: 'customer', id: 'X-0003' },
    { type: 'tombstone', entity: 'customer', id: 'X-0004' },
  ];
  expect((await t.call('admin', 'POST', '/api/import/customers', gone)).status).toBe(200);
  return t;
}
const TOMBSTONED = ['X-0003', 'X-0004'];

describe('first-sync snapshot: customers', () => {
  it('pages of whole buckets cover every live customer exactly once, with the JSON the feed sends', async () => {
    const t = await population();
    const live = await liveByPull(t);
    expect(live.customers.size).toBe(36 + 250 + 1 - 2);
    for (const paging of [
      { bits: 5, maxRows: 20 },
      { bits: 0, maxRows: 4000 },
      { bits: 16, maxRows: 1 },
      { bits: 3, maxRows: 20_000 },
    ]) {
      const pages = await customerPages(t, paging);
      expectWholeBucketPaging(pages, (b) => b.customers.length, paging.maxRows);
      const entries: CustomerEntry[] = pages.flatMap((p) => p.buckets.flatMap((b) => b.customers));
      const ids = entries.map((e) => e.customer.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual([...live.customers.keys()].sort());
      for (const e of entries) {
        expect(e.customer).toEqual(live.customers.get(e.customer.id));
        expect(byId(e.consents)).toEqual(byId(live.consents.get(e.customer.id) ?? []));
      }
      for (const id of TOMBSTONED) expect(ids).not.toContain(id);
    }
  });

  it('the awkward customer survives the JSON built from stored text', async () => {
    const t = await population();
    const pages = await customerPages(t, { bits: 2 });
    const odd = pages.flatMap((p) => p.buckets.flatMap((b) => b.customers)).find((e) => e.customer.id === ODD_ID)!;
    expect(odd.customer.crmRefs[0]).toEqual(ODD_REF);
    expect(odd.customer.emails).toEqual(['odd.one@example.com']);
    expect(odd.consents.map((c) => c.evidence)).toEqual(['said "yes" \\ on the line\n(recorded)']);
  });

  it('the page from 0 carries the policy, adapters and campaigns as the feed does; later pages none', async () => {
    const t = await population();
    await t.store.putAdapter('acme-desk', { id: 'acme-desk', name: 'Acme' }, T0);
    await t.store.putAdapter('gone-desk', { id: 'gone-desk' }, T0);
    await t.store.deleteAdapter('gone-desk', T0);
    const campaign = await t.call('marketing', 'POST', '/api/campaigns', {
      name: 'Fiber Fall Promo',
      description: 'Offer fiber internet to wireless customers',
      cpniUsed: ['services subscribed'],
      productsOffered: ['Fiber 1G'],
      channel: 'email',
      startsAt: '2025-07-01',
      solicitsApproval: false,
    });
    expect(campaign.status).toBe(201);
    const live = await liveByPull(t);
    const key = (c: Change) => `${c.entity}:${c.id}`;
    expect(live.others.map(key).sort()).toEqual(['adapter:acme-desk', `campaign:${campaign.json.id}`, 'policy:current']);

    const pages = await customerPages(t, { bits: 4, maxRows: 10 });
    expect(pages.length).toBeGreaterThan(2);
    expect([...pages[0]!.others].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      [...live.others].sort((a, b) => key(a).localeCompare(key(b))),
    );
    for (const p of pages.slice(1)) expect(p.others).toEqual([]);
    expect(Object.keys((await getPage(t, 'identifiers', 0, { bits: 4 })) as object)).not.toContain('others');
  });

  it('omitting bits picks suggestBucketBits(live customers), for either phase', async () => {
    const small = await setup({ demo: true });
    const one = SnapshotCustomersPage.parse(await getPage(small, 'customers', 0, {}));
    expect(one.bits).toBe(suggestBucketBits(36));
    expect(one).toMatchObject({ bits: 0, from: 0, to: 1, done: true });
    expect(one.buckets.flatMap((b) => b.customers)).toHaveLength(36);

    const t = await population();
    const live = 36 + 250 + 1 - 2;
    expect(suggestBucketBits(live)).toBe(3);
    expect(SnapshotCustomersPage.parse(await getPage(t, 'customers', 0, {})).bits).toBe(3);
    expect(SnapshotIdentifiersPage.parse(await getPage(t, 'identifiers', 0, {})).bits).toBe(3);
    const pages = await customerPages(t);
    expect(pages.flatMap((p) => p.buckets.flatMap((b) => b.customers))).toHaveLength(live);
  });

  it('a change made after the first page is delivered by pull after the first page’s cursor', async () => {
    const t = await population();
    const first = SnapshotCustomersPage.parse(await getPage(t, 'customers', 0, { bits: 3, maxRows: 10 }));
    // The cursor is where the feed stood: nothing comes after it yet.
    const before = await t.pullAll(first.cursor);
    expect(before.changes).toEqual([]);
    expect(before.cursor).toBe(first.cursor);

    const edits = [
      customerRow('X-0010', { name: 'Renamed Later' }),
      { type: 'tombstone', entity: 'customer', id: 'X-0011' },
      consentRow('X-0012-late', 'X-0012'),
    ];
    expect((await t.call('admin', 'POST', '/api/import/customers', edits)).status).toBe(200);
    await t.call('admin', 'PUT', '/api/policy', { approvalMode: 'opt_out_allowed' });

    let page = first;
    while (!page.done) page = SnapshotCustomersPage.parse(await getPage(t, 'customers', page.to, { bits: 3, maxRows: 10 }));
    const delta = await t.pullAll(first.cursor);
    const got = delta.changes.map((c) => `${c.op} ${c.entity} ${c.id}`).sort();
    expect(got).toEqual(
      [
        'upsert customer X-0010',
        'tombstone customer X-0011',
        'tombstone consent X-0011-m',
        'tombstone consent X-0011-t',
        'upsert consent X-0012-late',
        'upsert policy current',
      ].sort(),
    );
    expect(delta.changes.find((c) => c.id === 'X-0010')).toMatchObject({ data: { name: 'Renamed Later' } });
  });

  it('refuses a malformed query and a range past the layout; the end of the layout is an empty, done page', async () => {
    const t = await population();
    for (const q of ['', 'phase=nope', 'phase=customers&bits=17', 'phase=customers&from=-1', 'phase=customers&maxRows=0', `phase=customers&maxRows=${SNAPSHOT_MAX_ROWS + 1}`, 'phase=identifiers&bits=x']) {
      const r = await t.call('rep', 'GET', `/api/sync/snapshot?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json).toMatchObject({ error: 'invalid_query' });
    }
    const past = await t.call('rep', 'GET', '/api/sync/snapshot?phase=customers&bits=2&from=5');
    expect(past.status).toBe(400);
    expect(past.json).toMatchObject({ error: 'invalid_query', issues: [{ path: 'from' }] });
    const end = SnapshotCustomersPage.parse(await getPage(t, 'customers', 4, { bits: 2 }));
    expect(end).toMatchObject({ from: 4, to: 4, done: true, buckets: [], others: [] });
  });

  it('needs a session; any role may read', async () => {
    const t = await setup({ demo: true });
    expect((await t.call(null, 'GET', '/api/sync/snapshot?phase=customers')).status).toBe(401);
    expect((await t.call(null, 'GET', '/api/sync/snapshot?phase=identifiers')).status).toBe(401);
    for (const role of ['rep', 'marketing', 'manager', 'counsel', 'admin'] as const) {
      expect((await t.call(role, 'GET', '/api/sync/snapshot?phase=customers')).status).toBe(200);
    }
  });
});

describe('first-sync snapshot: identifiers', () => {
  it('serves exactly customerKeys of every live customer, once per (key, customer), in whole buckets', async () => {
    const t = await population();
    const live = await liveByPull(t);
    const expected = [...live.customers.values()].flatMap((c) => customerKeys(c).map((k) => `${k} -> ${c.id}`)).sort();
    for (const paging of [
      { bits: 4, maxRows: 50 },
      { bits: 0, maxRows: 20_000 },
      { bits: 16, maxRows: 7 },
    ]) {
      const pages = await identifierPages(t, paging);
      expectWholeBucketPaging(pages, (b) => b.keys.length, paging.maxRows);
      const pairs = pages.flatMap((p) => p.buckets.flatMap((b) => b.keys.map(([k, id]) => `${k} -> ${id}`)));
      expect(pairs.length).toBe(new Set(pairs).size);
      expect([...pairs].sort()).toEqual(expected);
      // In the index order the contract promises (bucket16, key, id): a key's rows are adjacent.
      for (const { keys } of pages.flatMap((p) => p.buckets)) {
        const order = keys.map(([k, id]) => [bucket16(k), k, id] as const);
        const sorted = [...order].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
        expect(order).toEqual(sorted);
      }
    }
    const all = (await identifierPages(t, { bits: 2 })).flatMap((p) => p.buckets.flatMap((b) => b.keys));
    for (const id of TOMBSTONED) expect(all.filter(([, c]) => c === id)).toEqual([]);
    expect(all).toContainEqual([crmKey(ODD_REF.crm, ODD_REF.id), ODD_ID]);
    expect(all).toContainEqual([emailKey('odd.one@example.com'), ODD_ID]);
  });
});

describe('customer lookup (on-demand mode)', () => {
  async function lookup(t: T, ...keys: string[]) {
    const q = new URLSearchParams();
    for (const k of keys) q.append('key', k);
    const r = await t.call('rep', 'GET', `/api/customers/lookup?${q}`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return LookupResponse.parse(r.json);
  }
  const ids = (r: LookupResponse) => r.matches.map((m) => m.customer.id).sort();

  it('finds customers by CRM ref, account number, phone and email, with their consents', async () => {
    const t = await population();
    const live = await liveByPull(t);
    const ada = await lookup(t, crmKey('demo-crm', 'C-1001'));
    expect(ids(ada)).toEqual(['C-1001']);
    expect(ada.matches[0]!.customer).toEqual(live.customers.get('C-1001'));
    expect(byId(ada.matches[0]!.consents)).toEqual(byId(live.consents.get('C-1001')!));
    expect(ada.cursor).toBe(live.cursor);

    expect(ids(await lookup(t, crmKey('salesforce', '003Dn00000ZAda1IAD')))).toEqual(['C-1001']);
    expect(ids(await lookup(t, accountKey(' ACCT-700003 ')))).toEqual(['C-1003']);
    expect(ids(await lookup(t, emailKey('ADA.OptedIn@Example.com')))).toEqual(['C-1001']);
    expect(ids(await lookup(t, crmKey(ODD_REF.crm, ODD_REF.id)))).toEqual([ODD_ID]);
    // A shared phone names every customer that has it.
    expect(ids(await lookup(t, phoneKey('+14075550102')))).toEqual(['C-1002', 'X-0002', 'X-0102', 'X-0202']);
    // Several keys: every customer any of them names, each once.
    expect(ids(await lookup(t, crmKey('demo-crm', 'C-1001'), accountKey('ACCT-700001'), crmKey('test-crm', 'X-0005')))).toEqual([
      'C-1001',
      'X-0005',
    ]);
  });

  it('answers empty for unknown keys and tombstoned customers', async () => {
    const t = await population();
    expect((await lookup(t, crmKey('demo-crm', 'C-0000'))).matches).toEqual([]);
    expect((await lookup(t, 'no-such-key', 'mail:nobody@example.com')).matches).toEqual([]);
    expect((await lookup(t, crmKey('test-crm', 'X-0003'), accountKey('ACCT-X-0004'))).matches).toEqual([]);
  });

  it('follows re-imports and tombstones: old identifiers stop matching, a revived customer is back', async () => {
    const t = await population();
    const phone = '+19995550123';
    const moved = [customerRow('X-0005', { phones: [phone], emails: ['new.x5@example.com'] }), { type: 'tombstone', entity: 'customer', id: 'X-0006' }];
    expect((await t.call('admin', 'POST', '/api/import/customers', moved)).status).toBe(200);
    expect(ids(await lookup(t, phoneKey(phone)))).toEqual(['X-0005']);
    expect(ids(await lookup(t, emailKey('x-0005@example.com')))).toEqual([]);
    expect(ids(await lookup(t, emailKey('new.x5@example.com')))).toEqual(['X-0005']);
    expect(ids(await lookup(t, crmKey('test-crm', 'X-0006')))).toEqual([]);

    expect((await t.call('admin', 'POST', '/api/import/customers', [customerRow('X-0006')])).status).toBe(200);
    const back = await lookup(t, crmKey('test-crm', 'X-0006'));
    expect(ids(back)).toEqual(['X-0006']);
    expect((await lookup(t, crmKey('test-crm', 'X-0007'))).matches[0]!.consents.map((c) => c.id).sort()).toEqual(['X-0007-m', 'X-0007-t']);
  });

  it('refuses a malformed query (400) and needs a session (401)', async () => {
    const t = await setup({ demo: true });
    for (const q of ['', 'key=', `${Array.from({ length: 21 }, (_, i) => `key=k${i}`).join('&')}`, `key=${'x'.repeat(401)}`]) {
      const r = await t.call('rep', 'GET', `/api/customers/lookup?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json).toMatchObject({ error: 'invalid_query' });
    }
    expect((await t.call(null, 'GET', `/api/customers/lookup?key=${encodeURIComponent(crmKey('demo-crm', 'C-1001'))}`)).status).toBe(401);
  });
});

describe('bucket columns', () => {
  /** Rows whose bucket column or rowid range disagrees with lib's bucket16 (should be none). */
  function misplaced(db: Database.Database) {
    return db
      .prepare(
        `SELECT
           (SELECT count(*) FROM customers WHERE bucket IS NOT bucket16(id) OR (rowid >> 36) IS NOT bucket) +
           (SELECT count(*) FROM consents WHERE (rowid >> 36) IS NOT bucket16(customer_id)) +
           (SELECT count(*) FROM customer_keys WHERE bucket IS NOT bucket16(key))`,
      )
      .pluck()
      .get();
  }

  it('stay right on every write path: import, tombstone, revival, password, consent capture, account change', async () => {
    const t = await population(); // the demo seed also sets customer passwords
    await t.call('admin', 'POST', '/api/import/customers', [{ type: 'tombstone', entity: 'customer', id: 'X-0020' }]);
    await t.call('admin', 'POST', '/api/import/customers', [customerRow('X-0020'), consentRow('X-0020-new', 'X-0020')]);
    const capture = await t.call('rep', 'POST', '/api/consents/captures', {
      consents: [
        {
          id: 'cap-1',
          customerId: 'X-0030',
          purpose: 'marketing',
          state: 'opt_in',
          method: 'oral',
          capturedBy: 'rep@demo.test',
          capturedAt: T0.toISOString(),
          noticeVersion: (await t.call('rep', 'GET', '/api/notices/current')).json.version,
          updatedAt: T0.toISOString(),
        },
      ],
    });
    expect(capture.json).toMatchObject({ accepted: ['cap-1'] });
    const change = await t.call('rep', 'POST', '/api/customers/C-1008/account-changes', {
      id: '0190a4c2-0000-7000-8000-000000000001',
      field: 'address_of_record',
      source: 'crm',
      changedAt: T0.toISOString(),
    });
    expect(change.status).toBe(201);
    expect(misplaced(t.store.db)).toBe(0);
    const keys = t.store.db.prepare(`SELECT key FROM customer_keys WHERE customer_id = 'X-0020' ORDER BY key`).pluck().all();
    expect(keys).toEqual(customerKeys((await t.store.getCustomer('X-0020'))!).sort());
    const entry = (await customerPages(t, { bits: 1 })).flatMap((p) => p.buckets.flatMap((b) => b.customers)).find((e) => e.customer.id === 'X-0030')!;
    expect(entry.consents.map((c) => c.id)).toEqual(['cap-1']);
  });

  it('the migration backfills them for a database written before it, and repairs stale versions in stored JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpni-snapshot-'));
    try {
      const file = join(dir, 'v3.db');
      const old = new Database(file);
      migrate(old, T0, 3);
      const customer = (id: string, n: number): Customer => ({
        id,
        accountNumber: `ACCT-${id}`,
        name: `Old ${id}`,
        crmRefs: [{ crm: 'demo-crm', id }, ODD_REF],
        phones: [`+1407555${1000 + n}`],
        emails: [`${id.toLowerCase()}@example.com`],
        addressOfRecord: null,
        serviceCategories: ['wireless'],
        business: null,
        passwordEstablished: false,
        version: 1,
        updatedAt: T0.toISOString(),
      });
      const put = old.prepare(`INSERT INTO customers (id, account_number, data, version, deleted_at) VALUES (?,?,?,?,?)`);
      const consent = old.prepare(
        `INSERT INTO consents (id, customer_id, data, version, created_at, updated_at) VALUES (?,?,?,?,?,?)`,
      );
      const ids = Array.from({ length: 40 }, (_, i) => `M-${i}`);
      ids.forEach((id, i) => put.run(id, `ACCT-${id}`, JSON.stringify(customer(id, i)), i === 0 ? 3 : 1, i === 1 ? T0.toISOString() : null));
      const k: Consent = {
        id: 'M-0-k',
        customerId: 'M-0',
        purpose: 'marketing',
        state: 'opt_in',
        method: 'written',
        scope: 'standing',
        callId: null,
        capturedBy: 'rep@demo.test',
        capturedAt: T0.toISOString(),
        noticeVersion: 'N-1',
        noticeSentAt: null,
        noticeMailed: false,
        evidence: null,
        version: 1,
        updatedAt: T0.toISOString(),
      };
      consent.run(k.id, 'M-0', JSON.stringify(k), 2, T0.toISOString(), T0.toISOString()); // stored JSON says version 1
      old.close();

      const store = openSqliteStore(file, T0);
      try {
        expect(misplaced(store.db)).toBe(0);
        const page = SnapshotCustomersPage.parse(
          JSON.parse(Buffer.from(await store.snapshot({ phase: 'customers', bits: 2, from: 0, maxRows: 1000 })).toString('utf8')),
        );
        expect(page.done).toBe(true);
        const entries = page.buckets.flatMap((b) => b.customers);
        expect(entries.map((e) => e.customer.id).sort()).toEqual(ids.filter((id) => id !== 'M-1').sort());
        const m0 = entries.find((e) => e.customer.id === 'M-0')!;
        expect(m0.customer.version).toBe(3);
        expect(m0.consents).toEqual([{ ...k, version: 2 }]);
        const keys = SnapshotIdentifiersPage.parse(
          JSON.parse(Buffer.from(await store.snapshot({ phase: 'identifiers', bits: 2, from: 0, maxRows: 1000 })).toString('utf8')),
        ).buckets.flatMap((b) => b.keys);
        const expected = ids.flatMap((id, i) => (id === 'M-1' ? [] : customerKeys(customer(id, i)).map((key) => `${key} -> ${id}`)));
        expect(keys.map(([key, id]) => `${key} -> ${id}`).sort()).toEqual(expected.sort());
        const found = LookupResponse.parse(JSON.parse(await store.lookupCustomers([crmKey(ODD_REF.crm, ODD_REF.id)])));
        expect(found.matches).toHaveLength(39);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
