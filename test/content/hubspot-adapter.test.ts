// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import { hubspot } from '@/entrypoints/crm.content/adapters/hubspot';
import { findControl } from '@/entrypoints/crm.content/guard';
import { pickAdapter } from '@/lib/adapter';
import { ADA, BEN, clickPath, savedPage, showSavedPage } from './saved-pages';

const url = (path: string, host = 'app.hubspot.com') => new URL(`https://${host}${path}`);
afterEach(() => void (document.body.innerHTML = ''));

describe('hubspot adapter: URLs', () => {
  it('matches app.hubspot.com and the EU data centre', () => {
    expect(pickAdapter(ADAPTERS, url('/contacts/243567/record/0-1/51001'))?.id).toBe('hubspot');
    expect(hubspot.matches(url('/contacts/243567/record/0-1/51001', 'app-eu1.hubspot.com'))).toBe(true);
    expect(hubspot.matches(url('/contacts/243567/objects/0-1/views/all/list'))).toBe(true);
    expect(hubspot.matches(url('/reports-dashboard/243567'))).toBe(false);
    expect(hubspot.matches(url('/contacts/243567/record/0-1/51001', 'www.hubspot.com'))).toBe(false);
  });
});

describe('hubspot adapter: readRecord on saved pages', () => {
  it('reads the contact id, phones and email (mailto/tel links, lower-cased, E.164)', () => {
    expect(hubspot.readRecord(savedPage('hubspot', 'record-51001.html'), url('/contacts/243567/record/0-1/51001'))).toEqual({
      crm: 'hubspot', crmId: '51001', accountNumber: null, phones: ADA.phones, emails: [ADA.email],
    });
  });

  it('reads the older /contacts/<portal>/contact/<id> URL and sub-tabs', () => {
    const doc = savedPage('hubspot', 'record-51002.html');
    const expected = { crm: 'hubspot', crmId: '51002', accountNumber: null, phones: BEN.phones, emails: [BEN.email] };
    expect(hubspot.readRecord(doc, url('/contacts/243567/contact/51002'))).toEqual(expected);
    expect(hubspot.readRecord(doc, url('/contacts/243567/record/0-1/51002/view/1'))).toEqual(expected);
  });

  it('reads only the id while the previous record is on screen; null on the index', () => {
    expect(hubspot.readRecord(savedPage('hubspot', 'record-51001.html'), url('/contacts/243567/record/0-1/51002'))).toEqual({
      crm: 'hubspot', crmId: '51002', accountNumber: null, phones: [], emails: [],
    });
    expect(hubspot.readRecord(savedPage('hubspot', 'list.html'), url('/contacts/243567/objects/0-1/views/all/list'))).toBeNull();
  });
});

describe('hubspot adapter: classify', () => {
  const control = (file: string, selector: string) => {
    showSavedPage('hubspot', file);
    const el = document.querySelector(selector)!;
    return findControl(hubspot, clickPath(el))?.match ?? null;
  };
  it.each([
    ['[data-selenium-test="enroll-in-sequence-button"]', 'marketing.other_category', 'Enroll in sequence'],
    ['[data-selenium-test="add-to-list-button"]', 'marketing.other_category', 'Add to static list'],
    ['[data-selenium-test="email-composer-send-button"]', 'ambiguous', 'Send'],
    ['[data-selenium-test="record-action-call"]', 'ambiguous', 'Call'],
    ['[data-selenium-test="property-input-phone"] a', 'ambiguous', '(407) 555-0101'],
    ['[data-selenium-test="property-input-email"] a', 'ambiguous', 'Ada.OptedIn@example.com'],
  ])('%s -> %s', (selector, action, label) => {
    expect(control('record-51001.html', selector)).toMatchObject({ action, control: label });
  });

  it('Export on the index is a list export; opening the composer is not a CPNI action', () => {
    expect(control('list.html', '[data-selenium-test="export-view-button"]')).toMatchObject({ action: 'export.list', control: 'Export' });
    expect(control('record-51001.html', '[data-selenium-test="record-action-email"]')).toBeNull();
  });

  it('classifies a node React re-created just the same (no element is remembered)', () => {
    showSavedPage('hubspot', 'record-51001.html');
    const page = document.getElementById('hs-page')!;
    page.replaceWith(page.cloneNode(true));
    const el = document.querySelector('[data-selenium-test="enroll-in-sequence-button"]')!;
    expect(findControl(hubspot, clickPath(el))?.match.action).toBe('marketing.other_category');
    expect(hubspot.panelAnchor(document)).toBeNull();
  });
});
