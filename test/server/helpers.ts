// Test harness: an app over an in-memory SQLite store, a settable clock, signed-in users.
import { uuidv7 } from 'uuidv7';
import { createApp } from '../../server/app';
import { hashPassword } from '../../server/crypto';
import { openSqliteStore, type SqliteStore } from '../../server/db';
import { DEMO_USERS, DEMO_USER_PASSWORD, seedDemo } from '../../server/seed';
import { PullResponse, type Change } from '../../lib/api';
import type { AuditEventInput, Role } from '../../lib/schemas';

let hash: Promise<string> | null = null;
const demoHash = () => (hash ??= hashPassword(DEMO_USER_PASSWORD));

export const T0 = new Date('2025-06-02T15:00:00.000Z');

export async function setup(opts: { demo?: boolean } = {}) {
  const clock = { now: new Date(T0) };
  const store: SqliteStore = openSqliteStore(':memory:', clock.now);
  if (opts.demo) await seedDemo(store, clock.now);
  else for (const u of DEMO_USERS) await store.createUser({ ...u, passwordHash: await demoHash() });
  const app = createApp({ db: store, now: () => clock.now });
  const tokens = new Map<string, { token: string; at: number }>();

  async function signIn(email: string, password = DEMO_USER_PASSWORD) {
    return app.request('/api/auth/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
  }
  async function tokenFor(role: Role | 'rep2'): Promise<string> {
    const email = role === 'rep2' ? 'rep2@demo.test' : `${role}@demo.test`;
    const cached = tokens.get(email);
    const age = cached ? clock.now.getTime() - cached.at : Infinity;
    if (cached && age >= 0 && age < 11 * 3600_000) return cached.token; // tokens last 12 h
    const res = await signIn(email);
    if (res.status !== 200) throw new Error(`sign-in ${email}: ${res.status}`);
    const token = ((await res.json()) as { token: string }).token;
    tokens.set(email, { token, at: clock.now.getTime() });
    return token;
  }
  async function call(as: Role | 'rep2' | null, method: string, path: string, body?: unknown, contentType = 'application/json') {
    const headers: Record<string, string> = {};
    if (as) headers.authorization = `Bearer ${await tokenFor(as)}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = contentType;
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await app.request(path, { method, headers, body: payload });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  }
  /** Pulls pages until hasMore is false; returns every change and the final cursor. */
  async function pullAll(cursor?: string, limit = 1000) {
    const all: Change[] = [];
    let pages = 0;
    for (;;) {
      const q = new URLSearchParams({ limit: String(limit) });
      if (cursor) q.set('cursor', cursor);
      const r = await call('rep', 'GET', `/api/sync/pull?${q}`);
      if (r.status !== 200) throw new Error(`pull ${r.status}: ${JSON.stringify(r.json)}`);
      const page = PullResponse.parse(r.json);
      all.push(...page.changes);
      cursor = page.cursor;
      pages++;
      if (!page.hasMore) break;
    }
    return { changes: all, cursor: cursor!, pages };
  }
  return { app, store, clock, signIn, tokenFor, call, pullAll };
}

export function event(over: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    id: uuidv7(),
    at: T0.toISOString(),
    kind: 'action.blocked',
    actor: 'rep@demo.test',
    actorRole: 'rep',
    action: 'marketing.other_category',
    customerId: 'C-1002',
    ruleIds: ['APPROVAL_REQUIRED'],
    reasons: ['No approval on file for marketing outside the categories the customer buys.'],
    crm: 'demo-crm',
    pageUrl: 'https://crm.example.test/customers/C-1002',
    control: 'Send offer',
    details: {},
    ...over,
  };
}

export function customerRow(id: string, over: Record<string, unknown> = {}) {
  const n = Number(id.replace(/\D/g, '')) % 100;
  return {
    type: 'customer',
    customer: {
      id,
      accountNumber: `ACCT-${id}`,
      name: `Customer ${id}`,
      crmRefs: [{ crm: 'test-crm', id }],
      phones: [`+1407555${String(100 + n).padStart(4, '0')}`],
      emails: [`${id.toLowerCase()}@example.com`],
      serviceCategories: ['wireless'],
      ...over,
    },
  };
}

export function consentRow(id: string, customerId: string, over: Record<string, unknown> = {}) {
  return {
    type: 'consent',
    consent: {
      id,
      customerId,
      purpose: 'marketing',
      state: 'opt_in',
      method: 'written',
      capturedBy: 'rep@demo.test',
      capturedAt: T0.toISOString(),
      noticeVersion: 'N-1',
      ...over,
    },
  };
}
