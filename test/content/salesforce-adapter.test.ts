// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import { deepQuery } from '@/entrypoints/crm.content/adapters/common';
import { salesforce, salesforceId18 } from '@/entrypoints/crm.content/adapters/salesforce';
import { findControl } from '@/entrypoints/crm.content/guard';
import { pickAdapter } from '@/lib/adapter';
import { ADA, BEN, clickPath, savedPage, showSavedPage } from './saved-pages';

const ADA_ID = '003Dn00000ZAda1IAD';
const BEN_ID = '003Dn00000ZBen2IAD';
const url = (path: string) => new URL(`https://acme.lightning.force.com${path}`);
afterEach(() => void (document.body.innerHTML = ''));

describe('salesforce adapter: URLs', () => {
  it('matches Lightning Experience on *.lightning.force.com only', () => {
    expect(pickAdapter(ADAPTERS, url(`/lightning/r/Contact/${ADA_ID}/view`))?.id).toBe('salesforce');
    expect(salesforce.matches(url('/lightning/o/Contact/list'))).toBe(true);
    expect(salesforce.matches(new URL('https://acme--uat.sandbox.lightning.force.com/lightning/page/home'))).toBe(true);
    expect(salesforce.matches(new URL('https://acme.my.salesforce.com/003Dn00000ZAda1'))).toBe(false);
    expect(salesforce.matches(new URL('http://acme.lightning.force.com/lightning/page/home'))).toBe(false);
    expect(salesforce.matches(new URL('https://evil-lightning.force.com.example.org/lightning/'))).toBe(false);
  });

  it('turns 15-character ids into the 18-character form', () => {
    expect(salesforceId18('003Dn00000ZAda1')).toBe(ADA_ID);
    expect(salesforceId18(ADA_ID)).toBe(ADA_ID);
    expect(salesforceId18('003-bad')).toBeNull();
  });
});

describe('salesforce adapter: readRecord on saved pages (fields inside nested shadow roots)', () => {
  it('reads the contact id, phones and email', () => {
    const ids = salesforce.readRecord(savedPage('salesforce', `record-${ADA_ID}.html`), url(`/lightning/r/Contact/${ADA_ID}/view`));
    expect(ids).toEqual({ crm: 'salesforce', crmId: ADA_ID, accountNumber: null, phones: ADA.phones, emails: [ADA.email] });
  });

  it('reads the same record from a 15-character id, an object-less URL and a related list', () => {
    const doc = savedPage('salesforce', `record-${BEN_ID}.html`);
    const expected = { crm: 'salesforce', crmId: BEN_ID, accountNumber: null, phones: BEN.phones, emails: [BEN.email] };
    expect(salesforce.readRecord(doc, url('/lightning/r/Contact/003Dn00000ZBen2/view'))).toEqual(expected);
    expect(salesforce.readRecord(doc, url(`/lightning/r/${BEN_ID}/view`))).toEqual(expected);
    expect(salesforce.readRecord(doc, url(`/lightning/r/Contact/${BEN_ID}/related/Cases/view`))).toEqual(expected);
  });

  it('right after navigating, reads only the id, not the previous record still on screen', () => {
    const ids = salesforce.readRecord(savedPage('salesforce', `record-${ADA_ID}.html`), url(`/lightning/r/Contact/${BEN_ID}/view`));
    expect(ids).toEqual({ crm: 'salesforce', crmId: BEN_ID, accountNumber: null, phones: [], emails: [] });
  });

  it('is null on list views and on objects that are not customers', () => {
    const list = savedPage('salesforce', 'list.html');
    expect(salesforce.readRecord(list, url('/lightning/o/Contact/list'))).toBeNull();
    expect(salesforce.readRecord(list, url('/lightning/r/Opportunity/006Dn00000ZOpp1IAD/view'))).toBeNull();
    expect(salesforce.readRecord(list, url('/lightning/r/006Dn00000ZOpp1IAD/view'))).toBeNull();
  });
});

describe('salesforce adapter: controls inside shadow roots, found on the composed path', () => {
  const controlFor = (name: string) => {
    showSavedPage('salesforce', `record-${ADA_ID}.html`);
    const target = deepQuery(document, name)!;
    expect(target, name).not.toBeNull();
    const path = clickPath(target);
    expect(path[0]).toBe(target);
    return findControl(salesforce, path);
  };

  it.each([
    ['button[name="SendListEmail"]', 'marketing.other_category', 'Send List Email'],
    ['button[name="Contact.AddToCampaign"]', 'marketing.other_category', 'Add to Campaign'],
    ['button[name="SalesEngagement.AddToCadence"]', 'marketing.other_category', 'Add to Cadence'],
    ['button[name="Global.SendEmail"]', 'ambiguous', 'Email'],
    ['a[href^="tel:"]', 'ambiguous', '(407) 555-0101'],
    ['a[href^="mailto:"]', 'ambiguous', 'Ada.OptedIn@example.com'],
  ])('%s -> %s', (selector, action, control) => {
    expect(controlFor(selector)?.match).toMatchObject({ action, control });
  });

  it('asks what an email is for, and what a call is for', () => {
    expect(controlFor('button[name="Global.SendEmail"]')?.match.question).toBe('What is this email for?');
    expect(controlFor('a[href^="tel:"]')?.match.question).toBe('What is this call for?');
  });

  it('leaves internal sharing and plain fields alone', () => {
    expect(controlFor('button[name="Contact.Share"]')).toBeNull();
    expect(controlFor('h1')).toBeNull();
  });

  it('floats the panel (no light-DOM place on a record page)', () => {
    expect(salesforce.panelAnchor(savedPage('salesforce', `record-${ADA_ID}.html`))).toBeNull();
  });
});
