// Adapter for the Acme Telecom demo CRM (server/demo-crm/). Every selector it relies on is in
// `selectors`; each entry lists the current markup first, then older markup still seen.
import {
  cleanLabel,
  CALL_PURPOSES,
  type ControlMatch,
  type CrmAdapter,
  type PanelAnchor,
  type QueryRoot,
} from '@/lib/adapter';
import type { ActionKind } from '@/lib/schemas';
import { normalizeEmail, normalizePhone, looksLikeEmail } from '@/lib/identifiers';
import type { RecordIdentifiers } from '@/lib/snapshot';

export const selectors = {
  /** The rendered record; its data-contact-id must match the URL's id before we read it. */
  record: ['[data-testid="contact-record"]', 'section.record'],
  recordIdAttribute: 'data-contact-id',
  phone: ['[data-field="phone"]', '[data-testid="contact-phone"]'],
  email: ['[data-field="email"]', '[data-testid="contact-email"]'],
  accountNumber: ['[data-field="account"]', '[data-testid="contact-account"]'],
  /** The panel goes at the top of the CRM's sidebar (stable across in-app navigations). */
  panelAnchor: ['#sidebar', '[data-testid="sidebar"]'],
  controls: {
    marketingEmail: ['[data-crm-action="marketing-email"]'],
    addToCampaign: ['[data-crm-action="add-to-campaign"]'],
    callDetail: ['[data-crm-action="call-detail"]'],
    exportList: ['[data-crm-action="export"]'],
    launchCampaign: ['[data-crm-action="launch-campaign"][data-campaign-id]'],
    /** The record's "Edit account" saves: account changes that need a notice (policy §10). */
    accountSave: ['[data-crm-action="save-address"]', '[data-crm-action="save-password"]'],
    call: ['a[href^="tel:" i]', '[data-crm-action="call"]'],
  },
} as const;

const RECORD_PATH = /^\/contacts\/([A-Za-z0-9][A-Za-z0-9_-]{0,127})\/?$/;
const APP_PATH = /^\/((contacts|campaigns)(\/.*)?)?$/;

const sel = (list: readonly string[]) => list.join(', ');
/** Which account field each "Edit account" save changes. */
const ACCOUNT_FIELD_OF: Readonly<Record<string, string>> = { 'save-address': 'address_of_record', 'save-password': 'password' };

const CONTROL_ACTIONS: ReadonlyArray<[readonly string[], ActionKind | 'ambiguous']> = [
  [selectors.controls.marketingEmail, 'marketing.other_category'],
  [selectors.controls.addToCampaign, 'marketing.other_category'],
  [selectors.controls.callDetail, 'disclose.call_detail'],
  [selectors.controls.exportList, 'export.list'],
  [selectors.controls.launchCampaign, 'marketing.launch_campaign'],
  [selectors.controls.accountSave, 'account.change'],
  [selectors.controls.call, 'ambiguous'],
];

function texts(root: QueryRoot, list: readonly string[]): string[] {
  return Array.from(root.querySelectorAll(sel(list)), (n) => cleanLabel(n.textContent)).filter(Boolean);
}

function unique<T>(xs: (T | null)[]): T[] {
  return [...new Set(xs.filter((x): x is T => x !== null))];
}

export const demoCrm: CrmAdapter = {
  id: 'demo-crm',

  matches(url) {
    return (url.hostname === 'localhost' || url.hostname === '127.0.0.1') && APP_PATH.test(url.pathname);
  },

  readRecord(root, url): RecordIdentifiers | null {
    const m = RECORD_PATH.exec(url.pathname);
    if (!m) return null;
    const crmId = m[1]!;
    const ids: RecordIdentifiers = { crm: 'demo-crm', crmId, accountNumber: null, phones: [], emails: [] };
    // Right after an in-app navigation the page still shows the previous record: read the
    // fields only from a record element that says it is this one.
    const record = root.querySelector(sel(selectors.record));
    if (!record || record.getAttribute(selectors.recordIdAttribute) !== crmId) return ids;
    ids.phones = unique(texts(record, selectors.phone).map(normalizePhone)).slice(0, 10);
    ids.emails = unique(texts(record, selectors.email).filter(looksLikeEmail).map(normalizeEmail)).slice(0, 10);
    ids.accountNumber = texts(record, selectors.accountNumber)[0]?.slice(0, 64) ?? null;
    return ids;
  },

  classify(el): ControlMatch | null {
    for (const [list, action] of CONTROL_ACTIONS) {
      if (!el.matches(sel(list))) continue;
      const control = cleanLabel(el.getAttribute('aria-label') || el.textContent) || action;
      if (action === 'marketing.launch_campaign') return { action, control, campaignId: el.getAttribute('data-campaign-id') };
      if (action === 'account.change') return { action, control, accountField: ACCOUNT_FIELD_OF[el.getAttribute('data-crm-action') ?? ''] ?? null };
      return action === 'ambiguous' ? { action, control, choices: CALL_PURPOSES } : { action, control };
    }
    return null;
  },

  panelAnchor(root): PanelAnchor | null {
    const element = root.querySelector(sel(selectors.panelAnchor));
    return element ? { element, position: 'prepend' } : null;
  },
};
