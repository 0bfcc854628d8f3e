import { describe, expect, it } from 'vitest';
import { ApiError, HealthResponse, MeResponse, SignInResponse } from '../../lib/api';
import { setup } from './helpers';

describe('health and sign-in', () => {
  it('health needs no token', async () => {
    const { call } = await setup();
    const r = await call(null, 'GET', '/api/health');
    expect(r.status).toBe(200);
    expect(HealthResponse.parse(r.json).ok).toBe(true);
  });

  it('signs in with the right password and the token works for /api/me', async () => {
    const { signIn, app } = await setup();
    const res = await signIn('Manager@Demo.test', 'demo-password');
    expect(res.status).toBe(200);
    const body = SignInResponse.parse(await res.json());
    expect(body.user).toMatchObject({ email: 'manager@demo.test', role: 'manager' });
    const me = await app.request('/api/me', { headers: { authorization: `Bearer ${body.token}` } });
    expect(me.status).toBe(200);
    expect(MeResponse.parse(await me.json()).user.email).toBe('manager@demo.test');
  });

  it('refuses a wrong password and an unknown email with the same 401', async () => {
    const { signIn } = await setup();
    const bad = await signIn('rep@demo.test', 'wrong-password');
    const unknown = await signIn('nobody@demo.test', 'demo-password');
    expect(bad.status).toBe(401);
    expect(unknown.status).toBe(401);
    const a = ApiError.parse(await bad.json());
    const b = ApiError.parse(await unknown.json());
    expect(a).toEqual(b);
    expect(a.error).toBe('invalid_credentials');
  });

  it('rejects a sign-in body that is not valid with 400 and issues', async () => {
    const { call } = await setup();
    const r = await call(null, 'POST', '/api/auth/sign-in', { email: 'rep@demo.test' });
    expect(r.status).toBe(400);
    expect(ApiError.parse(r.json).issues?.some((i) => i.path === 'password')).toBe(true);
  });

  it('rate-limits an email after 10 failures in 15 minutes, even with the right password', async () => {
    const { signIn, clock } = await setup();
    for (let i = 0; i < 10; i++) expect((await signIn('rep@demo.test', 'nope-' + i)).status).toBe(401);
    const limited = await signIn('rep@demo.test', 'demo-password');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // other users are not affected
    expect((await signIn('rep2@demo.test', 'demo-password')).status).toBe(200);
    clock.now = new Date(clock.now.getTime() + 16 * 60_000);
    expect((await signIn('rep@demo.test', 'demo-password')).status).toBe(200);
  });

  it('needs a bearer token everywhere else; a token expires after 12 hours; sign-out ends it', async () => {
    const { call, app, tokenFor, clock } = await setup();
    const none = await call(null, 'GET', '/api/me');
    expect(none.status).toBe(401);
    expect(none.json.error).toBe('unauthorized');
    const forged = await app.request('/api/me', { headers: { authorization: 'Bearer ' + 'x'.repeat(43) } });
    expect(forged.status).toBe(401);

    const token = await tokenFor('rep');
    clock.now = new Date(clock.now.getTime() + 11 * 3600_000);
    expect((await app.request('/api/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    clock.now = new Date(clock.now.getTime() + 1 * 3600_000 + 1);
    expect((await app.request('/api/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

    const t2 = await tokenFor('manager');
    const out = await app.request('/api/auth/sign-out', { method: 'POST', headers: { authorization: `Bearer ${t2}` } });
    expect(out.status).toBe(200);
    expect((await app.request('/api/me', { headers: { authorization: `Bearer ${t2}` } })).status).toBe(401);
  });

  it('answers CORS preflights for extension and localhost origins only', async () => {
    const { app } = await setup();
    const pre = (origin: string) =>
      app.request('/api/sync/pull', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    for (const origin of ['chrome-extension://abcdefghijklmnopabcdefghijklmnop', 'moz-extension://0b1c2d3e-aaaa-bbbb-cccc-123456789abc', 'http://localhost:3000', 'http://127.0.0.1:5173']) {
      const r = await pre(origin);
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
      expect(r.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    }
    const evil = await pre('https://crm.evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('unknown routes answer JSON 404', async () => {
    const { call } = await setup();
    const r = await call('rep', 'GET', '/api/nope');
    expect(r.status).toBe(404);
    expect(ApiError.parse(r.json).error).toBe('not_found');
  });
});
