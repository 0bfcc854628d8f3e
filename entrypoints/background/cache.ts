// The customer cache: everything the extension knows about customers, consents, policy,
// adapters and campaigns, plus the sync cursor that says how far it got.
//
// Only this file knows how the cache is stored. Sync, guard and UI use `CustomerCache`, so the
// layout can be re-packed (buckets keyed by identifier hashes, an overlay log; see DESIGN.md
// "Budgets") without touching them. This is the simple layout: one IndexedDB record per
// customer and per consent, with multi-entry indexes for the identifiers.
import Dexie, { type Table } from 'dexie';
import type { AdapterDocument, Change } from '@/lib/api';
import type { Campaign, Consent, Customer, PolicySettings } from '@/lib/schemas';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { normalizeEmail, normalizePhone } from '@/lib/identifiers';
import type { z } from 'zod';

export interface CachedCustomer {
  customer: Customer;
  consents: Consent[];
}

export type CachedAdapter = z.infer<typeof AdapterDocument> & { version: number };

export interface CustomerCache {
  /** Applies one page of changes and stores `cursor` with it, in one transaction: all or nothing. */
  applyChanges(changes: readonly Change[], cursor: string): Promise<void>;
  /** The cursor stored with the last applied page; null before the first page. */
  cursor(): Promise<string | null>;
  /**
   * Looks a customer up by CRM ref (crm + id), then account number, then phone (E.164), then
   * email. An identifier shared by more than one customer is ambiguous and matches nobody.
   */
  findCustomer(identifiers: RecordIdentifiers): Promise<CachedCustomer | null>;
  /**
   * Batch lookup for list scrubs: one result per input, in the same order, null where
   * `findCustomer` would answer null. The packed layout makes this much cheaper than a loop.
   */
  findMany(identifiers: readonly RecordIdentifiers[]): Promise<(CachedCustomer | null)[]>;
  counts(): Promise<{ customers: number; consents: number }>;
  /** Empties the cache, cursor included, in one transaction. */
  clear(): Promise<void>;
  /** Calls `cb` for every customer (with consents), in batches; for list scrubs. Returns the count. */
  streamAll(cb: (entry: CachedCustomer) => void | Promise<void>): Promise<number>;
  /** The synced policy settings, or null when the backend sent none (callers use DEFAULT_POLICY). */
  getPolicy(): Promise<PolicySettings | null>;
  getCampaign(id: string): Promise<Campaign | null>;
  adapters(): Promise<CachedAdapter[]>;
  close(): void;
}

// ---- the simple layout ----

type CustomerRow = Customer & { crmKeys: string[] };
interface PolicyRow {
  id: string;
  version: number;
  settings: PolicySettings;
}
interface SyncStateRow {
  key: 'cursor';
  value: string;
}

class CacheDb extends Dexie {
  customers!: Table<CustomerRow, string>;
  consents!: Table<Consent, string>;
  policy!: Table<PolicyRow, string>;
  adapters!: Table<CachedAdapter, string>;
  campaigns!: Table<Campaign, string>;
  syncState!: Table<SyncStateRow, string>;

  constructor(name: string) {
    super(name);
    this.version(1).stores({
      customers: 'id, accountNumber, *crmKeys, *phones, *emails',
      consents: 'id, customerId',
      policy: 'id',
      adapters: 'id',
      campaigns: 'id',
      syncState: 'key',
    });
  }
}

// The adapter id is URI-encoded so "crm:id" stays unambiguous whatever either part contains.
const crmKey = (crm: string, id: string) => `${encodeURIComponent(crm)}:${id}`;

function toRow(customer: Customer): CustomerRow {
  return { ...customer, crmKeys: customer.crmRefs.map((r) => crmKey(r.crm, r.id)) };
}

function fromRow(row: CustomerRow): Customer {
  const { crmKeys: _crmKeys, ...customer } = row;
  return customer;
}

type Versioned = { version: number };
type EntityOp<T> = { op: 'upsert'; version: number; data: T } | { op: 'tombstone'; version: number };

/** Folds a page's changes per id (a later change of the same id wins unless its version is older). */
function fold<T>(ops: Map<string, EntityOp<T>>, id: string, next: EntityOp<T>) {
  const prev = ops.get(id);
  if (!prev || prev.version <= next.version) ops.set(id, next);
}

/** Splits folded ops into puts and deletes, skipping any older than what is stored. */
async function plan<T, R extends Versioned>(
  table: Table<R, string>,
  ops: Map<string, EntityOp<T>>,
  toStored: (id: string, data: T, version: number) => R,
): Promise<{ puts: R[]; deletes: string[] }> {
  const ids = [...ops.keys()];
  const existing = await table.bulkGet(ids);
  const puts: R[] = [];
  const deletes: string[] = [];
  ids.forEach((id, i) => {
    const op = ops.get(id)!;
    const stored = existing[i];
    if (stored && stored.version > op.version) return; // out of order: keep the newer one
    if (op.op === 'upsert') puts.push(toStored(id, op.data, op.version));
    else if (stored) deletes.push(id);
  });
  return { puts, deletes };
}

export function openCustomerCache(name = 'cpni-cache'): CustomerCache {
  const db = new CacheDb(name);
  const all = [db.customers, db.consents, db.policy, db.adapters, db.campaigns, db.syncState];

  async function consentsOf(customerIds: string[]): Promise<Map<string, Consent[]>> {
    const byCustomer = new Map<string, Consent[]>(customerIds.map((id) => [id, []]));
    if (customerIds.length === 0) return byCustomer;
    const rows = await db.consents.where('customerId').anyOf(customerIds).toArray();
    for (const c of rows) byCustomer.get(c.customerId)?.push(c);
    return byCustomer;
  }

  /** The one customer an index value points at; null when none or more than one. */
  async function unique(index: 'accountNumber' | 'phones' | 'emails' | 'crmKeys', value: string) {
    const rows = await db.customers.where(index).equals(value).limit(2).toArray();
    return rows.length === 1 ? rows[0]! : null;
  }

  async function find(ids: RecordIdentifiers): Promise<CustomerRow | null> {
    if (ids.crmId) {
      const row = await unique('crmKeys', crmKey(ids.crm, ids.crmId));
      if (row) return row;
    }
    if (ids.accountNumber) {
      const row = await unique('accountNumber', ids.accountNumber.trim());
      if (row) return row;
    }
    for (const raw of ids.phones) {
      const phone = normalizePhone(raw);
      const row = phone ? await unique('phones', phone) : null;
      if (row) return row;
    }
    for (const raw of ids.emails) {
      const row = await unique('emails', normalizeEmail(raw));
      if (row) return row;
    }
    return null;
  }

  return {
    async applyChanges(changes, cursor) {
      const customers = new Map<string, EntityOp<Customer>>();
      const consents = new Map<string, EntityOp<Consent>>();
      const policies = new Map<string, EntityOp<PolicySettings>>();
      const adapters = new Map<string, EntityOp<z.infer<typeof AdapterDocument>>>();
      const campaigns = new Map<string, EntityOp<Campaign>>();
      const byEntity = { customer: customers, consent: consents, policy: policies, adapter: adapters, campaign: campaigns };
      for (const ch of changes) {
        const ops = byEntity[ch.entity] as Map<string, EntityOp<unknown>>;
        fold(ops, ch.id, ch.op === 'upsert' ? { op: 'upsert', version: ch.version, data: ch.data } : { op: 'tombstone', version: ch.version });
      }

      await db.transaction('rw', all, async () => {
        const cu = await plan(db.customers, customers, (id, c, version) => toRow({ ...c, id, version }));
        const co = await plan(db.consents, consents, (id, c, version) => ({ ...c, id, version }));
        const po = await plan(db.policy, policies, (id, settings, version) => ({ id, version, settings }));
        const ad = await plan(db.adapters, adapters, (id, a, version) => ({ ...a, id, version }));
        const ca = await plan(db.campaigns, campaigns, (id, c, version) => ({ ...c, id, version }));
        await db.customers.bulkPut(cu.puts);
        await db.customers.bulkDelete(cu.deletes);
        // A deleted customer takes its consents with it: no CPNI left behind without an owner.
        if (cu.deletes.length) await db.consents.where('customerId').anyOf(cu.deletes).delete();
        await db.consents.bulkPut(co.puts);
        await db.consents.bulkDelete(co.deletes);
        await db.policy.bulkPut(po.puts);
        await db.policy.bulkDelete(po.deletes);
        await db.adapters.bulkPut(ad.puts);
        await db.adapters.bulkDelete(ad.deletes);
        await db.campaigns.bulkPut(ca.puts);
        await db.campaigns.bulkDelete(ca.deletes);
        await db.syncState.put({ key: 'cursor', value: cursor });
      });
    },

    async cursor() {
      return (await db.syncState.get('cursor'))?.value ?? null;
    },

    async findCustomer(identifiers) {
      return db.transaction('r', db.customers, db.consents, async () => {
        const row = await find(identifiers);
        if (!row) return null;
        const consents = (await consentsOf([row.id])).get(row.id) ?? [];
        return { customer: fromRow(row), consents };
      });
    },

    async findMany(list) {
      return db.transaction('r', db.customers, db.consents, async () => {
        const rows = await Promise.all(list.map((ids) => find(ids)));
        const consents = await consentsOf([...new Set(rows.filter((r) => r).map((r) => r!.id))]);
        return rows.map((row) => (row ? { customer: fromRow(row), consents: consents.get(row.id) ?? [] } : null));
      });
    },

    async counts() {
      const [customers, consents] = await Promise.all([db.customers.count(), db.consents.count()]);
      return { customers, consents };
    },

    async clear() {
      await db.transaction('rw', all, async () => {
        await Promise.all(all.map((t) => t.clear()));
      });
    },

    async streamAll(cb) {
      const BATCH = 1000;
      let after: string | null = null;
      let n = 0;
      for (;;) {
        // Each batch is read in its own transaction; `cb` runs outside it (it may await anything).
        const batch: CachedCustomer[] = await db.transaction('r', db.customers, db.consents, async () => {
          const coll = after === null ? db.customers.orderBy('id') : db.customers.where('id').above(after);
          const rows = await coll.limit(BATCH).toArray();
          const consents = await consentsOf(rows.map((r) => r.id));
          return rows.map((r) => ({ customer: fromRow(r), consents: consents.get(r.id) ?? [] }));
        });
        for (const entry of batch) await cb(entry);
        n += batch.length;
        if (batch.length < BATCH) return n;
        after = batch[batch.length - 1]!.customer.id;
      }
    },

    async getPolicy() {
      const rows = await db.policy.toArray();
      if (rows.length === 0) return null;
      // The backend is expected to send one policy document; if it sends several, the newest wins.
      rows.sort((a, b) => b.version - a.version || a.id.localeCompare(b.id));
      return rows[0]!.settings;
    },

    async getCampaign(id) {
      return (await db.campaigns.get(id)) ?? null;
    },

    async adapters() {
      return db.adapters.toArray();
    },

    close() {
      db.close();
    },
  };
}
