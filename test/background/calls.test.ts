import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { FIRST_NOTICE_VERSION } from '@/lib/calls';
import { PanelState } from '@/lib/messages';
import { FakeBackend, T0, contentSender, customer, fakePort, makeBackground, openRecord, pageSender, signIn, up } from './helpers';

/** The fake backend plus the call routes, recording what reached them. */
function backendWithCalls() {
  const b = new FakeBackend()
    .page('', {
      changes: [up('customer', customer(1, { passwordEstablished: true, addressOfRecord: { lines: ['1 Main St'], setAt: '2024-01-01T00:00:00.000Z' } }))],
      cursor: 'c1',
      hasMore: false,
    })
    .page('c1', { changes: [], cursor: 'c1', hasMore: false });
  const seen: { path: string; body: any }[] = [];
  let capturesUp = true;
  const base = b.fetch;
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch: typeof base = async (input, init) => {
    const path = new URL(input).pathname;
    const body = init?.body ? JSON.parse(String(init.body)) : null;
    if (path.startsWith('/api/customers/') || path.startsWith('/api/consents/') || path.startsWith('/api/notices/')) seen.push({ path, body });
    if (path === '/api/customers/c1/verify-password') return json(200, { verified: body.password === 'right', attemptsLeft: body.password === 'right' ? 3 : 2, locked: false });
    if (path === '/api/notices/current') return json(200, { version: FIRST_NOTICE_VERSION, effectiveAt: T0, text: 'notice text' });
    if (path === '/api/consents/captures') {
      if (!capturesUp) throw new TypeError('Failed to fetch');
      return json(200, { accepted: body.consents.map((c: any) => c.id), duplicates: [] });
    }
    if (path === '/api/customers/c1/account-changes') {
      return json(201, { id: body.id, customerId: 'c1', field: body.field, channel: 'mail', addressedTo: ['1 Main St'], text: 't', source: body.source, changedAt: body.changedAt, createdAt: T0, createdBy: 'rita.rep@carrier.test', sentAt: null, sentBy: null });
    }
    return base(input, init);
  };
  return Object.assign(b, { fetch, seen, setCaptures: (up: boolean) => (capturesUp = up) });
}

let clock = new Date(T0);
const now = () => clock;
const page = (_msg: Record<string, unknown>) => pageSender(7);

beforeEach(() => {
  fakeBrowser.reset();
  clock = new Date(T0);
});

async function ready() {
  const backend = backendWithCalls();
  const bg = makeBackground(backend, { now });
  await signIn(bg);
  await openRecord(bg, { crmId: 'crm-1' });
  return { backend, bg };
}

describe('calls in the background', () => {
  it('start, verify by password on the backend, and keep it across a worker restart', async () => {
    const { backend, bg } = await ready();
    const started = await bg.handleMessage({ type: 'call.start', customerId: 'c1', direction: 'inbound' }, page({}));
    expect(started.ok).toBe(true);
    const wrong = await bg.handleMessage({ type: 'verify.password', customerId: 'c1', password: 'nope' }, page({}));
    expect(wrong).toMatchObject({ ok: true, data: { verified: false, attemptsLeft: 2 } });
    const right = await bg.handleMessage({ type: 'verify.password', customerId: 'c1', password: 'right' }, page({}));
    expect(right).toMatchObject({ ok: true, data: { verified: true } });
    const callId = (started as any).data.id;
    expect(backend.seen.filter((s) => s.path.endsWith('verify-password')).map((s) => s.body.callId)).toEqual([callId, callId]);

    const snap = await bg.lookup({ crm: 'demo-crm', crmId: 'crm-1', accountNumber: null, phones: [], emails: [] });
    expect(snap).toMatchObject({ state: 'known', call: { id: callId, direction: 'inbound' }, verification: { method: 'password', callId } });
    // The snapshot's call carries its idle end (policy.callIdleMinutes, default 30).
    expect((snap as any).call.endedAt).toBe(new Date(clock.getTime() + 30 * 60_000).toISOString());

    // A stopped worker comes back with the call.
    const again = makeBackground(backend, { names: bg.names, now });
    const s2 = await again.lookup({ crm: 'demo-crm', crmId: 'crm-1', accountNumber: null, phones: [], emails: [] });
    expect(s2).toMatchObject({ call: { id: callId }, verification: { method: 'password' } });
    await again.close();
    await new Promise((res) => setTimeout(res, 100));
    await bg.close();
  });

  it('a call idles out: verification is refused and the snapshot call has ended', async () => {
    const { bg } = await ready();
    await bg.handleMessage({ type: 'call.start', customerId: 'c1', direction: 'outbound' }, page({}));
    clock = new Date(T0.valueOf() + 31 * 60_000);
    const r = await bg.handleMessage({ type: 'verify.callback', customerId: 'c1' }, page({}));
    expect(r).toMatchObject({ ok: false, error: expect.stringContaining('start the call') });
    await new Promise((res) => setTimeout(res, 100));
    await bg.close();
  });

  it('one-time consent: pending at once (in the snapshot and the panel), audited, delivered, then recorded', async () => {
    const { backend, bg } = await ready();
    backend.setCaptures(false);
    const input = { customerId: 'c1', purpose: 'marketing', state: 'opt_in', method: 'oral', scope: 'call', noticeVersion: FIRST_NOTICE_VERSION, evidence: null };
    expect((await bg.handleMessage({ type: 'consent.capture', input }, page({}))).ok).toBe(false); // no call open
    await bg.handleMessage({ type: 'call.start', customerId: 'c1', direction: 'inbound' }, page({}));
    const r = await bg.handleMessage({ type: 'consent.capture', input }, page({}));
    expect(r).toMatchObject({ ok: true, data: { status: 'pending', scope: 'call' } });

    const port = fakePort(pageSender(7));
    bg.connectPanel(port);
    await new Promise((res) => setTimeout(res, 50));
    const state = PanelState.parse(port.messages.at(-1));
    expect(state.calls?.captures).toMatchObject([{ status: 'pending' }]);
    expect(state.snapshot.state === 'known' && state.snapshot.consents.some((c) => c.scope === 'call' && c.capturedBy === 'rita.rep@carrier.test')).toBe(true);
    await bg.outbox.flush({ force: true });
    expect([...backend.stored.values()].map((e) => e.kind)).toContain('consent.captured');

    backend.setCaptures(true);
    await bg.handleMessage({ type: 'sync.now' }, page({}));
    const after = PanelState.parse(port.messages.at(-1));
    expect(after.calls?.captures).toMatchObject([{ status: 'recorded' }]);
    expect(backend.seen.filter((s) => s.path === '/api/consents/captures').at(-1)!.body.consents[0]).toMatchObject({
      scope: 'call',
      method: 'oral',
      noticeVersion: FIRST_NOTICE_VERSION,
      capturedBy: 'rita.rep@carrier.test',
    });
    await new Promise((res) => setTimeout(res, 100));
    await bg.close();
  });

  it('an account change allowed by the guard in the CRM creates its notice on the backend', async () => {
    const { backend, bg } = await ready();
    const ev = {
      type: 'guard.event',
      kind: 'action.allowed',
      action: 'account.change',
      decision: { verdict: 'allow', reasons: [{ ruleId: 'ACCOUNT_CHANGE_NOTICE', citation: 'policy §10', text: 'notice' }], remedies: [] },
      customerId: 'c1',
      crm: 'demo-crm',
      pageUrl: 'http://localhost:5173/contacts/crm-1',
      control: 'Save address of record',
      details: { accountField: 'address_of_record' },
    };
    expect((await bg.handleMessage(ev, contentSender(7))).ok).toBe(true);
    await expect.poll(() => backend.seen.filter((s) => s.path === '/api/customers/c1/account-changes').length).toBe(1);
    expect(backend.seen.find((s) => s.path === '/api/customers/c1/account-changes')!.body).toMatchObject({ field: 'address_of_record', source: 'crm' });
    await new Promise((res) => setTimeout(res, 100));
    await bg.close();
  });
});
