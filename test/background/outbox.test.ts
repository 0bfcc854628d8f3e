import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { AuditEvent } from '@/lib/schemas';
import { GuardEventReply } from '@/lib/messages';
import { BACKOFF_CAP_MS, backoffMs } from '@/entrypoints/background/outbox';
import { FakeBackend, contentSender, customer, makeBackground, signIn, up } from './helpers';

const blocked = (control = 'Add to campaign') => ({
  type: 'guard.event',
  kind: 'action.blocked',
  action: 'marketing.other_category',
  decision: {
    verdict: 'block',
    reasons: [{ ruleId: 'APPROVAL_REQUIRED', citation: '47 C.F.R. 64.2007', text: 'No opt-in on file for marketing.' }],
    remedies: [{ id: 'consent.capture', text: 'Ask the customer for consent.' }],
  },
  customerId: 'c1',
  crm: 'demo-crm',
  pageUrl: 'http://localhost:5173/customers/crm-1',
  control,
  details: {},
});

function backendWithOneCustomer() {
  return new FakeBackend()
    .page('', { changes: [up('customer', customer(1))], cursor: 'c1', hasMore: false })
    .page('c1', { changes: [], cursor: 'c1', hasMore: false });
}

async function guardEvent(bg: ReturnType<typeof makeBackground>, msg = blocked()) {
  const reply = GuardEventReply.parse(await bg.handleMessage(msg, contentSender()));
  if (!reply.ok) throw new Error(reply.error);
  return reply.data.eventId;
}

describe('audit outbox', () => {
  beforeEach(() => fakeBrowser.reset());

  it('keeps events across a failed flush and a worker restart, then delivers them once the backend answers', async () => {
    let clock = Date.parse('2025-01-02T10:00:00Z');
    const now = () => new Date(clock);
    const backend = backendWithOneCustomer();
    const bg = makeBackground(backend, { now });
    await signIn(bg);
    backend.audit = 'down';

    const eventId = await guardEvent(bg);
    // the event is stored by the time the guard hears back
    expect(await bg.store.outbox.get(eventId)).toBeDefined();
    await bg.outbox.flush();
    const row = await bg.store.outbox.get(eventId);
    expect(row).toMatchObject({ attempts: 1, nextAttemptAt: clock + backoffMs(1) });

    // a second failure backs off further; the cap holds
    await bg.outbox.flush({ force: true });
    expect((await bg.store.outbox.get(eventId))?.attempts).toBe(2);
    expect(backoffMs(2)).toBeGreaterThan(backoffMs(1));
    expect(backoffMs(30)).toBe(BACKOFF_CAP_MS);
    await bg.close();

    // the worker restarts; the backend is back; the alarm fires before the backoff ran out
    backend.audit = 'up';
    const restarted = makeBackground(backend, { names: bg.names, now });
    await restarted.tick();
    expect(backend.stored.size).toBe(0); // not due yet
    clock += BACKOFF_CAP_MS;
    await restarted.tick();

    const delivered = backend.stored.get(eventId);
    expect(delivered).toBeDefined();
    expect(AuditEvent.parse(delivered)).toMatchObject({
      id: eventId,
      kind: 'action.blocked',
      actor: 'rita.rep@carrier.test',
      actorRole: 'rep',
      action: 'marketing.other_category',
      ruleIds: ['APPROVAL_REQUIRED'],
      reasons: ['No opt-in on file for marketing.'],
      control: 'Add to campaign',
      details: { verdict: 'block' },
    });
    expect(eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(await restarted.store.outbox.count()).toBe(0);
  });

  it('deletes only acknowledged ids (accepted and duplicates); the rest wait', async () => {
    const backend = backendWithOneCustomer();
    const bg = makeBackground(backend);
    await signIn(bg);
    backend.audit = 'down';
    const a = await guardEvent(bg, blocked('A'));
    const b = await guardEvent(bg, blocked('B'));
    const c = await guardEvent(bg, blocked('C'));
    await bg.outbox.flush(); // runs after the flushes recording started, which fail

    backend.audit = 'up';
    backend.dropIds.add(b);
    backend.stored.set(c, {} as never); // c reached the backend earlier: a duplicate now
    const out = await bg.outbox.flush({ force: true });
    expect(out).toMatchObject({ ok: true, delivered: 2, remaining: 1 });
    expect((await bg.store.outbox.toArray()).map((r) => r.id)).toEqual([b]);
    expect(backend.stored.has(a)).toBe(true);

    backend.dropIds.clear();
    await bg.outbox.flush({ force: true });
    expect(await bg.store.outbox.count()).toBe(0);
    expect(backend.stored.has(b)).toBe(true);
  });

  it('flushes by itself after recording when the backend is up', async () => {
    const backend = backendWithOneCustomer();
    const bg = makeBackground(backend);
    await signIn(bg);
    const id = await guardEvent(bg);
    await bg.outbox.flush(); // joins/follows the flush record() started
    expect(backend.stored.has(id)).toBe(true);
    expect(await bg.store.outbox.count()).toBe(0);
  });

  it('keeps events recorded while signed out and gives them to the next user who signs in', async () => {
    const backend = backendWithOneCustomer();
    const bg = makeBackground(backend);
    const eventId = await guardEvent(bg);
    expect(await bg.store.outbox.get(eventId)).toMatchObject({ pendingActor: true });
    await bg.outbox.flush({ force: true });
    expect(backend.pushes).toBe(0);

    await signIn(bg);
    await bg.outbox.flush();
    expect(backend.stored.get(eventId)).toMatchObject({
      actor: 'rita.rep@carrier.test',
      details: { actorAssignedAtSignIn: true },
    });
  });
});
