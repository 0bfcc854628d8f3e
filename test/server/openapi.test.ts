import { describe, expect, it } from 'vitest';
import { setup } from './helpers';

describe('OpenAPI document', () => {
  it('is served without a token and lists every route', async () => {
    const { call } = await setup();
    const r = await call(null, 'GET', '/api/openapi.json');
    expect(r.status).toBe(200);
    const doc = r.json as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes.sort()).toEqual(
      [
        'GET /api/health',
        'POST /api/auth/sign-in',
        'POST /api/auth/sign-out',
        'GET /api/me',
        'GET /api/sync/pull',
        'GET /api/sync/snapshot',
        'GET /api/customers/lookup',
        'POST /api/audit-events',
        'GET /api/audit-events',
        'POST /api/import/customers',
        'DELETE /api/consents/{id}',
        'GET /api/policy',
        'PUT /api/policy',
        // campaigns and approval-mechanism failures (server/routes/campaigns.ts)
        'POST /api/campaigns',
        'GET /api/campaigns',
        'GET /api/campaigns/{id}',
        'POST /api/campaigns/{id}/submit',
        'POST /api/campaigns/{id}/decision',
        'POST /api/campaigns/{id}/scrubs',
        'DELETE /api/campaigns/{id}',
        'POST /api/approval-failures',
        'GET /api/approval-failures',
        'POST /api/approval-failures/{id}/notice-sent',
        // admin-defined CRM adapters (server/routes/adapters.ts)
        'GET /api/adapters',
        'PUT /api/adapters/{id}',
        'DELETE /api/adapters/{id}',
        // the rep's call (server/routes/calls.ts)
        'POST /api/customers/{id}/verify-password',
        'POST /api/customers/{id}/password-unlock',
        'GET /api/password-locks',
        'POST /api/customers/{id}/mailing-requests',
        'GET /api/notices/current',
        'POST /api/consents/captures',
        'POST /api/customers/{id}/account-changes',
        'GET /api/account-change-notices',
        'POST /api/account-change-notices/{id}/sent',
      ].sort(),
    );
    const pull = doc.paths['/api/sync/pull']!.get as { security: unknown[]; parameters: { name: string }[] };
    expect(pull.security).toEqual([{ bearer: [] }]);
    expect(pull.parameters.map((p) => p.name).sort()).toEqual(['cursor', 'entities', 'limit']);
    const snapshot = doc.paths['/api/sync/snapshot']!.get as { description: string; parameters: { name: string; description?: string }[] };
    expect(snapshot.parameters.map((p) => p.name).sort()).toEqual(['bits', 'build', 'encoding', 'from', 'maxRows', 'phase']);
    expect(snapshot.parameters.find((p) => p.name === 'build')!.description).toMatch(/first page/);
    expect(snapshot.description).toMatch(/Prebuilt snapshots/);
  });
});
