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
        'POST /api/audit-events',
        'GET /api/audit-events',
        'POST /api/import/customers',
        'DELETE /api/consents/{id}',
        'GET /api/policy',
        'PUT /api/policy',
      ].sort(),
    );
    const pull = doc.paths['/api/sync/pull']!.get as { security: unknown[]; parameters: { name: string }[] };
    expect(pull.security).toEqual([{ bearer: [] }]);
    expect(pull.parameters.map((p) => p.name).sort()).toEqual(['cursor', 'limit']);
  });
});
