import { describe, expect, it } from 'vitest';
import { consentRow, customerRow, setup } from './helpers';

describe('consent retention', () => {
  it('refuses to delete a consent younger than 1 year; deletes it after, with a tombstone', async () => {
    const { call, pullAll, clock, store } = await setup();
    await call('admin', 'POST', '/api/import/customers', [customerRow('X-1'), consentRow('K-1', 'X-1')]);
    const mark = await pullAll();

    expect((await call('manager', 'DELETE', '/api/consents/K-1')).status).toBe(403);
    clock.now = new Date(clock.now.getTime() + 300 * 86_400_000);
    const early = await call('admin', 'DELETE', '/api/consents/K-1');
    expect(early.status).toBe(409);
    expect(early.json).toMatchObject({ error: 'retention', message: expect.stringContaining('2026-06-02') });
    expect(await store.getConsent('K-1')).not.toBeNull();
    expect((await pullAll(mark.cursor)).changes).toEqual([]);

    clock.now = new Date('2026-06-02T15:00:01.000Z');
    const late = await call('admin', 'DELETE', '/api/consents/K-1');
    expect(late.status).toBe(200);
    expect((await pullAll(mark.cursor)).changes).toEqual([{ op: 'tombstone', entity: 'consent', id: 'K-1', version: 2 }]);
    expect((await call('admin', 'DELETE', '/api/consents/K-1')).status).toBe(404);
  });

  it('the retention clock restarts when a consent changes (a revocation is kept a year too)', async () => {
    const { call, clock } = await setup();
    await call('admin', 'POST', '/api/import/customers', [customerRow('X-1'), consentRow('K-1', 'X-1')]);
    clock.now = new Date(clock.now.getTime() + 200 * 86_400_000);
    await call('admin', 'POST', '/api/import/customers', [consentRow('K-1', 'X-1', { state: 'revoked' })]);
    clock.now = new Date(clock.now.getTime() + 200 * 86_400_000);
    expect((await call('admin', 'DELETE', '/api/consents/K-1')).status).toBe(409);
  });
});
