import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/api';
import { customerRow, event, setup } from './helpers';

describe('roles are enforced by the backend', () => {
  it('a rep cannot read the audit log', async () => {
    const { call } = await setup();
    for (const role of ['rep', 'marketing'] as const) {
      const r = await call(role, 'GET', '/api/audit-events');
      expect(r.status).toBe(403);
      expect(ApiError.parse(r.json).error).toBe('forbidden');
    }
    for (const role of ['manager', 'counsel', 'admin'] as const) {
      expect((await call(role, 'GET', '/api/audit-events')).status).toBe(200);
    }
  });

  it('a rep cannot import customers, and nothing is imported', async () => {
    const { call, pullAll } = await setup();
    const before = await pullAll();
    const r = await call('rep', 'POST', '/api/import/customers', [customerRow('X-1')]);
    expect(r.status).toBe(403);
    // a 403 comes before validation: garbage from a rep is still 403, not 400
    expect((await call('rep', 'POST', '/api/import/customers', 'not json')).status).toBe(403);
    const after = await pullAll(before.cursor);
    expect(after.changes).toEqual([]);
    expect((await call('manager', 'POST', '/api/import/customers', [customerRow('X-1')])).status).toBe(403);
    expect((await call('admin', 'POST', '/api/import/customers', [customerRow('X-1')])).status).toBe(200);
  });

  it('only an admin changes the policy; every role reads it', async () => {
    const { call } = await setup();
    for (const role of ['rep', 'marketing', 'manager', 'counsel', 'admin'] as const) {
      const r = await call(role, 'GET', '/api/policy');
      expect(r.status).toBe(200);
      expect(r.json.approvalMode).toBe('opt_in_only');
    }
    const put = { approvalMode: 'opt_out_allowed' };
    expect((await call('manager', 'PUT', '/api/policy', put)).status).toBe(403);
    const ok = await call('admin', 'PUT', '/api/policy', put);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ approvalMode: 'opt_out_allowed', passwordMaxAttempts: 3 });
    expect((await call('rep', 'GET', '/api/policy')).json.approvalMode).toBe('opt_out_allowed');
    const bad = await call('admin', 'PUT', '/api/policy', { approvalMode: 'anything_goes' });
    expect(bad.status).toBe(400);
    expect(bad.json.issues[0].path).toBe('approvalMode');
  });

  it('every role may push its own audit events and pull', async () => {
    const { call } = await setup();
    for (const role of ['rep', 'marketing', 'manager', 'counsel', 'admin'] as const) {
      const r = await call(role, 'POST', '/api/audit-events', { events: [event({ actor: `${role}@demo.test`, actorRole: role })] });
      expect(r.status).toBe(200);
      expect((await call(role, 'GET', '/api/sync/pull')).status).toBe(200);
    }
  });
});
