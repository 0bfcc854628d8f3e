// On-demand mode's first sync: the change feed filtered to policy, adapters and campaigns,
// whose last page jumps to the feed's head so customers already in the feed are not replayed.
import { describe, expect, it } from 'vitest';
import { PullResponse } from '../../lib/api';
import { consentRow, customerRow, setup } from './helpers';

describe('GET /api/sync/pull?entities=', () => {
  it('serves only the named entities, then resumes at the head: later changes only', async () => {
    const { call } = await setup();
    await call('admin', 'POST', '/api/import/customers', [customerRow('X-1'), consentRow('K-1', 'X-1'), customerRow('X-2')]);

    const first = await call('rep', 'GET', '/api/sync/pull?entities=policy,adapter,campaign&limit=100');
    expect(first.status).toBe(200);
    const page = PullResponse.parse(first.json);
    expect(page.hasMore).toBe(false);
    expect(new Set(page.changes.map((c) => c.entity))).toEqual(new Set(['policy']));

    await call('admin', 'POST', '/api/import/customers', [customerRow('X-3')]);
    const next = PullResponse.parse((await call('rep', 'GET', `/api/sync/pull?cursor=${encodeURIComponent(page.cursor)}`)).json);
    expect(next.changes.map((c) => `${c.entity}:${c.id}`)).toEqual(['customer:X-3']);
  });

  it('refuses an unknown entity with a clear error', async () => {
    const { call } = await setup();
    const r = await call('rep', 'GET', '/api/sync/pull?entities=customer,secrets');
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toMatch(/entities/);
  });
});
