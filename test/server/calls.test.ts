import { uuidv7 } from 'uuidv7';
import { describe, expect, it } from 'vitest';
import { FIRST_NOTICE_VERSION } from '../../lib/calls';
import { DEMO_CUSTOMER_PASSWORD } from '../../server/seed';
import { T0, setup } from './helpers';

const verify = (password: string, callId = 'call-1') => ({ password, callId });

describe('POST /api/customers/{id}/verify-password', () => {
  it('verifies the right password; locks after passwordMaxAttempts wrong ones; each attempt is audited without the password', async () => {
    const { call } = await setup({ demo: true });
    const ok = await call('rep', 'POST', '/api/customers/C-1001/verify-password', verify(DEMO_CUSTOMER_PASSWORD));
    expect(ok).toMatchObject({ status: 200, json: { verified: true, attemptsLeft: 3, locked: false } });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await call('rep', 'POST', '/api/customers/C-1001/verify-password', verify(`nope-${i}`))).json);
    expect(answers).toEqual([
      { verified: false, attemptsLeft: 2, locked: false },
      { verified: false, attemptsLeft: 1, locked: false },
      { verified: false, attemptsLeft: 0, locked: true },
    ]);
    // Locked: even the right password is not checked.
    expect((await call('rep', 'POST', '/api/customers/C-1001/verify-password', verify(DEMO_CUSTOMER_PASSWORD))).json).toEqual({ verified: false, attemptsLeft: 0, locked: true });
    const audit = await call('manager', 'GET', '/api/audit-events?kind=verification.attempted&customerId=C-1001&limit=50');
    expect(audit.json.events.map((e: any) => e.details.result).reverse()).toEqual(['verified', 'wrong', 'wrong', 'wrong', 'locked']);
    expect(JSON.stringify(audit.json)).not.toMatch(/nope-|blue-harbor/);

    // A manager sees the lock and unlocks; a rep may not.
    expect((await call('manager', 'GET', '/api/password-locks')).json.locks).toMatchObject([{ customerId: 'C-1001', failures: 3 }]);
    expect((await call('rep', 'POST', '/api/customers/C-1001/password-unlock')).status).toBe(403);
    expect((await call('manager', 'POST', '/api/customers/C-1001/password-unlock')).status).toBe(200);
    expect((await call('manager', 'POST', '/api/customers/C-1001/password-unlock')).status).toBe(409);
    expect((await call('rep', 'POST', '/api/customers/C-1001/verify-password', verify(DEMO_CUSTOMER_PASSWORD))).json.verified).toBe(true);
  });

  it('limits failed checks per rep across customers', async () => {
    const { call } = await setup({ demo: true });
    const pw = ['C-1001', 'C-1007', 'C-1008', 'C-1018', 'C-1021'];
    let n = 0;
    for (const id of pw) for (let i = 0; i < 2; i++, n++) await call('rep', 'POST', `/api/customers/${id}/verify-password`, verify('x'));
    expect(n).toBe(10);
    const refused = await call('rep', 'POST', '/api/customers/C-1024/verify-password', verify('x'));
    expect(refused.status).toBe(429);
    // Another rep is not affected.
    expect((await call('rep2', 'POST', '/api/customers/C-1008/verify-password', verify(DEMO_CUSTOMER_PASSWORD))).json.verified).toBe(true);
  });

  it('refuses accounts without a password and unknown customers', async () => {
    const { call } = await setup({ demo: true });
    expect((await call('rep', 'POST', '/api/customers/C-1002/verify-password', verify('x'))).status).toBe(409);
    expect((await call('rep', 'POST', '/api/customers/NOPE/verify-password', verify('x'))).status).toBe(404);
    expect((await call('marketing', 'POST', '/api/customers/C-1001/verify-password', verify('x'))).status).toBe(403);
  });
});

describe('mailing requests to the address of record', () => {
  it('only when the address is at least 30 days old', async () => {
    const { call } = await setup({ demo: true });
    const gus = await call('rep', 'POST', '/api/customers/C-1007/mailing-requests', { callId: 'call-1', what: 'call_detail' });
    expect(gus.status).toBe(409);
    expect(gus.json.message).toContain('10 days ago');
    const hana = await call('rep', 'POST', '/api/customers/C-1008/mailing-requests', { callId: 'call-1', what: 'call_detail' });
    expect(hana.status).toBe(201);
    expect(hana.json).toMatchObject({ customerId: 'C-1008', addressLines: ['108 Orange Ave', 'Orlando, FL 32801'], requestedBy: 'rep@demo.test' });
  });
});

describe('CPNI notices and consent captures', () => {
  const capture = (over: Record<string, unknown> = {}) => ({
    id: uuidv7(),
    customerId: 'C-1002',
    purpose: 'marketing',
    state: 'opt_in',
    method: 'oral',
    scope: 'standing',
    callId: null,
    capturedBy: 'rep@demo.test',
    capturedAt: T0.toISOString(),
    noticeVersion: FIRST_NOTICE_VERSION,
    evidence: 'recorded line 4',
    updatedAt: T0.toISOString(),
    ...over,
  });

  it('serves the current notice', async () => {
    const { call } = await setup({ demo: true });
    const r = await call('rep', 'GET', '/api/notices/current');
    expect(r.json).toMatchObject({ version: FIRST_NOTICE_VERSION });
    expect(r.json.text).toContain('deny or withdraw');
  });

  it('stores a capture once (idempotent by id), with its proof, and syncs it', async () => {
    const { call, pullAll } = await setup({ demo: true });
    const mark = await pullAll();
    const k = capture();
    expect((await call('rep', 'POST', '/api/consents/captures', { consents: [k] })).json).toEqual({ accepted: [k.id], duplicates: [] });
    expect((await call('rep', 'POST', '/api/consents/captures', { consents: [k] })).json).toEqual({ accepted: [], duplicates: [k.id] });
    const { changes } = await pullAll(mark.cursor);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ entity: 'consent', id: k.id, data: { capturedBy: 'rep@demo.test', method: 'oral', noticeVersion: FIRST_NOTICE_VERSION, evidence: 'recorded line 4' } });
    // Within retention it cannot be deleted.
    expect((await call('admin', 'DELETE', `/api/consents/${k.id}`)).status).toBe(409);
  });

  it('refuses captures by another user, with an unknown notice, or one-time consent that is not oral marketing', async () => {
    const { call } = await setup({ demo: true });
    expect((await call('rep', 'POST', '/api/consents/captures', { consents: [capture({ capturedBy: 'rep2@demo.test' })] })).status).toBe(403);
    expect((await call('rep', 'POST', '/api/consents/captures', { consents: [capture({ noticeVersion: 'v-made-up' })] })).status).toBe(400);
    expect((await call('rep', 'POST', '/api/consents/captures', { consents: [capture({ scope: 'call', callId: 'c1', method: 'written' })] })).status).toBe(400);
    expect((await call('marketing', 'POST', '/api/consents/captures', { consents: [capture({ capturedBy: 'marketing@demo.test' })] })).status).toBe(403);
  });
});

describe('account-change notices', () => {
  it('addresses the notice to the record before the change, restarts the address clock, and lists it for managers', async () => {
    const { call, store, pullAll } = await setup({ demo: true });
    const mark = await pullAll();
    const id = uuidv7();
    const body = { id, field: 'address_of_record', source: 'crm', changedAt: T0.toISOString() };
    const r = await call('rep', 'POST', '/api/customers/C-1008/account-changes', body);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ channel: 'mail', addressedTo: ['108 Orange Ave', 'Orlando, FL 32801'], sentAt: null });
    expect((await call('rep', 'POST', '/api/customers/C-1008/account-changes', body)).status).toBe(200); // idempotent
    expect((await store.getCustomer('C-1008'))!.addressOfRecord!.setAt).toBe(T0.toISOString());
    expect((await pullAll(mark.cursor)).changes.map((c) => c.entity)).toEqual(['customer']);
    // Now the address no longer qualifies for mailing call detail.
    expect((await call('rep', 'POST', '/api/customers/C-1008/mailing-requests', { callId: 'c', what: 'call_detail' })).status).toBe(409);

    const pwd = await call('rep', 'POST', '/api/customers/C-1001/account-changes', { ...body, id: uuidv7(), field: 'password', source: 'panel' });
    expect(pwd.json).toMatchObject({ channel: 'phone', addressedTo: ['+14075550101'] });

    expect((await call('rep', 'GET', '/api/account-change-notices')).status).toBe(403);
    const list = await call('manager', 'GET', '/api/account-change-notices');
    expect(list.json.notices.map((n: any) => n.customerId)).toEqual(['C-1008', 'C-1001']);
    expect((await call('manager', 'POST', `/api/account-change-notices/${id}/sent`)).json.sentBy).toBe('manager@demo.test');
    expect((await call('manager', 'GET', '/api/account-change-notices')).json.notices.map((n: any) => n.customerId)).toEqual(['C-1001']);
    const audit = await call('manager', 'GET', '/api/audit-events?kind=account.change_notice');
    expect(audit.json.events.length).toBe(3);
  });
});
