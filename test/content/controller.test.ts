// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import { startCrmGuard, type CrmGuardApp } from '@/entrypoints/crm.content/controller';
import type { Snapshot } from '@/lib/snapshot';
import { ALLOW, BLOCK, PANEL_URL, activityTexts, fakeBackground, flush, installCrmHandlers, knownSnapshot, loadPage, openReply, renderView, rep } from './helpers';

// Fake decide: allow C-1002's marketing, block everything else (and unknown status).
const decide = vi.fn((_action: string, s: Snapshot) => (s.state === 'known' && s.customer.id === 'C-1002' ? ALLOW : BLOCK));

let app: CrmGuardApp | null = null;
let removeCrm: () => void = () => {};
afterEach(() => {
  app?.destroy();
  app = null;
  removeCrm();
  document.body.innerHTML = '';
  decide.mockClear();
});

function start() {
  const bg = fakeBackground();
  app = startCrmGuard({ adapters: ADAPTERS, send: bg.send, decide, panelUrl: PANEL_URL });
  return bg;
}

/** In-app navigation as the demo CRM does it: pushState, then the view renders a bit later. */
async function navigate(path: string, view: Parameters<typeof renderView>[0] | null) {
  history.pushState(null, '', path);
  app!.check(); // what 'wxt:locationchange' does
  await flush();
  if (view) {
    renderView(view);
    await flush(); // the MutationObserver re-reads
  }
}

const marketing = () => document.querySelector<HTMLElement>('[data-crm-action="marketing-email"]')!;

describe('record tracking', () => {
  it('sends record.open with the identifiers read from the page, and keeps the reply in memory', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    const bg = start();
    await flush();
    expect(bg.messages[0]).toEqual({
      type: 'record.open',
      identifiers: { crm: 'demo-crm', crmId: 'C-1002', accountNumber: 'ACCT-700002', phones: ['+14075550102'], emails: ['ben.noapproval@example.com'] },
    });
    expect(app!.session.current().snapshot).toEqual({ state: 'unknown', why: 'loading', syncedAt: null });
    bg.answerOpen('C-1002', openReply(knownSnapshot('C-1002')));
    await flush();
    expect(app!.session.current().snapshot.state).toBe('known');
    expect(app!.session.current().user?.role).toBe('rep');
  });

  it('navigating to another record clears the snapshot before the new reply arrives', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    removeCrm = installCrmHandlers();
    const bg = start();
    await flush();
    bg.answerOpen('C-1002', openReply(knownSnapshot('C-1002')));
    await flush();
    marketing().click();
    expect(activityTexts()).toContain('Marketing email sent to Ben No-Approval'); // allowed for C-1002

    // The URL says C-9999 while the page still shows C-1002's record and buttons.
    await navigate('/contacts/C-9999', null);
    expect(app!.session.current().snapshot).toEqual({ state: 'unknown', why: 'loading', syncedAt: null });
    expect(app!.session.current().identifiers?.crmId).toBe('C-9999');
    const before = activityTexts().length;
    marketing().click();
    expect(activityTexts().length).toBe(before); // blocked: not decided with C-1002's status
    expect(decide.mock.lastCall?.[1]).toEqual({ state: 'unknown', why: 'loading', syncedAt: null });

    renderView('contact-C-9999');
    await flush();
    const opens = bg.messages.filter((m) => m.type === 'record.open');
    expect(opens.map((m) => m.type === 'record.open' && [m.identifiers.crmId, m.identifiers.phones])).toEqual([
      ['C-1002', ['+14075550102']],
      ['C-9999', []], // at once, from the URL
      ['C-9999', ['+14075550199']], // again when the record rendered
    ]);
    bg.answerOpen('C-9999', openReply({ state: 'unknown', why: 'not_found', syncedAt: null }));
    bg.answerOpen('C-9999', openReply({ state: 'unknown', why: 'not_found', syncedAt: null }));
    await flush();
    expect(app!.session.current().snapshot).toMatchObject({ state: 'unknown', why: 'not_found' });
  });

  it('drops a reply that arrives after the rep moved to another record', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    const bg = start();
    await flush();
    await navigate('/contacts/C-9999', 'contact-C-9999');
    bg.answerOpen('C-1002', openReply(knownSnapshot('C-1002'))); // late
    await flush();
    expect(app!.session.current().snapshot).toEqual({ state: 'unknown', why: 'loading', syncedAt: null });
  });

  it('sends record.close when leaving the record for the list', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    const bg = start();
    await flush();
    await navigate('/contacts', 'contacts-list');
    expect(bg.messages.at(-1)).toEqual({ type: 'record.close' });
    expect(app!.session.current().identifiers).toBeNull();
  });

  it('on a list page it learns who is signed in, for decisions that need no record', async () => {
    loadPage('contacts-list', '/contacts');
    const bg = start();
    bg.signedInAs({ ...rep, role: 'manager' });
    await flush();
    expect(bg.contextRequests()).toBe(1);
    app!.refresh(false);
    await flush();
    expect(app!.session.current().user?.role).toBe('manager');
  });

  it('forgets the status at once when the background says the cache was cleared', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    const bg = start();
    await flush();
    bg.answerOpen('C-1002', openReply(knownSnapshot('C-1002')));
    await flush();
    expect(app!.session.current().snapshot.state).toBe('known');
    app!.refresh(true); // sign-out
    expect(app!.session.current().snapshot).toMatchObject({ state: 'unknown', why: 'loading' });
    expect(app!.session.current().user).toBeNull();
    expect(bg.pendingOpens.at(-1)?.message).toMatchObject({ type: 'record.open' });
  });

  it('re-reads when the CRM replaces its DOM, without a navigation event', async () => {
    loadPage('contacts-list', '/contacts');
    const bg = start();
    await flush();
    expect(bg.messages).toEqual([]);
    history.pushState(null, '', '/contacts/C-1002'); // no check() call
    renderView('contact-C-1002');
    await flush();
    expect(bg.messages[0]).toMatchObject({ type: 'record.open', identifiers: { crmId: 'C-1002' } });
  });
});

describe('panel host', () => {
  it('mounts exactly one closed panel host, in the sidebar, across repeated navigations', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    start();
    await flush();
    const hosts = () => document.querySelectorAll('cpni-guard-panel');
    expect(hosts().length).toBe(1);
    const host = hosts()[0] as HTMLElement;
    expect(host.parentElement?.id).toBe('sidebar');
    expect(host.parentElement?.firstElementChild).toBe(host);
    expect(host.shadowRoot).toBeNull(); // closed: the page cannot reach the iframe
    expect(host.style.getPropertyValue('width')).toBe('340px');
    for (const [path, view] of [
      ['/contacts/C-9999', 'contact-C-9999'],
      ['/contacts/C-1002', 'contact-C-1002'],
      ['/contacts/C-9999', 'contact-C-9999'],
    ] as const) {
      await navigate(path, view);
      expect(hosts().length).toBe(1);
      expect(hosts()[0]).toBe(host); // not re-created: the iframe keeps its port
    }
    await navigate('/contacts', 'contacts-list');
    expect(hosts().length).toBe(0);
    await navigate('/contacts/C-1002', 'contact-C-1002');
    expect(hosts().length).toBe(1);
  });

  it('puts the panel back when the page removes it', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    start();
    await flush();
    document.querySelector('cpni-guard-panel')!.remove();
    await flush();
    expect(document.querySelectorAll('cpni-guard-panel').length).toBe(1);
  });

  it('floats bottom-right when the adapter has no anchor', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    document.getElementById('sidebar')!.remove();
    start();
    await flush();
    const host = document.querySelector<HTMLElement>('cpni-guard-panel')!;
    expect(host.parentElement).toBe(document.body);
    expect(host.style.getPropertyValue('position')).toBe('fixed');
  });

  it('stops events from inside the host reaching the page', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    start();
    await flush();
    const seen = vi.fn();
    document.addEventListener('click', seen);
    document.querySelector('cpni-guard-panel')!.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    document.removeEventListener('click', seen);
    expect(seen).not.toHaveBeenCalled();
  });
});

describe('lifecycle', () => {
  it('refuses to start twice in one frame, and destroy() removes everything', async () => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    removeCrm = installCrmHandlers();
    const bg = start();
    expect(startCrmGuard({ adapters: ADAPTERS, send: bg.send, decide, panelUrl: PANEL_URL })).toBeNull();
    await flush();
    expect(document.querySelectorAll('cpni-guard-panel').length).toBe(1);
    app!.destroy();
    app = null;
    await flush();
    expect(document.querySelectorAll('cpni-guard-panel').length).toBe(0);
    expect(bg.messages.at(-1)).toEqual({ type: 'record.close' });
    // No guard any more: the CRM's own handler runs.
    marketing().click();
    expect(activityTexts()).toContain('Marketing email sent to Ben No-Approval');
    // And it can start again (e.g. after an extension update).
    app = startCrmGuard({ adapters: ADAPTERS, send: bg.send, decide, panelUrl: PANEL_URL });
    expect(app).not.toBeNull();
  });
});
