import { describe, expect, it } from 'vitest';
import { ApiError, ImportResponse } from '../../lib/api';
import { consentRow, customerRow, setup } from './helpers';

describe('customer import', () => {
  it('imports a JSON array of customers and consents in one go, and sync carries them', async () => {
    const { call, pullAll } = await setup();
    const start = await pullAll();
    const r = await call('admin', 'POST', '/api/import/customers', [
      customerRow('X-1', { phones: ['+14075550101'], emails: ['Mixed.Case@Example.com'] }),
      consentRow('K-1', 'X-1'),
      customerRow('X-2'),
    ]);
    expect(r.status).toBe(200);
    expect(ImportResponse.parse(r.json)).toEqual({ customers: 2, consents: 1 });
    const delta = await pullAll(start.cursor);
    expect(delta.changes.map((c) => `${c.entity}:${c.id}:${c.version}`)).toEqual(['customer:X-1:1', 'customer:X-2:1', 'consent:K-1:1']);
    const x1 = delta.changes[0]!;
    expect(x1.op === 'upsert' && x1.entity === 'customer' && x1.data.emails).toEqual(['mixed.case@example.com']);
  });

  it('a bad row changes nothing, and the 400 names the row and the field', async () => {
    const { call, pullAll } = await setup();
    const start = await pullAll();
    const r = await call('admin', 'POST', '/api/import/customers', [
      customerRow('X-1'),
      customerRow('X-2'),
      customerRow('X-3', { phones: ['407-555-0103'] }), // not E.164
      consentRow('K-1', 'X-1', { state: 'maybe' }),
    ]);
    expect(r.status).toBe(400);
    const body = ApiError.parse(r.json);
    expect(body.error).toBe('invalid_import');
    expect(body.message).toMatch(/nothing was imported/);
    expect(body.issues).toEqual([
      expect.objectContaining({ row: 3, path: 'customer.phones[0]', message: expect.stringMatching(/E\.164/) }),
      expect.objectContaining({ row: 4, path: 'consent.state' }),
    ]);
    expect((await pullAll(start.cursor)).changes).toEqual([]);
  });

  it('a consent whose customer exists neither in the database nor in the batch is an error naming the row', async () => {
    const { call, pullAll } = await setup();
    const start = await pullAll();
    const r = await call('admin', 'POST', '/api/import/customers', [customerRow('X-1'), consentRow('K-1', 'X-1'), consentRow('K-2', 'X-404')]);
    expect(r.status).toBe(400);
    expect(r.json.issues).toEqual([{ row: 3, path: 'consent.customerId', message: expect.stringContaining('X-404') }]);
    expect((await pullAll(start.cursor)).changes).toEqual([]);
    // a consent for a customer imported earlier is fine
    expect((await call('admin', 'POST', '/api/import/customers', [customerRow('X-404')])).status).toBe(200);
    expect((await call('admin', 'POST', '/api/import/customers', [consentRow('K-2', 'X-404')])).json).toEqual({ customers: 0, consents: 1 });
  });

  it('refuses duplicate ids in a batch and a CRM ref or account number that belongs to another customer', async () => {
    const { call } = await setup();
    const dup = await call('admin', 'POST', '/api/import/customers', [customerRow('X-1'), customerRow('X-1')]);
    expect(dup.status).toBe(400);
    expect(dup.json.issues[0]).toMatchObject({ row: 2, path: 'customer.id' });
    expect((await call('admin', 'POST', '/api/import/customers', [customerRow('X-1')])).status).toBe(200);
    const clash = await call('admin', 'POST', '/api/import/customers', [
      customerRow('X-2', { crmRefs: [{ crm: 'test-crm', id: 'X-1' }] }),
    ]);
    expect(clash.status).toBe(400);
    expect(clash.json.issues[0]).toMatchObject({ row: 1, path: 'customer.crmRefs', message: expect.stringContaining('X-1') });
  });

  it('accepts NDJSON, numbering rows by line', async () => {
    const { call, pullAll, store } = await setup();
    const start = await pullAll();
    const ndjson = [customerRow('N-1'), consentRow('NK-1', 'N-1'), customerRow('N-2')].map((r) => JSON.stringify(r)).join('\n') + '\n';
    const ok = await call('admin', 'POST', '/api/import/customers', ndjson, 'application/x-ndjson');
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ customers: 2, consents: 1 });
    expect((await store.getCustomer('N-2'))?.name).toBe('Customer N-2');
    const bad = await call('admin', 'POST', '/api/import/customers', `${JSON.stringify(customerRow('N-3'))}\n{"type":"customer",\n`, 'application/x-ndjson');
    expect(bad.status).toBe(400);
    expect(bad.json.issues[0]).toMatchObject({ row: 2, message: expect.stringMatching(/not valid JSON/) });
    expect(await store.getCustomer('N-3')).toBeNull();
    expect((await pullAll(start.cursor)).changes).toHaveLength(3);
  });

  it('re-importing the same data bumps nothing; a change bumps the version', async () => {
    const { call, pullAll } = await setup();
    await call('admin', 'POST', '/api/import/customers', [customerRow('X-1'), consentRow('K-1', 'X-1')]);
    const mark = await pullAll();
    const same = await call('admin', 'POST', '/api/import/customers', [customerRow('X-1'), consentRow('K-1', 'X-1')]);
    expect(same.json).toEqual({ customers: 0, consents: 0 });
    expect((await pullAll(mark.cursor)).changes).toEqual([]);
    await call('admin', 'POST', '/api/import/customers', [consentRow('K-1', 'X-1', { state: 'revoked' })]);
    const delta = await pullAll(mark.cursor);
    expect(delta.changes).toEqual([expect.objectContaining({ op: 'upsert', entity: 'consent', id: 'K-1', version: 2 })]);
  });

  it('a body that is not an array, not JSON or of another media type is refused clearly', async () => {
    const { call } = await setup();
    expect((await call('admin', 'POST', '/api/import/customers', { type: 'customer' })).json.message).toMatch(/JSON array/);
    expect((await call('admin', 'POST', '/api/import/customers', '[{')).status).toBe(400);
    expect((await call('admin', 'POST', '/api/import/customers', '[]')).status).toBe(400);
    expect((await call('admin', 'POST', '/api/import/customers', 'a,b', 'text/csv')).status).toBe(415);
  });
});
