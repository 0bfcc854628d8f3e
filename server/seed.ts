// Demo data for the backend, and a bulk generator for benchmarks.
//
// Users (all with password `demo-password`):
//   rep@demo.test (rep), rep2@demo.test (rep), marketing@demo.test (marketing),
//   manager@demo.test (manager), counsel@demo.test (counsel), admin@demo.test (admin)
//
// Demo customers (CRM ref {crm:'demo-crm', id:'C-10xx'}; customer id = CRM id; phones
// +1 407-555-01xx, fictional; emails @example.com). Customers marked "pw" have a CPNI
// password established: `blue-harbor-42` (stored hashed in customer_passwords, never synced).
//
// | CRM id | name                      | what it shows                                                         |
// |--------|---------------------------|-----------------------------------------------------------------------|
// | C-1001 | Ada Opted-In              | marketing opt_in, written (standing); pw; address 400 days old        |
// | C-1002 | Ben No-Approval           | no consent record at all (marketing: none)                            |
// | C-1003 | Cara Denied               | marketing denied (written)                                            |
// | C-1004 | Dan Revoked               | marketing revoked (was opt_in; revoked by phone)                      |
// | C-1005 | Eve Pending opt-out       | marketing pending: opt-out notice e-mailed 10 days ago (30-day wait)  |
// | C-1006 | Finn Business             | business: dedicated rep + CPNI contract (BUSINESS_EXEMPTION)          |
// | C-1007 | Gus Recent-Address        | address of record set 10 days ago (no call detail by mail); pw        |
// | C-1008 | Hana Settled              | address 400 days old, pw, marketing opt_in electronic                 |
// | C-1009 | Ivan Opt-Out-Effective    | marketing opt_out_effective (notice mailed 60 days ago)               |
// | C-1010 | Jade Pending-Mailed       | marketing pending: notice MAILED 31 days ago (33-day wait still runs) |
// | C-1011 | Kofi One-Call             | marketing opt_in oral, scope 'call' (one-time, covers one call only)  |
// | C-1012 | Lena Third-Party          | marketing opt_in + third_party opt_in (written)                       |
// | C-1013 | Milo New-Carrier          | new_carrier opt_in (express written authorization)                    |
// | C-1014 | Nora Third-Party-Denied   | marketing opt_in (oral, standing), third_party denied                 |
// | C-1015 | Omar Business-No-Contract | business with a dedicated rep but no CPNI contract (no exemption)     |
// | C-1016 | Pia Explicit-None         | a marketing consent record in state none                              |
// | C-1017…C-1036 | assorted          | every state/method again, mixed categories, some business, some pw    |
import type { NumberedImportRow, Store } from './store';
import { hashPassword } from './crypto';
import type { ConsentMethod, ConsentState, Role, ServiceCategory } from '../lib/schemas';
import type { ImportRow } from '../lib/api';

export const DEMO_USER_PASSWORD = 'demo-password';
export const DEMO_CUSTOMER_PASSWORD = 'blue-harbor-42';
export const DEMO_NOTICE_VERSION = 'CPNI-NOTICE-2024-01';

export const DEMO_USERS: { email: string; name: string; role: Role }[] = [
  { email: 'rep@demo.test', name: 'Riley Rep', role: 'rep' },
  { email: 'rep2@demo.test', name: 'Robin Rep', role: 'rep' },
  { email: 'marketing@demo.test', name: 'Morgan Marketing', role: 'marketing' },
  { email: 'manager@demo.test', name: 'Max Manager', role: 'manager' },
  { email: 'counsel@demo.test', name: 'Casey Counsel', role: 'counsel' },
  { email: 'admin@demo.test', name: 'Alex Admin', role: 'admin' },
];

type CustomerRow = Extract<ImportRow, { type: 'customer' }>['customer'];
type ConsentRow = Extract<ImportRow, { type: 'consent' }>['consent'];

const DAY = 86_400_000;

type ConsentSpec = {
  purpose: ConsentRow['purpose'];
  state: ConsentState;
  method?: ConsentMethod | null;
  scope?: 'standing' | 'call';
  noticeDaysAgo?: number; // opt-out notice sent
  mailed?: boolean;
  capturedDaysAgo?: number;
  evidence?: string;
};
type DemoSpec = {
  name: string;
  categories: ServiceCategory[];
  addressDaysAgo: number | null;
  password?: boolean;
  business?: { dedicatedRep: string | null; cpniContractId: string | null; cpniContractName: string | null };
  consents: ConsentSpec[];
};

const DEMO: DemoSpec[] = [
  { name: 'Ada Opted-In', categories: ['wireless', 'local'], addressDaysAgo: 400, password: true, consents: [{ purpose: 'marketing', state: 'opt_in', method: 'written', evidence: 'Signed CPNI approval form F-2231 (scan on file)' }] },
  { name: 'Ben No-Approval', categories: ['wireless'], addressDaysAgo: 400, consents: [] },
  { name: 'Cara Denied', categories: ['local', 'interexchange'], addressDaysAgo: 400, consents: [{ purpose: 'marketing', state: 'denied', method: 'written', evidence: 'Returned approval form, box "I do not approve" ticked' }] },
  { name: 'Dan Revoked', categories: ['wireless'], addressDaysAgo: 400, consents: [{ purpose: 'marketing', state: 'revoked', method: 'oral', capturedDaysAgo: 5, evidence: 'Customer withdrew approval on inbound call' }] },
  { name: 'Eve Pending opt-out', categories: ['local'], addressDaysAgo: 400, consents: [{ purpose: 'marketing', state: 'pending', method: 'electronic', noticeDaysAgo: 10, mailed: false }] },
  { name: 'Finn Business', categories: ['local', 'interexchange', 'wireless'], addressDaysAgo: 400, business: { dedicatedRep: 'rep@demo.test', cpniContractId: 'MSA-2023-0042', cpniContractName: 'Master Services Agreement §14 (CPNI)' }, consents: [{ purpose: 'marketing', state: 'opt_in', method: 'written', evidence: 'MSA-2023-0042 §14.2' }] },
  { name: 'Gus Recent-Address', categories: ['wireless'], addressDaysAgo: 10, password: true, consents: [{ purpose: 'marketing', state: 'none' }] },
  { name: 'Hana Settled', categories: ['wireless', 'interexchange'], addressDaysAgo: 400, password: true, consents: [{ purpose: 'marketing', state: 'opt_in', method: 'electronic', evidence: 'Web portal consent, session 7f3a' }] },
  { name: 'Ivan Opt-Out-Effective', categories: ['local'], addressDaysAgo: 400, consents: [{ purpose: 'marketing', state: 'opt_out_effective', method: 'written', noticeDaysAgo: 60, mailed: true }] },
  { name: 'Jade Pending-Mailed', categories: ['local', 'wireless'], addressDaysAgo: 400, consents: [{ purpose: 'marketing', state: 'pending', method: 'written', noticeDaysAgo: 31, mailed: true }] },
  { name: 'Kofi One-Call', categories: ['wireless'], addressDaysAgo: 400, consents: [{ purpose: 'marketing', state: 'opt_in', method: 'oral', scope: 'call', capturedDaysAgo: 2, evidence: 'Oral consent for the duration of inbound call' }] },
  { name: 'Lena Third-Party', categories: ['wireless', 'local'], addressDaysAgo: 400, consents: [{ purpose: 'marketing', state: 'opt_in', method: 'written' }, { purpose: 'third_party', state: 'opt_in', method: 'written', evidence: 'Joint-venture disclosure approval form JV-17' }] },
  { name: 'Milo New-Carrier', categories: ['wireless'], addressDaysAgo: 400, consents: [{ purpose: 'new_carrier', state: 'opt_in', method: 'written', evidence: 'Express written authorization, port-out request PO-5531' }] },
  { name: 'Nora Third-Party-Denied', categories: ['interexchange'], addressDaysAgo: 400, consents: [{ purpose: 'marketing', state: 'opt_in', method: 'oral', evidence: 'Recorded call 2024-11-02 (standing oral opt-in)' }, { purpose: 'third_party', state: 'denied', method: 'written' }] },
  { name: 'Omar Business-No-Contract', categories: ['local', 'interexchange'], addressDaysAgo: 400, business: { dedicatedRep: 'rep2@demo.test', cpniContractId: null, cpniContractName: null }, consents: [] },
  { name: 'Pia Explicit-None', categories: ['wireless'], addressDaysAgo: 400, consents: [{ purpose: 'marketing', state: 'none' }] },
];

const MORE_FIRST = ['Quinn', 'Rosa', 'Sami', 'Tara', 'Umar', 'Vera', 'Wes', 'Xena', 'Yuri', 'Zoe', 'Abel', 'Bea', 'Cyrus', 'Dina', 'Emil', 'Fay', 'Gil', 'Hugo', 'Iris', 'Jon'];
const MORE_LAST = ['Alvarez', 'Brooks', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jensen', 'Khan', 'Lopez', 'Moreau', 'Nakamura', 'Okafor', 'Patel', 'Quist', 'Reyes', 'Singh', 'Tanaka'];
const CYCLE: ConsentSpec[] = [
  { purpose: 'marketing', state: 'opt_in', method: 'written' },
  { purpose: 'marketing', state: 'opt_in', method: 'oral' },
  { purpose: 'marketing', state: 'opt_in', method: 'electronic' },
  { purpose: 'marketing', state: 'pending', method: 'written', noticeDaysAgo: 20, mailed: true },
  { purpose: 'marketing', state: 'pending', method: 'electronic', noticeDaysAgo: 3, mailed: false },
  { purpose: 'marketing', state: 'opt_out_effective', method: 'electronic', noticeDaysAgo: 45, mailed: false },
  { purpose: 'marketing', state: 'denied', method: 'oral' },
  { purpose: 'marketing', state: 'revoked', method: 'written' },
  { purpose: 'marketing', state: 'none' },
];
const CATS: ServiceCategory[][] = [['wireless'], ['local'], ['local', 'interexchange'], ['wireless', 'local'], ['interexchange']];
for (let i = 0; i < 20; i++) {
  const consents: ConsentSpec[] = [CYCLE[i % CYCLE.length]!];
  if (i % 3 === 0) consents.push({ purpose: 'third_party', state: i % 2 ? 'denied' : 'opt_in', method: 'written' });
  if (i % 5 === 0) consents.push({ purpose: 'new_carrier', state: 'opt_in', method: 'written' });
  DEMO.push({
    name: `${MORE_FIRST[i]} ${MORE_LAST[i]}`,
    categories: CATS[i % CATS.length]!,
    addressDaysAgo: i % 4 === 0 ? 10 : 400,
    password: i % 3 === 1,
    business:
      i % 7 === 3 ? { dedicatedRep: 'rep2@demo.test', cpniContractId: `MSA-2024-${100 + i}`, cpniContractName: 'Enterprise agreement, CPNI addendum' } : undefined,
    consents,
  });
}

const emailOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z ]/g, '')
    .trim()
    .split(/\s+/)
    .join('.') + '@example.com';

// Ada and Ben also have records in the vendor CRMs the built-in adapters know (their saved pages
// are test/fixtures/<crm>/). Cara (C-1003) has a Zendesk user too, on purpose without a ref: the
// extension finds her by the phone and email the page shows.
const VENDOR_REFS: Record<string, { crm: string; id: string }[]> = {
  'C-1001': [
    { crm: 'salesforce', id: '003Dn00000ZAda1IAD' },
    { crm: 'hubspot', id: '51001' },
    { crm: 'dynamics', id: '6f1e2a10-0c4d-4c5e-9a1b-00000000a001' },
    { crm: 'zendesk', id: '90001' },
    { crm: 'zoho', id: '4876876000000312001' },
  ],
  'C-1002': [
    { crm: 'salesforce', id: '003Dn00000ZBen2IAD' },
    { crm: 'hubspot', id: '51002' },
    { crm: 'dynamics', id: '6f1e2a10-0c4d-4c5e-9a1b-00000000b002' },
    { crm: 'zendesk', id: '90002' },
    { crm: 'zoho', id: '4876876000000312002' },
  ],
};

export function demoRows(now: Date): ImportRow[] {
  const iso = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY).toISOString();
  const rows: ImportRow[] = [];
  DEMO.forEach((d, i) => {
    const n = i + 1; // 1..36
    const crmId = `C-${1000 + n}`;
    const customer: CustomerRow = {
      id: crmId,
      accountNumber: `ACCT-${700000 + n}`,
      name: d.name,
      crmRefs: [{ crm: 'demo-crm', id: crmId }, ...(VENDOR_REFS[crmId] ?? [])],
      phones: n % 2 === 0 ? [`+14075550${100 + n}`] : [`+14075550${100 + n}`, `+140755501${50 + n}`],
      emails: [emailOf(d.name)],
      addressOfRecord:
        d.addressDaysAgo === null ? null : { lines: [`${100 + n} Orange Ave`, 'Orlando, FL 32801'], setAt: iso(d.addressDaysAgo) },
      serviceCategories: d.categories,
      business: d.business ?? null,
      passwordEstablished: !!d.password,
    };
    rows.push({ type: 'customer', customer });
    d.consents.forEach((s, j) => {
      const captured = s.state !== 'none' && s.state !== 'pending' && s.state !== 'opt_out_effective';
      const consent: ConsentRow = {
        id: `${crmId}-${s.purpose}-${j + 1}`,
        customerId: crmId,
        purpose: s.purpose,
        state: s.state,
        method: s.state === 'none' ? null : (s.method ?? null),
        scope: s.scope ?? 'standing',
        callId: s.scope === 'call' ? `CALL-${crmId}-1` : null,
        capturedBy: captured ? (n % 2 ? 'rep@demo.test' : 'rep2@demo.test') : null,
        capturedAt: captured ? iso(s.capturedDaysAgo ?? 90 + n) : null,
        noticeVersion: s.state === 'none' ? null : DEMO_NOTICE_VERSION,
        noticeSentAt: s.noticeDaysAgo !== undefined ? iso(s.noticeDaysAgo) : null,
        noticeMailed: !!s.mailed,
        evidence: s.evidence ?? (captured ? `${s.method ?? 'written'} approval on file` : null),
      };
      rows.push({ type: 'consent', consent });
    });
  });
  return rows;
}

/** Seeds users of every role and the demo customers. Idempotent for customers; users are created once. */
export async function seedDemo(store: Store, now: Date = new Date()): Promise<{ users: number; customers: number; consents: number }> {
  let users = 0;
  for (const u of DEMO_USERS) {
    if (await store.findUserByEmail(u.email)) continue;
    await store.createUser({ ...u, passwordHash: await hashPassword(DEMO_USER_PASSWORD) });
    users++;
  }
  const rows = demoRows(now);
  const outcome = await store.importRows(
    rows.map((value, i) => ({ row: i + 1, value })),
    now,
  );
  if (!outcome.ok) throw new Error(`demo seed refused: ${JSON.stringify(outcome.issues.slice(0, 3))}`);
  for (const r of rows) {
    if (r.type === 'customer' && r.customer.passwordEstablished && !(await store.getCustomerPasswordHash(r.customer.id))) {
      await store.setCustomerPassword(r.customer.id, await hashPassword(DEMO_CUSTOMER_PASSWORD), now);
    }
  }
  return { users, customers: rows.filter((r) => r.type === 'customer').length, consents: rows.filter((r) => r.type === 'consent').length };
}

// ---- bulk ----
const STATES: ConsentState[] = ['opt_in', 'opt_in', 'none', 'pending', 'opt_out_effective', 'denied', 'revoked'];
const METHODS: ConsentMethod[] = ['written', 'oral', 'electronic'];
const FIRST = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'Wei', 'Aisha', 'Carlos', 'Priya', 'Olga', 'Kenji'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Nguyen', 'Kim', 'Okoye', 'Schmidt', 'Rossi', 'Silva'];

/**
 * Realistic import rows for benchmarks: each customer (name, two phones, an email, two CRM
 * refs, address) followed by its 2-3 consents with proof. Deterministic for a given `start`.
 */
export function* bulkRows(n: number, now: Date = new Date(), start = 0): Generator<ImportRow> {
  const at = now.toISOString();
  for (let k = start; k < start + n; k++) {
    const id = `B-${String(k).padStart(7, '0')}`;
    const first = FIRST[k % FIRST.length]!;
    const last = LAST[Math.floor(k / FIRST.length) % LAST.length]!;
    yield {
      type: 'customer',
      customer: {
        id,
        accountNumber: `BA-${String(k).padStart(8, '0')}`,
        name: `${first} ${last}`,
        crmRefs: [
          { crm: 'demo-crm', id },
          { crm: 'salesforce', id: `003${String(k).padStart(12, '0')}` },
        ],
        phones: [`+1${2000000000 + 2 * k}`, `+1${2000000001 + 2 * k}`],
        emails: [`${first}.${last}.${k}@example.com`.toLowerCase()],
        addressOfRecord: { lines: [`${(k % 9000) + 100} Main St`, 'Springfield, IL 62701'], setAt: at },
        serviceCategories: k % 3 === 0 ? ['wireless'] : ['local', 'interexchange'],
        business: null,
        passwordEstablished: k % 4 === 0,
      },
    };
    const consents = 2 + (k % 2);
    const purposes = ['marketing', 'third_party', 'new_carrier'] as const;
    for (let j = 0; j < consents; j++) {
      const state = STATES[(k + j) % STATES.length]!;
      const captured = state === 'opt_in' || state === 'denied' || state === 'revoked';
      // Each consent has its own capture time (within three years) and rep, and each notice its
      // own date, as real records do: the proof a scrub writes differs per row. A pending
      // opt-out's notice went out within the 30-day wait, an effective one's 34-120 days ago.
      const capturedAt = new Date(now.getTime() - (((k * 7919 + j * 104729) % (3 * 365 * 24 * 60)) + 1) * 60_000).toISOString();
      const noticeDaysAgo = state === 'pending' ? (k * 31 + j * 7) % 29 : 34 + ((k * 31 + j * 7) % 87);
      const noticeSentAt = new Date(now.getTime() - (noticeDaysAgo * 24 * 60 + (k % 600) + 1) * 60_000).toISOString();
      yield {
        type: 'consent',
        consent: {
          id: `${id}-${j}`,
          customerId: id,
          purpose: purposes[j]!,
          state,
          method: state === 'none' ? null : METHODS[(k + j) % METHODS.length]!,
          scope: 'standing',
          callId: null,
          capturedBy: captured ? `agent${(k * 13 + j) % 250}@demo.test` : null,
          capturedAt: captured ? capturedAt : null,
          noticeVersion: state === 'none' ? null : DEMO_NOTICE_VERSION,
          noticeSentAt: state === 'pending' || state === 'opt_out_effective' ? noticeSentAt : null,
          noticeMailed: state === 'pending' && k % 2 === 0,
          evidence: captured ? `form ${id}-${j}` : null,
        },
      };
    }
  }
}

/** Inserts `n` bulk customers (with consents), one transaction per 10,000 customers. */
export async function seedBulk(store: Store, n: number, now: Date = new Date(), start = 0): Promise<{ customers: number; consents: number }> {
  const BATCH = 10_000;
  let customers = 0;
  let consents = 0;
  for (let from = start; from < start + n; from += BATCH) {
    const batch: NumberedImportRow[] = [];
    let row = 0;
    for (const value of bulkRows(Math.min(BATCH, start + n - from), now, from)) batch.push({ row: ++row, value });
    const r = await store.importRows(batch, now);
    if (!r.ok) throw new Error(`bulk seed refused: ${JSON.stringify(r.issues.slice(0, 3))}`);
    customers += r.customers;
    consents += r.consents;
  }
  return { customers, consents };
}
