// A first sync's pages checked by hand (lib/snapshot-check.ts) must never let through a page that
// zod would refuse or change: the backend's real pages take the hand path, and every mutation of
// them either takes zod's path or is one zod accepts unchanged.
import { beforeAll, describe, expect, it } from 'vitest';
import { SnapshotCustomersPage, SnapshotIdentifiersPage } from '../../lib/api';
import { isoDateTime, Email } from '../../lib/schemas';
import {
  CheckedSnapshotCustomersPage,
  CheckedSnapshotIdentifiersPage,
  customersPageInShape,
  identifiersPageInShape,
} from '../../lib/snapshot-check';
import { openSqliteStore } from '../../server/db';
import { seedBulk, seedDemo } from '../../server/seed';

type Json = Record<string, unknown>;
let customersPage: Json; // every customer, demo and bulk, in one page of a 1-bucket layout
let identifiersPage: Json;

beforeAll(async () => {
  const store = openSqliteStore(':memory:');
  await seedDemo(store);
  await seedBulk(store, 150);
  const read = async (phase: 'customers' | 'identifiers') =>
    JSON.parse(new TextDecoder().decode(await store.snapshot({ phase, bits: 0, from: 0, maxRows: 20_000 }))) as Json;
  customersPage = await read('customers');
  identifiersPage = await read('identifiers');
  // The first page carries policy, adapters and campaigns, which always take zod's path; the
  // customers are what the hand check is for.
  customersPage.others = [];
  await store.close();
});

const copy = <T>(v: T): T => structuredClone(v);

/** Whatever the hand check accepts, zod accepts and returns unchanged. */
function expectSafe(page: unknown, phase: 'customers' | 'identifiers') {
  const inShape = phase === 'customers' ? customersPageInShape : identifiersPageInShape;
  const schema = phase === 'customers' ? SnapshotCustomersPage : SnapshotIdentifiersPage;
  if (!inShape(page)) return false;
  const parsed = schema.safeParse(page);
  expect(parsed.success, JSON.stringify(parsed.error?.issues?.[0])).toBe(true);
  expect(parsed.data).toEqual(page);
  return true;
}

describe('snapshot pages checked without zod', () => {
  it("takes the hand path for the backend's own pages, and zod returns them unchanged", () => {
    const customers = (customersPage.buckets as { customers: unknown[] }[])[0]!.customers;
    expect(customers.length).toBeGreaterThan(150); // demo customers (business, call-scope consents) and bulk ones
    expect(expectSafe(customersPage, 'customers')).toBe(true);
    expect(expectSafe(identifiersPage, 'identifiers')).toBe(true);
    expect(CheckedSnapshotCustomersPage.safeParse(customersPage)).toEqual({ success: true, data: customersPage });
  });

  // Each breaks the contract: the checked parse refuses it with zod's own message.
  const refused: [string, (p: Json) => void][] = [
    ['a customer without a name', (p) => delete first(p).customer.name],
    ['a customer name too long', (p) => (first(p).customer.name = 'x'.repeat(201))],
    ['a phone not in E.164', (p) => (first(p).customer.phones = ['407-555-0100'])],
    ['an email that is not one', (p) => (first(p).customer.emails = ['not-an-email'])],
    ['an impossible date', (p) => (first(p).customer.updatedAt = '2026-02-30T10:00:00.000Z')],
    ['a date without its zone', (p) => (first(p).customer.updatedAt = '2026-01-30T10:00:00')],
    ['a consent state nobody knows', (p) => (first(p).consents[0].state = 'maybe')],
    ['a consent of another customer', (p) => (first(p).consents[0].customerId = 'someone-else')],
    ['a negative version', (p) => (first(p).consents[0].version = -1)],
    ['a customer in the wrong bucket', (p) => Object.assign(p, { bits: 3, to: 8 })],
    ['an empty address', (p) => (first(p).customer.addressOfRecord = { lines: [], setAt: '2026-01-30T10:00:00.000Z' })],
  ];
  for (const [what, mutate] of refused) {
    it(`refuses ${what} with zod's message`, () => {
      const page = copy(customersPage);
      mutate(page);
      const checked = CheckedSnapshotCustomersPage.safeParse(page);
      const zod = SnapshotCustomersPage.safeParse(page);
      expect(zod.success).toBe(false);
      expect(checked.success).toBe(false);
      expect(checked.success ? null : checked.error.message).toBe(zod.error?.message);
    });
  }

  // Zod accepts these but returns something else (defaults filled, an unknown key dropped, an
  // email normalized): they must take zod's path so the page is what zod makes of it.
  const changedByZod: [string, (p: Json) => void][] = [
    ['a customer without passwordEstablished (defaulted)', (p) => delete first(p).customer.passwordEstablished],
    ['a consent without scope (defaulted)', (p) => delete first(p).consents[0].scope],
    ['an unknown key on a consent (dropped)', (p) => (first(p).consents[0].colour = 'blue')],
    ['an unknown key on the page (dropped)', (p) => (p.extra = 1)],
    ['an email in capitals (lower-cased)', (p) => (first(p).customer.emails = ['Ann@Example.com'])],
    ['a page without others (defaulted)', (p) => delete p.others],
  ];
  for (const [what, mutate] of changedByZod) {
    it(`leaves ${what} to zod`, () => {
      const page = copy(customersPage);
      mutate(page);
      expect(customersPageInShape(page)).toBe(false);
      const checked = CheckedSnapshotCustomersPage.safeParse(page);
      expect(checked).toEqual(SnapshotCustomersPage.safeParse(page));
    });
  }

  it('refuses an identifier row that is not a pair, and a key in the wrong bucket', () => {
    const page = copy(identifiersPage);
    const keys = (page.buckets as { keys: unknown[][] }[])[0]!.keys;
    keys[0] = [...keys[0]!, 'extra'];
    expect(CheckedSnapshotIdentifiersPage.safeParse(page).success).toBe(false);
    const moved = copy(identifiersPage);
    Object.assign(moved, { bits: 3, to: 8 });
    const r = CheckedSnapshotIdentifiersPage.safeParse(moved);
    expect(r.success ? '' : r.error.message).toMatch(/does not belong in bucket/);
  });

  it('never accepts by hand what zod refuses or changes, over 3,000 random mutations', () => {
    const values: unknown[] = [null, undefined, 0, -1, 1.5, 2 ** 60, '', 'x', 'x'.repeat(300), 'X@Y.COM', '+14075550100', true, [], {}, [1], '2026-13-01T00:00:00Z', '2026-01-01T00:00:00+05:00', 'local', 'opt_in'];
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const phase = i % 4 === 0 ? 'identifiers' : 'customers';
      const page = copy(phase === 'customers' ? customersPage : identifiersPage);
      // Walk to a random place in the page and put a random value there (or delete it).
      let node: unknown = page;
      let parent: Json | unknown[] = page;
      let key: string | number = 'buckets';
      for (let depth = 0; depth < 8 && node && typeof node === 'object'; depth++) {
        const keys = Object.keys(node);
        if (keys.length === 0 || (depth > 2 && random(3) === 0)) break;
        parent = node as Json;
        key = Array.isArray(node) ? random(Math.min(node.length, 4)) : keys[random(keys.length)]!;
        node = (node as Json)[key as string];
      }
      const v = values[random(values.length)];
      if (v === undefined && !Array.isArray(parent)) delete (parent as Json)[key as string];
      else (parent as Json)[key as string] = v;
      if (expectSafe(page, phase)) accepted++;
    }
    // Some mutations keep the page valid (an enum for another of its members, a date for another).
    expect(accepted).toBeGreaterThan(0);
  });

  it("checks dates and emails with zod's own patterns", () => {
    const dates = ['2026-01-30T10:00:00Z', '2026-01-30T10:00:00.123Z', '2026-01-30T10:00:00+01:00', '2024-02-29T00:00:00Z', '2025-02-29T00:00:00Z', '2026-01-30 10:00:00Z', '2026-1-30T10:00:00Z', '2026-01-30T24:00:00Z'];
    for (const d of dates) expect(customersPageInShape(withDate(d)), d).toBe(isoDateTime.safeParse(d).success);
    const emails = ['ann@example.com', 'ann@example', 'a b@example.com', 'ann.o-neil+x@mail.example.co.uk', '@example.com'];
    for (const e of emails) expect(customersPageInShape(withEmail(e)), e).toBe(Email.safeParse(e).success);
  });
});

function first(p: Json) {
  return (p.buckets as { customers: { customer: Json; consents: Json[] }[] }[])[0]!.customers.find((c) => c.consents.length > 0)!;
}
function withDate(d: string) {
  const page = copy(customersPage);
  first(page).customer.updatedAt = d;
  return page;
}
function withEmail(e: string) {
  const page = copy(customersPage);
  first(page).customer.emails = [e];
  return page;
}
