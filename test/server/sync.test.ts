import { describe, expect, it } from 'vitest';
import { PullResponse, type Change } from '../../lib/api';
import { consentRow, customerRow, setup } from './helpers';

const key = (c: Change) => `${c.entity}:${c.id}`;

describe('sync pull', () => {
  it('pages through everything with a small limit, never skipping or repeating', async () => {
    const { call, pullAll } = await setup({ demo: true });
    const one = await pullAll(undefined, 5000);
    expect(one.pages).toBe(1);
    const paged = await pullAll(undefined, 7);
    expect(paged.pages).toBe(Math.ceil(one.changes.length / 7));
    expect(paged.changes.map(key)).toEqual(one.changes.map(key));
    expect(new Set(paged.changes.map(key)).size).toBe(paged.changes.length);
    // demo: 36 customers, their consents, and the policy
    const counts = paged.changes.reduce<Record<string, number>>((m, c) => ((m[c.entity] = (m[c.entity] ?? 0) + 1), m), {});
    expect(counts.customer).toBe(36);
    expect(counts.policy).toBe(1);
    expect(counts.consent).toBeGreaterThanOrEqual(40);
    const policy = paged.changes.find((c) => c.entity === 'policy');
    expect(policy).toMatchObject({ op: 'upsert', id: 'current', data: { approvalMode: 'opt_in_only' } });
    // at the end, a pull from the final cursor is empty and says so
    const r = await call('rep', 'GET', `/api/sync/pull?cursor=${paged.cursor}`);
    expect(PullResponse.parse(r.json)).toMatchObject({ changes: [], hasMore: false, cursor: paged.cursor });
  });

  it('after an update, the next delta pull returns exactly the changed entity with a higher version', async () => {
    const { call, pullAll } = await setup({ demo: true });
    const full = await pullAll(undefined, 10);
    const before = full.changes.find((c) => c.id === 'C-1002')!;
    const r = await call('admin', 'POST', '/api/import/customers', [
      { type: 'customer', customer: { ...(before as Extract<Change, { entity: 'customer' }>).data, name: 'Ben Renamed', version: undefined, updatedAt: undefined } },
    ]);
    expect(r.status).toBe(200);
    const delta = await pullAll(full.cursor, 10);
    expect(delta.changes).toHaveLength(1);
    const after = delta.changes[0]!;
    expect(after).toMatchObject({ op: 'upsert', entity: 'customer', id: 'C-1002', data: { name: 'Ben Renamed' } });
    expect(after.version).toBeGreaterThan(before.version);
    // the entity is not repeated in a fresh full sync: one change per entity, latest version
    const again = await pullAll(undefined, 10);
    expect(again.changes.filter((c) => c.id === 'C-1002')).toEqual([after]);
    expect(again.changes.length).toBe(full.changes.length);
  });

  it('a change made between pages is served later, never lost', async () => {
    const { call, pullAll } = await setup({ demo: true });
    const first = await call('rep', 'GET', '/api/sync/pull?limit=3');
    const page1 = PullResponse.parse(first.json);
    expect(page1.changes.map((c) => c.entity)).toContain('policy'); // the policy was written first
    // an entity already pulled is updated mid-sync: it comes again, newer
    await call('admin', 'PUT', '/api/policy', { approvalMode: 'opt_out_allowed' });
    const rest = await pullAll(page1.cursor, 3);
    const policy = rest.changes.filter((c) => c.entity === 'policy');
    expect(policy).toHaveLength(1);
    expect(policy[0]).toMatchObject({ version: 2, data: { approvalMode: 'opt_out_allowed' } });
    // and nothing else is repeated
    const keys = [...page1.changes, ...rest.changes].map(key);
    expect(keys.length - new Set(keys).size).toBe(1);
  });

  it('customer tombstones travel as tombstones; consent records are retained', async () => {
    const { call, pullAll, store } = await setup();
    await call('admin', 'POST', '/api/import/customers', [customerRow('X-1'), consentRow('K-1', 'X-1')]);
    const mark = await pullAll();
    const del = await call('admin', 'POST', '/api/import/customers', [{ type: 'tombstone', entity: 'customer', id: 'X-1' }]);
    expect(del.status).toBe(200);
    const delta = await pullAll(mark.cursor);
    expect(delta.changes).toEqual([
      { op: 'tombstone', entity: 'customer', id: 'X-1', version: 2 },
      { op: 'tombstone', entity: 'consent', id: 'K-1', version: 2 },
    ]);
    expect(await store.getConsent('K-1')).not.toBeNull();
    // a full sync from scratch shows the tombstones too (a cache that missed them converges)
    const full = await pullAll();
    expect(full.changes.filter((c) => c.id === 'X-1')).toEqual([{ op: 'tombstone', entity: 'customer', id: 'X-1', version: 2 }]);
    // deleting something unknown is an error naming the row
    const unknown = await call('admin', 'POST', '/api/import/customers', [{ type: 'tombstone', entity: 'customer', id: 'nope' }]);
    expect(unknown.json.issues[0]).toMatchObject({ row: 1, path: 'id' });
  });

  it('a malformed cursor or limit is a 400', async () => {
    const { call } = await setup();
    for (const cursor of ['garbage!', Buffer.from('v1:abc').toString('base64url'), Buffer.from('v2:5').toString('base64url'), 'x'.repeat(300)]) {
      const r = await call('rep', 'GET', `/api/sync/pull?cursor=${encodeURIComponent(cursor)}`);
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(/invalid/);
    }
    expect((await call('rep', 'GET', '/api/sync/pull?limit=0')).status).toBe(400);
    expect((await call('rep', 'GET', '/api/sync/pull?limit=5001')).status).toBe(400);
  });

  it('never sends the CPNI password hash; only passwordEstablished', async () => {
    const { pullAll } = await setup({ demo: true });
    const full = await pullAll();
    const text = JSON.stringify(full.changes);
    expect(text).not.toMatch(/scrypt|blue-harbor|password_?hash/i);
    const gus = full.changes.find((c) => c.id === 'C-1007');
    expect(gus).toMatchObject({ entity: 'customer', data: { name: 'Gus Recent-Address', passwordEstablished: true } });
  });
});
