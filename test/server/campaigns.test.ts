// Campaign records, General Counsel approval, scrub results, retention and approval-mechanism
// failures on the backend: every state change and role, each change an audit event.
import { describe, expect, it } from 'vitest';
import { newCampaign, type CampaignCreateInput } from '../../lib/campaign';
import { CampaignCreate } from '../../lib/campaign';
import { setup, T0 } from './helpers';

const input = (over: Partial<CampaignCreateInput> = {}): CampaignCreateInput => ({
  name: 'Fiber Fall Promo',
  description: 'Offer fiber internet to wireless customers',
  cpniUsed: ['services subscribed', 'usage tier'],
  productsOffered: ['Fiber 1G'],
  channel: 'email',
  startsAt: '2025-07-01',
  solicitsApproval: false,
  ...over,
});

async function created(t: Awaited<ReturnType<typeof setup>>, over: Partial<CampaignCreateInput> = {}) {
  const r = await t.call('marketing', 'POST', '/api/campaigns', input(over));
  expect(r.status).toBe(201);
  return r.json as { id: string; status: string; owner: string; version: number };
}

const scrub = { total: 10, allowed: 5, blocked: 3, unknown: 1, malformed: 1, durationMs: 1234, fileName: 'list.csv' };

describe('campaign records', () => {
  it('a marketer registers a draft; only marketing may create', async () => {
    const t = await setup();
    const c = await created(t);
    expect(c).toMatchObject({ status: 'draft', owner: 'marketing@demo.test', version: 1 });
    for (const role of ['rep', 'counsel', 'manager'] as const) {
      expect((await t.call(role, 'POST', '/api/campaigns', input())).status).toBe(403);
    }
    expect((await t.call(null, 'POST', '/api/campaigns', input())).status).toBe(401);
  });

  it('refuses a campaign with no products offered, or ending before it starts', async () => {
    const t = await setup();
    expect((await t.call('marketing', 'POST', '/api/campaigns', input({ productsOffered: [] }))).status).toBe(400);
    expect((await t.call('marketing', 'POST', '/api/campaigns', input({ endsAt: '2025-06-01' }))).status).toBe(400);
  });

  it('marketing, counsel and manager can list, search and read; reps cannot', async () => {
    const t = await setup();
    const a = await created(t, { name: 'Fiber Fall Promo' });
    await created(t, { name: 'Wireless Upgrade', description: 'Upgrade wireless plans', productsOffered: ['5G plan'] });
    for (const role of ['marketing', 'counsel', 'manager'] as const) {
      const all = await t.call(role, 'GET', '/api/campaigns');
      expect(all.status).toBe(200);
      expect(all.json.campaigns).toHaveLength(2);
    }
    const found = await t.call('counsel', 'GET', '/api/campaigns?q=fiber');
    expect(found.json.campaigns.map((c: any) => c.id)).toEqual([a.id]);
    expect((await t.call('counsel', 'GET', '/api/campaigns?q=5g%20plan')).json.campaigns).toHaveLength(1);
    expect((await t.call('manager', 'GET', `/api/campaigns/${a.id}`)).json.name).toBe('Fiber Fall Promo');
    expect((await t.call('rep', 'GET', '/api/campaigns')).status).toBe(403);
    expect((await t.call('manager', 'GET', '/api/campaigns/nope')).status).toBe(404);
  });
});

describe('supervisory approval (policy §9)', () => {
  it('draft -> submitted -> approved, each change an audit event by its actor', async () => {
    const t = await setup();
    const c = await created(t);
    expect((await t.call('counsel', 'POST', `/api/campaigns/${c.id}/decision`, { decision: 'approve' })).status).toBe(409); // not submitted
    const s = await t.call('marketing', 'POST', `/api/campaigns/${c.id}/submit`);
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ status: 'submitted', submittedBy: 'marketing@demo.test' });
    const a = await t.call('counsel', 'POST', `/api/campaigns/${c.id}/decision`, { decision: 'approve', comment: 'OK' });
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ status: 'approved', decidedBy: 'counsel@demo.test', decisionComment: 'OK' });

    const audit = await t.call('manager', 'GET', '/api/audit-events?kind=campaign.state_changed&limit=10');
    const events = audit.json.events as any[];
    expect(events.map((e) => [e.actor, e.details.to])).toEqual([
      ['counsel@demo.test', 'approved'],
      ['marketing@demo.test', 'submitted'],
      ['marketing@demo.test', 'draft'],
    ]);
    for (const e of events) {
      expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
      expect(e.details.campaignId).toBe(c.id);
    }
    expect(events[0].ruleIds).toEqual(['SUPERVISORY_APPROVAL']);
  });

  it('a marketer cannot approve; only counsel decides', async () => {
    const t = await setup();
    const c = await created(t);
    await t.call('marketing', 'POST', `/api/campaigns/${c.id}/submit`);
    for (const role of ['marketing', 'manager', 'rep', 'admin'] as const) {
      expect((await t.call(role, 'POST', `/api/campaigns/${c.id}/decision`, { decision: 'approve' })).status).toBe(403);
    }
    expect((await t.call('counsel', 'GET', `/api/campaigns/${c.id}`)).json.status).toBe('submitted');
  });

  it('nobody approves their own campaign', async () => {
    const t = await setup();
    const own = newCampaign('own-1', CampaignCreate.parse(input()), 'counsel@demo.test', T0);
    await t.store.createCampaign({ ...own, status: 'submitted', submittedBy: 'counsel@demo.test' }, {
      id: '01900000-0000-7000-8000-000000000001', at: T0.toISOString(), kind: 'campaign.state_changed', actor: 'counsel@demo.test',
      actorRole: 'counsel', action: null, customerId: null, ruleIds: [], reasons: [], crm: null, pageUrl: null, control: null, details: {},
    });
    const r = await t.call('counsel', 'POST', '/api/campaigns/own-1/decision', { decision: 'approve' });
    expect(r.status).toBe(403);
    expect(r.json.message).toMatch(/own campaign/);
  });

  it('a rejection needs a comment; a rejected campaign can be submitted again', async () => {
    const t = await setup();
    const c = await created(t);
    await t.call('marketing', 'POST', `/api/campaigns/${c.id}/submit`);
    const noComment = await t.call('counsel', 'POST', `/api/campaigns/${c.id}/decision`, { decision: 'reject', comment: '  ' });
    expect(noComment.status).toBe(400);
    const r = await t.call('counsel', 'POST', `/api/campaigns/${c.id}/decision`, { decision: 'reject', comment: 'Name the CPNI fields precisely' });
    expect(r.json).toMatchObject({ status: 'rejected', decisionComment: 'Name the CPNI fields precisely' });
    expect((await t.call('counsel', 'POST', `/api/campaigns/${c.id}/decision`, { decision: 'approve' })).status).toBe(409);
    const again = await t.call('marketing', 'POST', `/api/campaigns/${c.id}/submit`);
    expect(again.json).toMatchObject({ status: 'submitted', decidedBy: null, decisionComment: null });
  });
});

describe('scrub results and sync', () => {
  it('records counts and time, sets scrubbedAt; the synced campaign carries status and scrubbedAt', async () => {
    const t = await setup();
    const c = await created(t);
    expect((await t.call('marketing', 'POST', `/api/campaigns/${c.id}/scrubs`, { ...scrub, total: 11 })).status).toBe(400);
    expect((await t.call('counsel', 'POST', `/api/campaigns/${c.id}/scrubs`, scrub)).status).toBe(403);
    const r = await t.call('marketing', 'POST', `/api/campaigns/${c.id}/scrubs`, scrub);
    expect(r.status).toBe(200);
    expect(r.json.scrubbedAt).toBe(T0.toISOString());
    expect(r.json.scrub).toMatchObject({ ...scrub, by: 'marketing@demo.test' });

    const { changes } = await t.pullAll();
    const synced = changes.find((ch) => ch.entity === 'campaign' && ch.id === c.id);
    expect(synced).toMatchObject({ op: 'upsert', version: 2, data: { status: 'draft', scrubbedAt: T0.toISOString() } });
    expect((synced as any).data.scrub).toBeUndefined(); // only the synced shape goes to extensions
  });

  it('a delta pull after approval carries the new status', async () => {
    const t = await setup();
    const c = await created(t);
    const first = await t.pullAll();
    await t.call('marketing', 'POST', `/api/campaigns/${c.id}/submit`);
    await t.call('counsel', 'POST', `/api/campaigns/${c.id}/decision`, { decision: 'approve' });
    const delta = await t.pullAll(first.cursor);
    expect(delta.changes).toEqual([expect.objectContaining({ entity: 'campaign', id: c.id, version: 3, data: expect.objectContaining({ status: 'approved' }) })]);
  });
});

describe('retention', () => {
  it('refuses deletion within a year of the last change; allows it after, with a tombstone', async () => {
    const t = await setup();
    const c = await created(t);
    expect((await t.call('marketing', 'DELETE', `/api/campaigns/${c.id}`)).status).toBe(403);
    t.clock.now = new Date(T0.getTime() + 364 * 86_400_000);
    const early = await t.call('admin', 'DELETE', `/api/campaigns/${c.id}`);
    expect(early.status).toBe(409);
    expect(early.json.error).toBe('retention');
    expect((await t.call('manager', 'GET', `/api/campaigns/${c.id}`)).status).toBe(200);
    t.clock.now = new Date(T0.getTime() + 366 * 86_400_000);
    const ok = await t.call('admin', 'DELETE', `/api/campaigns/${c.id}`);
    expect(ok.status).toBe(200);
    expect((await t.call('manager', 'GET', `/api/campaigns/${c.id}`)).status).toBe(404);
    const { changes } = await t.pullAll();
    expect(changes.find((ch) => ch.id === c.id)).toMatchObject({ op: 'tombstone', entity: 'campaign' });
  });
});

describe('approval-mechanism failures (policy §12)', () => {
  it('a manager records one; the FCC notice is due in 5 business days; marking it sent is audited once', async () => {
    const t = await setup();
    // T0 is Monday 2 June 2025: 5 business days later is Monday 9 June.
    const body = { mechanism: 'opt_in', description: 'Web opt-in form stored no answers for 3 days', occurredAt: '2025-05-30T12:00:00Z' };
    expect((await t.call('marketing', 'POST', '/api/approval-failures', body)).status).toBe(403);
    const r = await t.call('manager', 'POST', '/api/approval-failures', body);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ noticeDue: '2025-06-09', noticeSentAt: null, recordedBy: 'manager@demo.test' });
    expect((await t.call('counsel', 'GET', '/api/approval-failures')).json.failures).toHaveLength(1);
    expect((await t.call('rep', 'GET', '/api/approval-failures')).status).toBe(403);
    const sent = await t.call('manager', 'POST', `/api/approval-failures/${r.json.id}/notice-sent`);
    expect(sent.json.noticeSentBy).toBe('manager@demo.test');
    expect((await t.call('manager', 'POST', `/api/approval-failures/${r.json.id}/notice-sent`)).status).toBe(409);
    const kinds = (await t.call('manager', 'GET', '/api/audit-events?ruleId=OPT_IN_FAILURE')).json.events.map((e: any) => e.kind);
    expect(kinds).toEqual(['approval_failure.notice_sent', 'approval_failure.recorded']);
  });

  it('counts federal holidays: recorded the Wednesday before Thanksgiving', async () => {
    const t = await setup();
    t.clock.now = new Date('2025-11-26T15:00:00Z');
    const r = await t.call('manager', 'POST', '/api/approval-failures', { mechanism: 'opt_out', description: 'Opt-out notices not mailed', occurredAt: '2025-11-25T12:00:00Z' });
    // Thu 27 (holiday) skipped: Fri 28, Mon 1, Tue 2, Wed 3, Thu 4 Dec.
    expect(r.json.noticeDue).toBe('2025-12-04');
  });
});
