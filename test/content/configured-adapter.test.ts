// @vitest-environment happy-dom
// Admin-defined adapters in the CRM tab: the adapter a document describes reads the record and
// classifies the controls of the saved in-house CRM page (test/fixtures/inhouse-crm/), bad
// documents are skipped while good ones keep working, and the guard blocks with it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import {
  AdapterList,
  accessibleName,
  buildConfiguredAdapters,
  configuredAdapter,
  roleOf,
} from '@/entrypoints/crm.content/adapters/configured';
import { startCrmGuard, type CrmGuardApp } from '@/entrypoints/crm.content/controller';
import { findControl } from '@/entrypoints/crm.content/guard';
import { checkSelector, validateAdapterConfig, type AdapterConfig } from '@/lib/adapter-config';
import type { ContentMessage } from '@/lib/messages';
import type { Snapshot } from '@/lib/snapshot';
import { ALLOW, BLOCK, PANEL_URL, fakeBackground, flush, knownSnapshot, openReply } from './helpers';
import { clickPath, setUrl } from './saved-pages';

const DIR = join(__dirname, '..', 'fixtures', 'inhouse-crm');
const DOC = JSON.parse(readFileSync(join(DIR, 'adapter.json'), 'utf8'));
const config = (): AdapterConfig => {
  const r = validateAdapterConfig(DOC);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
};

function savedHtml(id: '4711' | '4712'): string {
  return readFileSync(join(DIR, `customer-${id}.html`), 'utf8').replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '').replace(/<link [^>]*>/g, '');
}
function savedDoc(id: '4711' | '4712'): Document {
  return new DOMParser().parseFromString(savedHtml(id), 'text/html');
}
function show(id: '4711' | '4712', url = `http://127.0.0.1:5173/inhouse/customer/${id}`) {
  setUrl(url);
  document.body.innerHTML = savedDoc(id).body.innerHTML;
}
/** The in-house CRM swaps #main on navigation, as its app.js does. */
function swapMain(id: '4711' | '4712') {
  document.getElementById('main')!.replaceWith(document.adoptNode(savedDoc(id).getElementById('main')!));
}

const BEN = { crm: 'acme-desk', crmId: '4711', accountNumber: 'ACCT-700002', phones: ['+14075550102'], emails: ['ben.noapproval@example.com'] };

afterEach(() => {
  document.body.innerHTML = '';
});

describe('the adapter a document describes', () => {
  const adapter = configuredAdapter(config());

  it('matches the in-house CRM on 127.0.0.1 (any port) under /inhouse/ only', () => {
    expect(adapter.id).toBe('acme-desk');
    expect(adapter.matches(new URL('http://127.0.0.1:40000/inhouse/customer/4711'))).toBe(true);
    expect(adapter.matches(new URL('http://127.0.0.1:40000/contacts/C-1001'))).toBe(false);
    expect(adapter.matches(new URL('https://127.0.0.1/inhouse/customer/4711'))).toBe(false);
    const excluding = configuredAdapter({ ...config(), excludeMatches: ['http://127.0.0.1/inhouse/login*'] });
    expect(excluding.matches(new URL('http://127.0.0.1/inhouse/login?next=/'))).toBe(false);
  });

  it('reads the record: id from the URL, account number by regex on text, phone and email from attributes (normalized)', () => {
    const doc = savedDoc('4711');
    expect(adapter.readRecord(doc, new URL('http://127.0.0.1/inhouse/customer/4711'))).toEqual(BEN);
    expect(adapter.readRecord(savedDoc('4712'), new URL('http://127.0.0.1/inhouse/customer/4712'))).toEqual({
      crm: 'acme-desk',
      crmId: '4712',
      accountNumber: 'ACCT-700001',
      phones: ['+14075550101'],
      emails: ['ada.optedin@example.com'],
    });
  });

  it('right after navigation (URL of 4712, page still showing 4711) it reads only the URL', () => {
    expect(adapter.readRecord(savedDoc('4711'), new URL('http://127.0.0.1/inhouse/customer/4712'))).toEqual({
      crm: 'acme-desk',
      crmId: '4712',
      accountNumber: null,
      phones: [],
      emails: [],
    });
  });

  it('is not on a record on a page without one', () => {
    const doc = new DOMParser().parseFromString('<main id="main"><h1>Search</h1></main>', 'text/html');
    expect(adapter.readRecord(doc, new URL('http://127.0.0.1/inhouse/search'))).toBeNull();
  });

  it('classifies controls by selector, by role and accessible name, and by text; tel: links are ambiguous', () => {
    show('4711');
    const find = (el: Element) => findControl(adapter, clickPath(el));
    const offerIcon = document.querySelector('button.js-offer .icon')!;
    expect(find(offerIcon)).toMatchObject({ element: document.querySelector('button.js-offer'), match: { action: 'marketing.other_category', control: 'Send promo offer' } });
    expect(find(document.querySelector('.chip')!)?.match).toEqual({ action: 'marketing.other_category', control: 'Add to win-back campaign' });
    expect(find(document.querySelector('.list-tools button')!)?.match).toEqual({ action: 'export.list', control: 'Export customers' });
    expect(find(document.querySelector('button.js-share')!)?.match.action).toBe('disclose.third_party');
    expect(find(document.querySelector('a.phone')!)?.match).toMatchObject({ action: 'ambiguous', question: 'What is this call for?', choices: expect.any(Array) });
    // Text and names are whole, whitespace- and case-insensitive; other buttons are not controls.
    const other = Array.from(document.querySelectorAll('button')).find((b) => b.textContent === 'Open ticket')!;
    expect(find(other)).toBeNull();
    expect(find(document.querySelector('.cust-name')!)).toBeNull();
  });

  it('role and accessible name follow ARIA (explicit role, implicit roles, aria-labelledby, input values)', () => {
    document.body.innerHTML =
      '<span id="l">Send  offer</span><div role="menuitem" aria-labelledby="l">x</div><input type="submit" value="Export"><a href="#">Go</a><a>No link</a>';
    const [div, input, a, noLink] = [document.querySelector('div')!, document.querySelector('input')!, document.querySelectorAll('a')[0]!, document.querySelectorAll('a')[1]!];
    expect([roleOf(div), accessibleName(div)]).toEqual(['menuitem', 'Send offer']);
    expect([roleOf(input), accessibleName(input)]).toEqual(['button', 'Export']);
    expect(roleOf(a)).toBe('link');
    expect(roleOf(noLink)).toBeNull();
  });

  it('puts the panel where the document says, or floating', () => {
    const doc = savedDoc('4711');
    expect(adapter.panelAnchor(doc)).toEqual({ element: doc.getElementById('cust-side'), position: 'prepend' });
    expect(configuredAdapter({ ...config(), panel: { floating: true } }).panelAnchor(doc)).toBeNull();
  });
});

describe('synced documents', () => {
  it('the browser check refuses what its engine refuses', () => {
    expect(checkSelector('button.js-offer')).toBeNull();
    expect(checkSelector('button[')).toMatch(/attribute name/);
  });

  it('a bad document is skipped and reported; the good ones are built', () => {
    const bad = { ...DOC, id: 'bad-desk', matches: ['*://*/*'] };
    const otherId = { ...DOC, id: 'acme-desk-2' };
    const { adapters, problems } = buildConfiguredAdapters([
      { id: 'bad-desk', document: bad },
      { id: 'acme-desk', document: DOC },
      { id: 'mislabelled', document: otherId },
    ]);
    expect(adapters.map((a) => a.id)).toEqual(['acme-desk']);
    expect(problems).toEqual([
      { id: 'bad-desk', error: expect.stringMatching(/matches\[0\]: .*every site/) },
      { id: 'mislabelled', error: expect.stringMatching(/not "mislabelled"/) },
    ]);
  });

  it('AdapterList asks the background once per change, puts configured adapters first, keeps the built-ins', async () => {
    const list = new AdapterList(ADAPTERS);
    const replies: unknown[] = [
      { ok: true, data: { adapters: [{ id: 'acme-desk', version: 1, document: DOC }, { id: 'bad', version: 1, document: { id: 'bad' } }] } },
      { ok: true, data: { adapters: [{ id: 'acme-desk', version: 1, document: DOC }, { id: 'bad', version: 1, document: { id: 'bad' } }] } },
      { ok: false, error: 'Not signed in.' },
      { ok: true, data: { adapters: [] } },
    ];
    const sent: ContentMessage[] = [];
    const send = async (m: ContentMessage) => (sent.push(m), replies.shift());
    const warn = vi.fn();
    expect(await list.load(send, { warn })).toBe(true);
    expect(list.all.map((a) => a.id)).toEqual(['acme-desk', ...ADAPTERS.map((a) => a.id)]);
    expect(warn).toHaveBeenCalledWith(expect.any(String), 'bad', expect.any(String));
    expect(await list.load(send, { warn })).toBe(false); // same versions: nothing rebuilt
    expect(await list.load(send, { warn })).toBe(false); // an error reply keeps what is in force
    expect(list.all[0]!.id).toBe('acme-desk');
    expect(await list.load(send, { warn })).toBe(true); // deleted on the backend
    expect(list.all.map((a) => a.id)).toEqual(ADAPTERS.map((a) => a.id));
    expect(sent).toEqual(Array(4).fill({ type: 'adapters.get' }));
  });
});

describe('the guard on the in-house CRM', () => {
  let app: CrmGuardApp | null = null;
  afterEach(() => {
    app?.destroy();
    app = null;
  });

  it('blocks unapproved marketing before the page handler runs, and follows in-app navigation', async () => {
    show('4711');
    const handled: string[] = [];
    const onClick = (e: Event) => {
      const el = (e.target as Element).closest('button.js-offer');
      if (el) handled.push(document.querySelector('.cust-name')!.textContent!);
    };
    document.addEventListener('click', onClick);
    try {
      const bg = fakeBackground();
      const list = new AdapterList(ADAPTERS);
      await list.load(async () => ({ ok: true, data: { adapters: [{ id: 'acme-desk', version: 1, document: DOC }] } }));
      // Fake decide: 4712's customer (C-1001) is approved, anyone else is not.
      const decide = vi.fn((_a: string, s: Snapshot) => (s.state === 'known' && s.customer.id === 'C-1001' ? ALLOW : BLOCK));
      const guard = startCrmGuard({ adapters: list.all, send: bg.send, decide, panelUrl: PANEL_URL })!;
      app = guard;
      await flush();
      const open = bg.messages.find((m) => m.type === 'record.open');
      expect(open).toEqual({ type: 'record.open', identifiers: BEN });
      bg.answerOpen('4711', openReply(knownSnapshot('C-1002')));
      await flush();

      document.querySelector<HTMLElement>('button.js-offer')!.click();
      expect(handled).toEqual([]);
      expect(bg.guardEvents().at(-1)).toMatchObject({ kind: 'action.blocked', action: 'marketing.other_category', crm: 'acme-desk', control: 'Send promo offer' });

      // In-app navigation: the URL moves first, the page follows later.
      history.pushState(null, '', '/inhouse/customer/4712');
      guard.check();
      await flush();
      expect(guard.session.current().identifiers).toMatchObject({ crmId: '4712', accountNumber: null });
      document.querySelector<HTMLElement>('button.js-offer')!.click(); // still 4711's page: not decided on Ben's status
      expect(handled).toEqual([]);
      swapMain('4712');
      await flush();
      expect(guard.session.current().identifiers).toMatchObject({ crmId: '4712', accountNumber: 'ACCT-700001' });
      // Asked twice (URL only, then the whole record): answer both.
      while (bg.pendingOpens.length) bg.answerOpen('4712', openReply(knownSnapshot('C-1001')));
      await flush();
      document.querySelector<HTMLElement>('button.js-offer')!.click();
      expect(handled).toEqual(['Ada Opted-In']);
    } finally {
      document.removeEventListener('click', onClick);
    }
  });
});
