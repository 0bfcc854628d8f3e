// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import { zoho } from '@/entrypoints/crm.content/adapters/zoho';
import { findControl } from '@/entrypoints/crm.content/guard';
import { pickAdapter } from '@/lib/adapter';
import { ADA, BEN, clickPath, savedPage, showSavedPage } from './saved-pages';

const ADA_ID = '4876876000000312001';
const BEN_ID = '4876876000000312002';
const url = (path: string, host = 'crm.zoho.com') => new URL(`https://${host}${path}`);
afterEach(() => void (document.body.innerHTML = ''));

describe('zoho adapter: URLs', () => {
  it('matches Zoho CRM in every data centre it lists', () => {
    expect(pickAdapter(ADAPTERS, url(`/crm/org812345678/tab/Contacts/${ADA_ID}`))?.id).toBe('zoho');
    expect(zoho.matches(url('/crm/org812345678/tab/Contacts/custom-view/1/list', 'crm.zoho.eu'))).toBe(true);
    expect(zoho.matches(url('/crm/org1/tab/Contacts/1', 'mail.zoho.com'))).toBe(false);
  });
});

describe('zoho adapter: readRecord on saved pages', () => {
  it('reads the contact id, phones and email; the older single-org URL too', () => {
    const doc = savedPage('zoho', `contact-${ADA_ID}.html`);
    const expected = { crm: 'zoho', crmId: ADA_ID, accountNumber: null, phones: ADA.phones, emails: [ADA.email] };
    expect(zoho.readRecord(doc, url(`/crm/org812345678/tab/Contacts/${ADA_ID}`))).toEqual(expected);
    expect(zoho.readRecord(doc, url(`/crm/tab/Contacts/${ADA_ID}`))).toEqual(expected);
    expect(zoho.readRecord(savedPage('zoho', `contact-${BEN_ID}.html`), url(`/crm/org812345678/tab/Contacts/${BEN_ID}?tab=timeline`))).toEqual({
      crm: 'zoho', crmId: BEN_ID, accountNumber: null, phones: BEN.phones, emails: [BEN.email],
    });
  });

  it('reads only the id while the previous contact is on screen; null on the list view', () => {
    expect(zoho.readRecord(savedPage('zoho', `contact-${ADA_ID}.html`), url(`/crm/org812345678/tab/Contacts/${BEN_ID}`))).toEqual({
      crm: 'zoho', crmId: BEN_ID, accountNumber: null, phones: [], emails: [],
    });
    expect(zoho.readRecord(savedPage('zoho', 'list.html'), url('/crm/org812345678/tab/Contacts/custom-view/4876876000000087501/list'))).toBeNull();
  });
});

describe('zoho adapter: classify', () => {
  const control = (file: string, selector: string) => {
    showSavedPage('zoho', file);
    return findControl(zoho, clickPath(document.querySelector(selector)!))?.match ?? null;
  };
  it.each([
    ['[data-zcqa="addToCampaign"] button', 'marketing.other_category', 'Add to Campaigns'],
    ['[data-zcqa="enrollToCadence"] button', 'marketing.other_category', 'Enroll in Cadence'],
    ['[data-zcqa="sendMail"] button', 'ambiguous', 'Send Email'],
    ['#subvalue_PHONE a', 'ambiguous', '(407) 555-0101'],
    ['#subvalue_EMAIL a', 'ambiguous', 'Ada.OptedIn@example.com'],
  ])('%s -> %s', (selector, action, label) => {
    expect(control(`contact-${ADA_ID}.html`, selector)).toMatchObject({ action, control: label });
  });

  it('Send Email asks what the email is for; Export is a list export; the next-record arrow is nothing', () => {
    expect(control(`contact-${ADA_ID}.html`, '[data-zcqa="sendMail"] button')?.question).toBe('What is this email for?');
    expect(control(`contact-${ADA_ID}.html`, '[data-zcqa="detailView_nextRecord"]')).toBeNull();
    expect(control('list.html', '[data-zcqa="cv_export"] button')).toMatchObject({ action: 'export.list', control: 'Export Contacts' });
  });

  it('puts the panel at the top of the right panel, which survives record navigation', () => {
    const anchor = zoho.panelAnchor(savedPage('zoho', `contact-${ADA_ID}.html`));
    expect(anchor?.element.id).toBe('crm_detail_rightpanel');
    expect(anchor?.position).toBe('prepend');
  });
});
