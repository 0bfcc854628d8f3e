// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import { dynamics, dynamicsGuid } from '@/entrypoints/crm.content/adapters/dynamics';
import { findControl } from '@/entrypoints/crm.content/guard';
import { pickAdapter } from '@/lib/adapter';
import { ADA, BEN, clickPath, savedPage, showSavedPage } from './saved-pages';

const ADA_ID = '6f1e2a10-0c4d-4c5e-9a1b-00000000a001';
const BEN_ID = '6f1e2a10-0c4d-4c5e-9a1b-00000000b002';
const APP = 'appid=2f5a9c1e-7d3b-4e8f-a6c2-1b0d9e8f7a65';
const url = (path: string, host = 'acme.crm.dynamics.com') => new URL(`https://${host}${path}`);
const mainUrl = (id: string) => url(`/main.aspx?${APP}&pagetype=entityrecord&etn=contact&id=${id}`);
const formUrl = (id: string) => url(`/form/Page.aspx?etn=contact&id=%7B${id.toUpperCase()}%7D&pagetype=entityrecord`);
afterEach(() => void (document.body.innerHTML = ''));

describe('dynamics adapter: URLs', () => {
  it('matches main.aspx and the form frame on <org>.crm[N].dynamics.com', () => {
    expect(pickAdapter(ADAPTERS, mainUrl(ADA_ID))?.id).toBe('dynamics');
    expect(dynamics.matches(formUrl(ADA_ID))).toBe(true);
    expect(dynamics.matches(url(`/main.aspx?${APP}&pagetype=entitylist&etn=contact`, 'contoso.crm4.dynamics.com'))).toBe(true);
    expect(dynamics.matches(url('/main.aspx', 'www.dynamics.com'))).toBe(false);
    expect(dynamics.matches(url('/api/data/v9.2/contacts'))).toBe(false);
  });

  it('normalizes GUIDs: braces off, lower case', () => {
    expect(dynamicsGuid(`{${ADA_ID.toUpperCase()}}`)).toBe(ADA_ID);
    expect(dynamicsGuid('not-a-guid')).toBeNull();
  });
});

describe('dynamics adapter: readRecord on saved pages', () => {
  it('in the form frame: reads the GUID from its URL and the fields from its inputs', () => {
    expect(dynamics.readRecord(savedPage('dynamics', `form-${ADA_ID}.html`), formUrl(ADA_ID))).toEqual({
      crm: 'dynamics', crmId: ADA_ID, accountNumber: null, phones: ADA.phones, emails: [ADA.email],
    });
  });

  it('in the top frame: the GUID from main.aspx, the fields through the same-origin form iframe once it has loaded', () => {
    showSavedPage('dynamics', `main-${BEN_ID}.html`);
    const frame = document.querySelector<HTMLIFrameElement>('#contentIFrame0')!;
    const idOnly = { crm: 'dynamics', crmId: BEN_ID, accountNumber: null, phones: [], emails: [] };
    // happy-dom loads no frames: stand in the browser's same-origin contentDocument.
    let inner: Document | null = null;
    Object.defineProperty(frame, 'contentDocument', { configurable: true, get: () => inner });
    expect(dynamics.readRecord(document, mainUrl(BEN_ID))).toEqual(idOnly); // not loaded yet
    inner = savedPage('dynamics', `form-${BEN_ID}.html`);
    expect(dynamics.readRecord(document, mainUrl(BEN_ID))).toEqual({ ...idOnly, phones: BEN.phones, emails: [BEN.email] });
    // The same frame while the shell already says Ada: the id only.
    expect(dynamics.readRecord(document, mainUrl(ADA_ID))).toEqual({ ...idOnly, crmId: ADA_ID });
  });

  it('is null on the list and for entities that are not customers', () => {
    expect(dynamics.readRecord(savedPage('dynamics', 'list.html'), url(`/main.aspx?${APP}&pagetype=entitylist&etn=contact`))).toBeNull();
    expect(dynamics.readRecord(savedPage('dynamics', 'list.html'), url(`/main.aspx?pagetype=entityrecord&etn=opportunity&id=${ADA_ID}`))).toBeNull();
  });
});

describe('dynamics adapter: classify', () => {
  const control = (file: string, selector: string) => {
    showSavedPage('dynamics', file);
    return findControl(dynamics, clickPath(document.querySelector(selector)!))?.match ?? null;
  };
  it('Add to Marketing List is marketing; Export to Excel is a list export', () => {
    expect(control(`form-${ADA_ID}.html`, '[data-id$="AddToMarketingList"]')).toMatchObject({ action: 'marketing.other_category', control: 'Add to Marketing List' });
    expect(control('list.html', '[data-id$="ExportToExcel.Menu"]')).toMatchObject({ action: 'export.list', control: 'Export to Excel' });
  });

  it('Email a Link asks who gets the record: a colleague (service) or someone outside (third-party disclosure)', () => {
    const m = control(`form-${ADA_ID}.html`, '[data-id$="SendShortcut"]');
    expect(m).toMatchObject({ action: 'ambiguous', question: 'Who gets this record?' });
    expect(m?.choices?.map((c) => c.action)).toEqual(['service', 'disclose.third_party']);
  });

  it('click-to-call is ambiguous; Save is nothing', () => {
    expect(control(`form-${ADA_ID}.html`, 'a[href^="tel:"]')).toMatchObject({ action: 'ambiguous', question: 'What is this call for?' });
    expect(control(`form-${ADA_ID}.html`, '[data-id$="Mscrm.Form.contact.Save"]')).toBeNull();
    expect(dynamics.panelAnchor(document)).toBeNull();
  });
});
