import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { AuditQueryReply, PanelState, StatusReply } from '@/lib/messages';
import { senderKind } from '@/entrypoints/background/router';
import {
  FakeBackend,
  ORIGIN,
  RUNTIME_ID,
  contentSender,
  customer,
  consent,
  fakePort,
  makeBackground,
  openRecord,
  pageSender,
  signIn,
  up,
} from './helpers';

function backendWithData() {
  return new FakeBackend()
    .page('', { changes: [up('customer', customer(1)), up('consent', consent(1, 'c1'))], cursor: 'c1', hasMore: false })
    .page('c1', { changes: [], cursor: 'c1', hasMore: false });
}

const blockEvent = {
  type: 'guard.event',
  kind: 'action.blocked',
  action: 'sell',
  decision: {
    verdict: 'block',
    reasons: [{ ruleId: 'NO_SALE', citation: 'policy §6', text: 'CPNI is never sold.' }],
    remedies: [],
  },
  customerId: 'c1',
  crm: 'demo-crm',
  pageUrl: 'http://localhost:5173/customers/crm-1',
  control: 'Sell list',
  details: {},
};

async function statusOf(bg: ReturnType<typeof makeBackground>) {
  const r = StatusReply.parse(await bg.handleMessage({ type: 'status.get' }, pageSender()));
  if (!r.ok) throw new Error(r.error);
  return r.data;
}

describe('messages and senders', () => {
  beforeEach(() => fakeBrowser.reset());

  it('classifies senders: content script, extension page (the panel iframe too), anything else', () => {
    const me = { runtimeId: RUNTIME_ID, extensionOrigin: ORIGIN };
    expect(senderKind(contentSender(3), me)).toMatchObject({ kind: 'content', tabId: 3 });
    expect(senderKind(pageSender(), me)).toMatchObject({ kind: 'page', tabId: null });
    expect(senderKind({ ...pageSender(3), url: `${ORIGIN}panel.html` }, me)).toMatchObject({ kind: 'page', tabId: 3 });
    expect(senderKind({ ...contentSender(), id: 'other-extension' }, me).kind).toBe('foreign');
    expect(senderKind({ id: RUNTIME_ID, url: 'http://localhost/' }, me).kind).toBe('foreign'); // no tab
    expect(senderKind(undefined, me).kind).toBe('foreign');
    // A frame a CRM script inserted before setting its src: about:blank, with the CRM's origin.
    const blank = { ...contentSender(4), url: 'about:blank', origin: 'https://acme.crm.dynamics.com' };
    expect(senderKind(blank, me)).toMatchObject({ kind: 'content', tabId: 4, url: 'https://acme.crm.dynamics.com' });
    expect(senderKind({ ...blank, origin: 'null' }, me).kind).toBe('foreign');
  });

  it('answers forged messages with { ok: false, error } and changes nothing', async () => {
    const backend = backendWithData();
    const bg = makeBackground(backend);
    await signIn(bg);
    const before = await statusOf(bg);

    const forged: [unknown, ReturnType<typeof pageSender> | undefined, RegExp][] = [
      ['hello', contentSender(), /Malformed/],
      [{ type: 'record.open' }, contentSender(), /Invalid "record.open".*identifiers/],
      [{ type: 'record.open', identifiers: { crm: 'demo-crm', crmId: 'crm-1', phones: 'x' } }, contentSender(), /Invalid/],
      [{ type: 'auth.signOut' }, contentSender(), /only accepted from extension pages/],
      [{ type: 'sync.now' }, contentSender(), /only accepted from extension pages/],
      [blockEvent, pageSender(), /only accepted from a CRM tab/],
      [{ type: 'auth.signOut' }, { ...pageSender(), id: 'evil-extension' }, /not sent by this extension/],
      [{ type: 'status.get' }, undefined, /not sent by this extension/],
      [{ type: 'wipe.everything' }, pageSender(), /Unknown message type/],
      [{ ...blockEvent, kind: 'action.teleported' }, contentSender(), /Invalid "guard.event"/],
    ];
    for (const [message, sender, error] of forged) {
      const reply = await bg.handleMessage(message, sender);
      expect(reply, JSON.stringify(message)).toEqual({ ok: false, error: expect.stringMatching(error) });
    }

    const after = await statusOf(bg);
    expect(after).toMatchObject({ user: before.user, counts: before.counts, outboxPending: 0 });
    expect(backend.stored.size).toBe(0);
    expect((await bg.tabs.get(7)).identifiers).toBeNull();
  });

  it('answers through runtime.onMessage with sendResponse and checks the sender there too', async () => {
    const backend = backendWithData();
    const bg = makeBackground(backend);
    await signIn(bg);
    fakeBrowser.runtime.onMessage.addListener(bg.onMessage as never);

    const ask = (message: unknown, sender: object) =>
      new Promise((resolve) => {
        void fakeBrowser.runtime.onMessage.trigger(message, sender as never, resolve);
      });
    expect(await ask({ type: 'auth.signOut' }, contentSender())).toMatchObject({ ok: false });
    expect(await statusOf(bg)).toMatchObject({ user: { role: 'rep' }, counts: { customers: 1 } });

    const open = await ask(
      { type: 'record.open', identifiers: { crm: 'demo-crm', crmId: 'crm-1' } },
      contentSender(),
    );
    expect(open).toMatchObject({ ok: true, data: { snapshot: { state: 'known', customer: { id: 'c1' } } } });
  });

  it('sign-out clears the customer cache but keeps undelivered audit events', async () => {
    const backend = backendWithData();
    const bg = makeBackground(backend);
    await signIn(bg);
    backend.audit = 'down';
    const ev = await bg.handleMessage(blockEvent, contentSender());
    expect(ev.ok).toBe(true);

    const out = await bg.handleMessage({ type: 'auth.signOut' }, pageSender());
    expect(out.ok).toBe(true);
    const s = await statusOf(bg);
    expect(s).toMatchObject({ user: null, backendUrl: null, lastSuccessAt: null, counts: { customers: 0, consents: 0 }, outboxPending: 1 });
    expect(await bg.cache.cursor()).toBeNull();
    expect((await openRecord(bg, { crmId: 'crm-1' }))).toMatchObject({ ok: true, data: { snapshot: { state: 'unknown', why: 'signed_out' } } });

    // signing in again delivers the kept event and syncs from scratch
    backend.audit = 'up';
    backend.pullCursors = [];
    await signIn(bg);
    await bg.outbox.flush();
    expect(backend.pullCursors[0]).toBe('');
    expect(backend.stored.size).toBe(1);
    expect((await statusOf(bg)).outboxPending).toBe(0);
  });

  it('signs out tried deliveries first: events the backend takes are not left behind', async () => {
    const backend = backendWithData();
    const bg = makeBackground(backend);
    await signIn(bg);
    await bg.handleMessage(blockEvent, contentSender());
    await bg.handleMessage({ type: 'auth.signOut' }, pageSender());
    expect(backend.stored.size).toBe(1);
    expect((await statusOf(bg)).outboxPending).toBe(0);
  });

  it('a failed sign-in says why and keeps the previous state', async () => {
    const bg = makeBackground(backendWithData());
    const wrong = await bg.handleMessage(
      { type: 'auth.signIn', backendUrl: 'http://backend.test', email: 'rita.rep@carrier.test', password: 'nope' },
      pageSender(),
    );
    expect(wrong).toEqual({ ok: false, error: 'Sign-in failed: Wrong email or password' });
    const bad = await bg.handleMessage({ type: 'auth.signIn', backendUrl: 'not a url', email: 'a', password: 'b' }, pageSender());
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/backendUrl/) });
    expect((await statusOf(bg)).user).toBeNull();
  });

  it('pushes panel state to the tab\'s panel: on connect, on record open, on a block, and after dismiss', async () => {
    const bg = makeBackground(backendWithData());
    await signIn(bg);
    const panel = fakePort({ id: RUNTIME_ID, url: `${ORIGIN}panel.html`, tab: { id: 7 } });
    expect(bg.connectPanel(panel)).toBe(true);
    const last = () => PanelState.parse(panel.messages.at(-1));
    await vi.waitFor(() =>
      expect(last()).toMatchObject({ snapshot: { state: 'unknown', why: 'loading' }, user: { role: 'rep' }, lastBlock: null }),
    );

    await openRecord(bg, { crmId: 'crm-1' });
    await vi.waitFor(() => expect(last().snapshot).toMatchObject({ state: 'known', customer: { id: 'c1' } }));

    const ev = await bg.handleMessage(blockEvent, contentSender(7));
    const eventId = ev.ok ? (ev.data as { eventId: string }).eventId : 'x';
    await vi.waitFor(() => expect(last().lastBlock).toMatchObject({ action: 'sell', control: 'Sell list', eventId }));

    // another tab's panel hears nothing of it
    const other = fakePort({ id: RUNTIME_ID, url: `${ORIGIN}panel.html`, tab: { id: 8 } });
    bg.connectPanel(other);
    await vi.waitFor(() => expect(other.messages.length).toBe(1));
    expect(PanelState.parse(other.messages[0]).lastBlock).toBeNull();

    const dismiss = await bg.handleMessage({ type: 'panel.dismissBlock' }, { id: RUNTIME_ID, url: `${ORIGIN}panel.html`, tab: { id: 7 } });
    expect(dismiss.ok).toBe(true);
    await vi.waitFor(() => expect(last().lastBlock).toBeNull());

    // sign-out reaches the panel as "signed out"
    await bg.handleMessage({ type: 'auth.signOut' }, pageSender());
    await vi.waitFor(() => expect(last()).toMatchObject({ user: null, snapshot: { state: 'unknown', why: 'signed_out' } }));
    expect(other.messages.length).toBeGreaterThan(1); // every panel hears about sign-out
  });

  it('record.close from another frame of the tab leaves the open record alone', async () => {
    const bg = makeBackground(backendWithData());
    await signIn(bg);
    await openRecord(bg, { crmId: 'crm-1' });
    const subframe = { ...contentSender(7), frameId: 3 };
    expect(await bg.handleMessage({ type: 'record.close' }, subframe)).toEqual({ ok: true, data: null });
    expect((await bg.panelState(7)).snapshot).toMatchObject({ state: 'known' });
    await bg.handleMessage({ type: 'record.close' }, contentSender(7));
    expect((await bg.panelState(7)).snapshot).toMatchObject({ state: 'unknown', why: 'loading' });
  });

  it('refuses a panel port from a content script or another extension', () => {
    const bg = makeBackground(backendWithData());
    const fromContent = fakePort(contentSender(7));
    expect(bg.connectPanel(fromContent)).toBe(false);
    expect(fromContent.disconnected).toBe(true);
    const wrongName = fakePort({ id: RUNTIME_ID, url: `${ORIGIN}panel.html`, tab: { id: 7 } }, 'devtools');
    expect(bg.connectPanel(wrongName)).toBe(false);
  });

  it('restores the tab\'s record and last block after a worker restart (storage.session)', async () => {
    const backend = backendWithData();
    const bg = makeBackground(backend);
    await signIn(bg);
    await openRecord(bg, { crmId: 'crm-1' });
    await bg.handleMessage(blockEvent, contentSender(7));
    await bg.outbox.flush();
    await bg.close();

    const restarted = makeBackground(backend, { names: bg.names });
    const panel = fakePort({ id: RUNTIME_ID, url: `${ORIGIN}panel.html`, tab: { id: 7 } });
    restarted.connectPanel(panel);
    await vi.waitFor(() => expect(panel.messages.length).toBe(1));
    expect(PanelState.parse(panel.messages[0])).toMatchObject({
      snapshot: { state: 'known', customer: { id: 'c1' } },
      lastBlock: { action: 'sell' },
    });
  });

  it('queries the audit trail for managers through the backend', async () => {
    const backend = backendWithData();
    const bg = makeBackground(backend);
    await signIn(bg);
    await bg.handleMessage(blockEvent, contentSender());
    await bg.outbox.flush();
    const reply = AuditQueryReply.parse(await bg.handleMessage({ type: 'audit.query', query: { kind: 'action.blocked' } }, pageSender()));
    expect(reply).toMatchObject({ ok: true, data: { events: [{ action: 'sell', actor: 'rita.rep@carrier.test' }], next: null } });
  });
});
