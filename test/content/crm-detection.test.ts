// @vitest-environment happy-dom
// Robust detection on the vendor CRMs' saved pages: content inside shadow roots, React-style node
// replacement, replaceState without hashchange, leaving a record; and ambiguous controls
// (mailto:, a generic "Send") asked in place.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import { deepQuery } from '@/entrypoints/crm.content/adapters/common';
import { zendesk } from '@/entrypoints/crm.content/adapters/zendesk';
import { zoho } from '@/entrypoints/crm.content/adapters/zoho';
import { startCrmGuard, type CrmGuardApp } from '@/entrypoints/crm.content/controller';
import { Guard, type GuardDeps } from '@/entrypoints/crm.content/guard';
import { PANEL_TAG } from '@/entrypoints/crm.content/panel-host';
import type { CrmAdapter } from '@/lib/adapter';
import type { GuardEvent } from '@/lib/messages';
import { DEFAULT_POLICY, type Decision } from '@/lib/schemas';
import type { Snapshot } from '@/lib/snapshot';
import { ALLOW, BLOCK, PANEL_URL, fakeBackground, flush, knownSnapshot, openReply } from './helpers';
import { attachDeclarativeShadowRoots, savedHtml, setUrl, showSavedPage } from './saved-pages';

let app: CrmGuardApp | null = null;
afterEach(() => {
  app?.destroy();
  app = null;
  document.body.innerHTML = '';
  setUrl('http://localhost:3000/');
});

const decide = vi.fn((_a: string, s: Snapshot): Decision => (s.state === 'known' ? BLOCK : BLOCK));
function start() {
  const bg = fakeBackground();
  app = startCrmGuard({ adapters: ADAPTERS, send: bg.send, decide, panelUrl: PANEL_URL });
  return bg;
}
const opens = (bg: ReturnType<typeof fakeBackground>) =>
  bg.messages.flatMap((m) => (m.type === 'record.open' ? [[m.identifiers.crmId, m.identifiers.phones.length, m.identifiers.emails.length]] : []));

describe('Salesforce: a record that renders inside shadow roots after the page loaded', () => {
  it('re-reads when the fields arrive inside an existing shadow root', async () => {
    const id = '003Dn00000ZBen2IAD';
    setUrl(`https://acme.lightning.force.com/lightning/r/Contact/${id}/view`);
    showSavedPage('salesforce', `record-${id}.html`);
    // Lightning first renders the record page's shell; the sections come later, in its shadow root.
    const page = document.querySelector('records-record-page')!;
    const section = page.shadowRoot!.querySelector('records-record-layout-section')!;
    section.remove();
    const bg = start();
    await flush();
    expect(opens(bg)).toEqual([[id, 0, 0]]);
    page.shadowRoot!.append(section);
    await flush();
    expect(opens(bg)).toEqual([[id, 0, 0], [id, 1, 1]]); // same record, now with its phone and email
    expect(document.querySelectorAll(PANEL_TAG)).toHaveLength(1);
  });
});

describe('HubSpot: React replaces the nodes', () => {
  it('keeps one panel and one record.open, and guards the brand-new buttons', async () => {
    setUrl('https://app.hubspot.com/contacts/243567/record/0-1/51002');
    showSavedPage('hubspot', 'record-51002.html');
    const crm = vi.fn();
    document.addEventListener('click', crm);
    const bg = start();
    await flush();
    bg.answerOpen('51002', openReply(knownSnapshot('C-1002')));
    for (let i = 0; i < 5; i++) {
      const page = document.getElementById('hs-page')!;
      page.replaceWith(page.cloneNode(true));
      await flush();
    }
    expect(opens(bg)).toEqual([['51002', 1, 1]]);
    expect(document.querySelectorAll(PANEL_TAG)).toHaveLength(1);
    document.querySelector<HTMLElement>('[data-selenium-test="enroll-in-sequence-button"]')!.click();
    expect(crm).not.toHaveBeenCalled();
    expect(app!.session.current().snapshot.state).toBe('known');
    document.removeEventListener('click', crm);
  });
});

describe('Zoho: replaceState to the next record, then back to the list', () => {
  it('clears the snapshot at once, asks for the new record, and closes it on leaving', async () => {
    const ada = '4876876000000312001';
    const ben = '4876876000000312002';
    setUrl(`https://crm.zoho.com/crm/org812345678/tab/Contacts/${ada}`);
    showSavedPage('zoho', `contact-${ada}.html`);
    const bg = start();
    await flush();
    bg.answerOpen(ada, openReply(knownSnapshot('C-1001')));
    await flush();
    expect(app!.session.current().snapshot.state).toBe('known');
    const panel = document.querySelector(PANEL_TAG)!;
    expect(panel.parentElement?.id).toBe('crm_detail_rightpanel');

    history.replaceState(null, '', `/crm/org812345678/tab/Contacts/${ben}`); // no hashchange, no popstate
    app!.check(); // what the Navigation API / wxt:locationchange does
    await flush();
    expect(app!.session.current().snapshot).toEqual({ state: 'unknown', why: 'loading', syncedAt: null });
    const next = new DOMParser().parseFromString(savedHtml('zoho', `contact-${ben}.html`), 'text/html');
    document.getElementById('detailView')!.replaceWith(document.adoptNode(next.getElementById('detailView')!));
    await flush();
    expect(opens(bg)).toEqual([[ada, 2, 1], [ben, 0, 0], [ben, 1, 1]]);
    expect(document.querySelectorAll(PANEL_TAG)).toHaveLength(1);
    expect(document.querySelector(PANEL_TAG)).toBe(panel); // the same host: no reload

    history.pushState(null, '', '/crm/org812345678/tab/Contacts/custom-view/4876876000000087501/list');
    app!.check();
    await flush();
    expect(bg.messages.at(-1)).toEqual({ type: 'record.close' });
    expect(app!.session.current().identifiers).toBeNull();
    expect(app!.session.current().snapshot.state).toBe('unknown');
    expect(document.querySelectorAll(PANEL_TAG)).toHaveLength(0);
  });
});

describe('ambiguous controls on vendor pages: asked in place, decided on the answer, recorded', () => {
  function guardOn(adapter: CrmAdapter, crmId: string, decision: Decision, answer: string | null) {
    const events: GuardEvent[] = [];
    const asked: string[] = [];
    const dec = vi.fn(() => decision);
    const deps: GuardDeps = {
      adapter: () => adapter,
      state: () => ({
        identifiers: { crm: adapter.id, crmId, accountNumber: null, phones: [], emails: [] },
        snapshot: knownSnapshot('C-1002'),
        user: null,
        policy: DEFAULT_POLICY,
      }),
      decide: dec,
      report: (e) => events.push(e),
      askPurpose: async (_near, question, choices) => {
        asked.push(question);
        return choices.find((c) => c.purpose === answer) ?? null;
      },
      isOwnUi: () => false,
      pageUrl: () => location.href,
      isTopFrame: true,
    };
    const abort = new AbortController();
    new Guard(deps).start(abort.signal);
    return { events, asked, decide: dec, stop: () => abort.abort() };
  }

  it('Zendesk\'s generic Send: "Marketing" on a customer without approval stays blocked; the form is never submitted', async () => {
    showSavedPage('zendesk', 'user-90002.html');
    const submitted = vi.fn((e: Event) => e.preventDefault());
    document.addEventListener('submit', submitted);
    const g = guardOn(zendesk, '90002', BLOCK, 'marketing');
    document.querySelector<HTMLElement>('[data-test-id="submit_button-button"]')!.click();
    await flush();
    expect(g.asked).toEqual(['What is this message for?']);
    expect(submitted).not.toHaveBeenCalled();
    expect(g.events.map((e) => [e.kind, e.action, e.details.purpose, e.control])).toEqual([
      ['purpose.answered', 'marketing.other_category', 'marketing', 'Send'],
      ['action.blocked', 'marketing.other_category', 'marketing', 'Send'],
    ]);
    g.stop();
    document.removeEventListener('submit', submitted);
  });

  it('Zendesk\'s generic Send: "Service" lets the message go once (the form submits), and records the answer', async () => {
    showSavedPage('zendesk', 'user-90002.html');
    const submitted = vi.fn((e: Event) => e.preventDefault());
    document.addEventListener('submit', submitted);
    const g = guardOn(zendesk, '90002', ALLOW, 'service');
    document.querySelector<HTMLElement>('[data-test-id="submit_button-button"]')!.click();
    await flush();
    expect(submitted).toHaveBeenCalledTimes(1);
    expect(g.events.map((e) => [e.kind, e.action, e.details.purpose])).toEqual([['purpose.answered', 'service', 'service']]);
    g.stop();
    document.removeEventListener('submit', submitted);
  });

  it('Zoho\'s mailto: link asks what the email is for; "Service" opens the composer once', async () => {
    showSavedPage('zoho', 'contact-4876876000000312002.html');
    const composer = vi.fn((e: Event) => e.preventDefault());
    const link = document.querySelector<HTMLElement>('#subvalue_EMAIL a')!;
    link.addEventListener('click', composer);
    const g = guardOn(zoho, '4876876000000312002', ALLOW, 'service');
    link.click();
    expect(composer).not.toHaveBeenCalled(); // held until the rep answers
    await flush();
    expect(g.asked).toEqual(['What is this email for?']);
    expect(composer).toHaveBeenCalledTimes(1);
    expect(g.events.map((e) => [e.kind, e.details.purpose])).toEqual([['purpose.answered', 'service']]);
    g.stop();
  });
});

describe('helpers', () => {
  it('attaches nested declarative shadow roots', () => {
    const div = document.createElement('div');
    div.innerHTML = '<x-a><template shadowrootmode="open"><x-b><template shadowrootmode="open"><i>deep</i></template></x-b></template></x-a>';
    attachDeclarativeShadowRoots(div);
    expect(deepQuery(div, 'i')?.textContent).toBe('deep');
  });
});
