import { describe, expect, it } from 'vitest';
import { AuditPushResponse, AuditQueryResponse } from '../../lib/api';
import { T0, event, setup } from './helpers';

const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000).toISOString();

describe('audit push', () => {
  it('is idempotent: the same batch twice is stored once, the second time as duplicates', async () => {
    const { call } = await setup();
    const batch = { events: [event(), event({ kind: 'consent.captured', ruleIds: ['ONE_TIME_CONSENT'] }), event()] };
    const first = AuditPushResponse.parse((await call('rep', 'POST', '/api/audit-events', batch)).json);
    expect(first.accepted).toEqual(batch.events.map((e) => e.id));
    expect(first.duplicates).toEqual([]);
    const again = await call('rep', 'POST', '/api/audit-events', batch);
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ accepted: [], duplicates: batch.events.map((e) => e.id) });
    const stored = AuditQueryResponse.parse((await call('manager', 'GET', '/api/audit-events')).json);
    expect(stored.events.map((e) => e.id).sort()).toEqual(batch.events.map((e) => e.id).sort());
  });

  it('a batch naming another actor or role is refused whole, and nothing is stored', async () => {
    const { call } = await setup();
    const honest = event();
    const forgedActor = await call('rep', 'POST', '/api/audit-events', { events: [honest, event({ actor: 'rep2@demo.test' })] });
    expect(forgedActor.status).toBe(403);
    expect(forgedActor.json.issues).toEqual([expect.objectContaining({ path: 'events[1].actor' })]);
    const forgedRole = await call('rep', 'POST', '/api/audit-events', { events: [event({ actorRole: 'manager' })] });
    expect(forgedRole.status).toBe(403);
    const stored = await call('manager', 'GET', '/api/audit-events');
    expect(stored.json.events).toEqual([]);
    // the honest event goes through on its own
    expect((await call('rep', 'POST', '/api/audit-events', { events: [honest] })).json.accepted).toEqual([honest.id]);
  });

  it('refuses events that fail the schema with 400, naming the field', async () => {
    const { call } = await setup();
    const r = await call('rep', 'POST', '/api/audit-events', { events: [{ ...event(), id: 'not-a-uuid' }] });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_body');
    expect(r.json.issues).toEqual([expect.objectContaining({ path: 'events[0].id' })]);
    const empty = await call('rep', 'POST', '/api/audit-events', { events: [] });
    expect(empty.status).toBe(400);
  });
});

describe('audit query', () => {
  async function withEvents() {
    const s = await setup();
    const rep = [
      event({ at: at(1), customerId: 'C-1', ruleIds: ['APPROVAL_REQUIRED'] }),
      event({ at: at(2), customerId: 'C-2', kind: 'action.overridden', ruleIds: ['APPROVAL_REQUIRED', 'SUPERVISORY_APPROVAL'] }),
      event({ at: at(3), customerId: 'C-1', kind: 'cpni.released', action: 'disclose.call_detail', ruleIds: ['CALL_DETAIL_AUTH'] }),
      // same instant as the next one, written with an offset: ordered by time, then id
      event({ at: '2025-06-02T17:04:00+02:00', customerId: 'C-3', ruleIds: ['NO_SALE'], action: 'sell' }),
    ];
    const rep2 = [
      event({ actor: 'rep2@demo.test', at: at(4), customerId: 'C-1', ruleIds: ['NO_SALE'], action: 'sell' }),
      event({ actor: 'rep2@demo.test', at: at(5), customerId: 'C-2', kind: 'verification.attempted', action: null, ruleIds: ['CALL_DETAIL_AUTH'] }),
    ];
    expect((await s.call('rep', 'POST', '/api/audit-events', { events: rep })).status).toBe(200);
    expect((await s.call('rep2', 'POST', '/api/audit-events', { events: rep2 })).status).toBe(200);
    return { ...s, all: [...rep, ...rep2] };
  }
  const q = async (s: Awaited<ReturnType<typeof setup>>, params: Record<string, string>) => {
    const r = await s.call('manager', 'GET', `/api/audit-events?${new URLSearchParams(params)}`);
    expect(r.status).toBe(200);
    return AuditQueryResponse.parse(r.json);
  };

  it('returns newest first with receivedAt, and filters by actor, kind, action, ruleId, customer and time', async () => {
    const s = await withEvents();
    const all = await q(s, {});
    const times = all.events.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.events).toHaveLength(6);
    expect(all.events[0]!.receivedAt).toBe(T0.toISOString());
    expect(all.next).toBeNull();

    expect((await q(s, { actor: 'rep2@demo.test' })).events.every((e) => e.actor === 'rep2@demo.test')).toBe(true);
    expect((await q(s, { actor: 'rep2@demo.test' })).events).toHaveLength(2);
    expect((await q(s, { kind: 'action.overridden' })).events.map((e) => e.customerId)).toEqual(['C-2']);
    expect((await q(s, { action: 'sell' })).events).toHaveLength(2);
    const byRule = await q(s, { ruleId: 'APPROVAL_REQUIRED' });
    expect(byRule.events.map((e) => e.at)).toEqual([at(2), at(1)]); // matches when ruleIds contains it
    expect((await q(s, { customerId: 'C-1' })).events.map((e) => e.at)).toEqual([at(4), at(3), at(1)]);
    expect((await q(s, { from: at(2), to: at(3) })).events.map((e) => e.at)).toEqual([at(3), at(2)]);
    expect((await q(s, { customerId: 'C-1', ruleId: 'NO_SALE' })).events).toHaveLength(1);
  });

  it('pages newest first with an opaque before token, never repeating or skipping', async () => {
    const s = await withEvents();
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const page: AuditQueryResponse = await q(s, before ? { limit: '2', before } : { limit: '2' });
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e) => e.id));
      before = page.next;
      pages++;
    } while (before);
    expect(pages).toBe(3);
    const full = await q(s, { limit: '500' });
    expect(seen).toEqual(full.events.map((e) => e.id));
    expect(new Set(seen).size).toBe(6);
  });

  it('a malformed page token or filter is a 400', async () => {
    const s = await withEvents();
    expect((await s.call('manager', 'GET', '/api/audit-events?before=garbage!')).status).toBe(400);
    expect((await s.call('manager', 'GET', `/api/audit-events?before=${Buffer.from('v1:x:y').toString('base64url')}`)).status).toBe(400);
    const bad = await s.call('manager', 'GET', '/api/audit-events?ruleId=NOT_A_RULE');
    expect(bad.status).toBe(400);
    expect(bad.json.issues[0].path).toBe('ruleId');
    expect((await s.call('manager', 'GET', '/api/audit-events?from=yesterday')).status).toBe(400);
  });
});
