// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import { zendesk } from '@/entrypoints/crm.content/adapters/zendesk';
import { findControl } from '@/entrypoints/crm.content/guard';
import { pickAdapter } from '@/lib/adapter';
import { ADA, BEN, clickPath, savedPage, showSavedPage } from './saved-pages';

const url = (path: string, host = 'acme.zendesk.com') => new URL(`https://${host}${path}`);
afterEach(() => void (document.body.innerHTML = ''));

describe('zendesk adapter: URLs', () => {
  it('matches the agent workspace on <subdomain>.zendesk.com', () => {
    expect(pickAdapter(ADAPTERS, url('/agent/users/90001'))?.id).toBe('zendesk');
    expect(zendesk.matches(url('/agent/user_filters'))).toBe(true);
    expect(zendesk.matches(url('/hc/en-us'))).toBe(false);
    expect(zendesk.matches(url('/agent/users/90001', 'zendesk.com.example.net'))).toBe(false);
  });
});

describe('zendesk adapter: readRecord on saved pages', () => {
  it('reads the user id, phones and email', () => {
    expect(zendesk.readRecord(savedPage('zendesk', 'user-90001.html'), url('/agent/users/90001'))).toEqual({
      crm: 'zendesk', crmId: '90001', accountNumber: null, phones: ADA.phones, emails: [ADA.email],
    });
    expect(zendesk.readRecord(savedPage('zendesk', 'user-90002.html'), url('/agent/users/90002/requested_tickets'))).toEqual({
      crm: 'zendesk', crmId: '90002', accountNumber: null, phones: BEN.phones, emails: [BEN.email],
    });
  });

  it('reads a dotted phone number into E.164 (Cara: matched by phone/email, no Zendesk id on the backend)', () => {
    expect(zendesk.readRecord(savedPage('zendesk', 'user-90003.html'), url('/agent/users/90003'))).toMatchObject({
      crmId: '90003', phones: ['+14075550103'], emails: ['cara.denied@example.com'],
    });
  });

  it('before the profile arrives (skeleton, or the previous user) reads only the id; null on lists', () => {
    const loading = new DOMParser().parseFromString('<div id="main_panes"><div class="skeleton">Loading…</div></div>', 'text/html');
    expect(zendesk.readRecord(loading, url('/agent/users/90002'))).toEqual({ crm: 'zendesk', crmId: '90002', accountNumber: null, phones: [], emails: [] });
    expect(zendesk.readRecord(savedPage('zendesk', 'user-90001.html'), url('/agent/users/90002'))?.phones).toEqual([]);
    expect(zendesk.readRecord(savedPage('zendesk', 'list.html'), url('/agent/user_filters'))).toBeNull();
  });
});

describe('zendesk adapter: classify', () => {
  const control = (file: string, selector: string) => {
    showSavedPage('zendesk', file);
    return findControl(zendesk, clickPath(document.querySelector(selector)!))?.match ?? null;
  };
  it.each([
    ['[data-test-id="user-proactive-message-button"]', 'marketing.other_category', 'Send proactive message'],
    ['[data-test-id="submit_button-button"]', 'ambiguous', 'Send'],
    ['a[href^="tel:"]', 'ambiguous', '(407) 555-0101'],
    ['a[href^="mailto:"]', 'ambiguous', 'Ada.OptedIn@example.com'],
  ])('%s -> %s', (selector, action, label) => {
    expect(control('user-90001.html', selector)).toMatchObject({ action, control: label });
  });

  it('the composer\'s generic Send asks what the message is for; Export CSV is a list export', () => {
    expect(control('user-90001.html', '[data-test-id="submit_button-button"]')?.question).toBe('What is this message for?');
    expect(control('list.html', '[data-test-id="user-filters-export-csv"]')).toMatchObject({ action: 'export.list' });
    expect(zendesk.panelAnchor(document)).toBeNull();
  });
});
