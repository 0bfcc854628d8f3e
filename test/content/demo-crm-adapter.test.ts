// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { demoCrm, selectors } from '@/entrypoints/crm.content/adapters/demo-crm';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import { findControl } from '@/entrypoints/crm.content/guard';
import { pickAdapter, recordKey } from '@/lib/adapter';
import { parseFixture } from './helpers';

const url = (path: string) => new URL(`http://localhost:5180${path}`);

describe('demo-crm adapter: URLs', () => {
  it('matches the demo CRM routes on localhost only', () => {
    expect(demoCrm.matches(url('/contacts'))).toBe(true);
    expect(demoCrm.matches(url('/contacts/C-1002'))).toBe(true);
    expect(demoCrm.matches(new URL('http://127.0.0.1:5180/contacts/C-1002'))).toBe(true);
    expect(demoCrm.matches(url('/settings'))).toBe(false);
    expect(demoCrm.matches(new URL('https://crm.example.com/contacts/C-1002'))).toBe(false);
    expect(pickAdapter(ADAPTERS, url('/contacts/C-1001'))?.id).toBe('demo-crm');
  });
});

describe('demo-crm adapter: readRecord on saved pages', () => {
  it('reads the CRM id, phone, email and account number of a record page', () => {
    const ids = demoCrm.readRecord(parseFixture('contact-C-1002'), url('/contacts/C-1002'));
    expect(ids).toEqual({
      crm: 'demo-crm',
      crmId: 'C-1002',
      accountNumber: 'ACCT-700002',
      phones: ['+14075550102'],
      emails: ['ben.noapproval@example.com'],
    });
  });

  it('reads a record the backend does not know just the same', () => {
    const ids = demoCrm.readRecord(parseFixture('contact-C-9999'), url('/contacts/C-9999'));
    expect(ids).toMatchObject({ crmId: 'C-9999', phones: ['+14075550199'], emails: ['zed.unknown@example.com'] });
  });

  it('is null on the list page', () => {
    expect(demoCrm.readRecord(parseFixture('contacts-list'), url('/contacts'))).toBeNull();
  });

  it('right after navigating, reads only the id from the URL, not the previous record still on screen', () => {
    const ids = demoCrm.readRecord(parseFixture('contact-C-1002'), url('/contacts/C-1001'));
    expect(ids).toEqual({ crm: 'demo-crm', crmId: 'C-1001', accountNumber: null, phones: [], emails: [] });
    expect(recordKey(ids)).toBe('demo-crm|id|C-1001');
  });
});

describe('demo-crm adapter: classify', () => {
  const doc = parseFixture('contact-C-1002');
  const control = (action: string) => doc.querySelector(`[data-crm-action="${action}"]`)!;

  it.each([
    ['marketing-email', 'marketing.other_category', 'Send marketing email'],
    ['add-to-campaign', 'marketing.other_category', 'Add to campaign'],
    ['call-detail', 'disclose.call_detail', 'Show call detail'],
    ['export', 'export.list', 'Export list'],
    ['call', 'ambiguous', 'Call'],
  ])('%s -> %s', (crmAction, action, label) => {
    const el = control(crmAction);
    expect(demoCrm.classify(el, [el])).toMatchObject({ action, control: label });
  });

  it('offers Service / Marketing for a tel: link', () => {
    const m = demoCrm.classify(control('call'), []);
    expect(m?.choices?.map((c) => [c.label, c.action])).toEqual([
      ['Service', 'service'],
      ['Marketing', 'marketing.other_category'],
    ]);
  });

  it('classifies any tel: link, even without the CRM attribute', () => {
    const a = doc.createElement('a');
    a.href = 'TEL:+14075550102';
    a.textContent = '(407) 555-0102';
    expect(demoCrm.classify(a, [a])?.action).toBe('ambiguous');
  });

  it('ignores other elements, and finds the control from an inner element of the path', () => {
    const name = doc.querySelector('[data-testid="contact-name"]')!;
    expect(demoCrm.classify(name, [name])).toBeNull();
    const btn = control('marketing-email');
    const inner = doc.createElement('span');
    btn.append(inner);
    const found = findControl(demoCrm, [inner, btn, btn.parentElement!, doc.body, doc]);
    expect(found?.element).toBe(btn);
    expect(found?.match.action).toBe('marketing.other_category');
    inner.remove();
  });

  it('classifies Export list on the list page', () => {
    const list = parseFixture('contacts-list');
    const el = list.querySelector(selectors.controls.exportList[0])!;
    expect(demoCrm.classify(el, [el])).toMatchObject({ action: 'export.list', control: 'Export list' });
  });

  it('finds the control through an open shadow root (composedPath)', () => {
    const host = document.createElement('acme-actions');
    const shadow = host.attachShadow({ mode: 'open' });
    const btn = document.createElement('button');
    btn.setAttribute('data-crm-action', 'marketing-email');
    const label = document.createElement('span');
    label.textContent = 'Send marketing email';
    btn.append(label);
    shadow.append(btn);
    document.body.append(host);
    let path: EventTarget[] = [];
    const grab = (e: Event) => (path = e.composedPath());
    window.addEventListener('click', grab, { capture: true });
    label.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true }));
    window.removeEventListener('click', grab, { capture: true });
    host.remove();
    expect(path[0]).toBe(label);
    expect(path).toContain(shadow);
    const found = findControl(demoCrm, path);
    expect(found?.element).toBe(btn);
    expect(found?.match).toMatchObject({ action: 'marketing.other_category', control: 'Send marketing email' });
  });
});

describe('demo-crm adapter: panel anchor', () => {
  it('puts the panel at the top of the sidebar, or floats it when there is none', () => {
    const doc = parseFixture('contact-C-1002');
    const anchor = demoCrm.panelAnchor(doc);
    expect(anchor?.element.id).toBe('sidebar');
    expect(anchor?.position).toBe('prepend');
    expect(demoCrm.panelAnchor(new DOMParser().parseFromString('<p>x</p>', 'text/html'))).toBeNull();
  });
});
