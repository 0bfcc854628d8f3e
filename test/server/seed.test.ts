import { describe, expect, it } from 'vitest';
import { Consent, Customer } from '../../lib/schemas';
import { verifyPassword } from '../../server/crypto';
import { openSqliteStore } from '../../server/db';
import { DEMO_CUSTOMER_PASSWORD, seedBulk, seedDemo } from '../../server/seed';
import { T0, setup } from './helpers';

describe('demo seed', () => {
  it('creates every role and the documented demo customers, which sign in and sync', async () => {
    const { signIn, pullAll, store } = await setup({ demo: true });
    for (const email of ['rep@demo.test', 'rep2@demo.test', 'marketing@demo.test', 'manager@demo.test', 'counsel@demo.test', 'admin@demo.test']) {
      expect((await signIn(email)).status).toBe(200);
    }
    const { changes } = await pullAll();
    const customers = changes.filter((c) => c.entity === 'customer').map((c) => Customer.parse((c as { data: unknown }).data));
    const consents = changes.filter((c) => c.entity === 'consent').map((c) => Consent.parse((c as { data: unknown }).data));
    expect(customers).toHaveLength(36);
    const byId = new Map(customers.map((c) => [c.id, c]));
    expect(byId.get('C-1001')).toMatchObject({ name: 'Ada Opted-In', crmRefs: expect.arrayContaining([{ crm: 'demo-crm', id: 'C-1001' }, { crm: 'salesforce', id: '003Dn00000ZAda1IAD' }]), phones: ['+14075550101', '+14075550151'] });
    expect(byId.get('C-1006')?.business).toMatchObject({ dedicatedRep: expect.any(String), cpniContractId: expect.any(String) });
    const gus = byId.get('C-1007')!;
    expect(Date.parse(gus.addressOfRecord!.setAt)).toBe(T0.getTime() - 10 * 86_400_000);
    expect(gus.passwordEstablished).toBe(true);
    expect(await verifyPassword(DEMO_CUSTOMER_PASSWORD, (await store.getCustomerPasswordHash('C-1007'))!)).toBe(true);
    const marketing = new Set(consents.filter((c) => c.purpose === 'marketing').map((c) => c.state));
    expect([...marketing].sort()).toEqual(['denied', 'none', 'opt_in', 'opt_out_effective', 'pending', 'revoked']);
    const optInMethods = new Set(consents.filter((c) => c.purpose === 'marketing' && c.state === 'opt_in').map((c) => c.method));
    expect([...optInMethods].sort()).toEqual(['electronic', 'oral', 'written']);
    expect(consents.some((c) => c.purpose === 'marketing' && c.state === 'pending' && c.noticeMailed)).toBe(true);
    expect(consents.some((c) => c.purpose === 'marketing' && c.state === 'pending' && !c.noticeMailed)).toBe(true);
    expect(consents.some((c) => c.purpose === 'third_party')).toBe(true);
    expect(consents.some((c) => c.purpose === 'new_carrier')).toBe(true);
    expect(consents.filter((c) => c.customerId === 'C-1002')).toEqual([]);
    for (const c of customers) {
      expect(c.emails.every((e) => e.endsWith('@example.com'))).toBe(true);
      expect(c.phones.every((p) => /^\+140755501\d\d$/.test(p))).toBe(true);
    }
    // seeding again changes nothing
    await seedDemo(store, T0);
    expect((await pullAll()).changes.length).toBe(changes.length);
  });

  it('seedBulk inserts realistic customers with 2-3 consents each', async () => {
    const store = openSqliteStore(':memory:');
    const r = await seedBulk(store, 25_000, T0);
    expect(r.customers).toBe(25_000);
    expect(r.consents).toBe(62_500);
    const c = await store.getCustomer('B-0024999');
    expect(c?.phones).toHaveLength(2);
    const page = await store.pull(undefined, 5000);
    expect(page.hasMore).toBe(true);
    await store.close();
  });
});
