// Adapter for Salesforce Lightning Experience (<mydomain>.lightning.force.com). Record pages are
// /lightning/r/<Object>/<id>/view (or /lightning/r/<id>/view); every component renders in a
// shadow root, so fields are read with the shadow-piercing helpers and controls are found on
// the click's composedPath. Every selector is in `selectors`: current markup first, then older.
import type { ControlMatch, CrmAdapter, PanelAnchor, QueryRoot } from '@/lib/adapter';
import type { RecordIdentifiers } from '@/lib/snapshot';
import {
  classifyBy, deepQuery, deepQueryAll, EMAIL_QUESTION, LINK_RULES, CALL_QUESTION, readEmails, readPhones, sel,
  type ControlRule,
} from './common';

export const selectors = {
  /** The record page component; its record-id must be the URL's record before we read it. */
  record: ['records-record-page[record-id]', 'one-record-home-flexipage2[record-id]', '[data-recordid]'],
  recordIdAttributes: ['record-id', 'data-recordid'],
  phone: [
    '[data-target-selection-name$=".Phone"]',
    '[data-target-selection-name$=".MobilePhone"]',
    '[data-target-selection-name$=".HomePhone"]',
    '[data-target-selection-name$=".OtherPhone"]',
    '[data-target-selection-name$=".PersonMobilePhone"]',
    'force-record-layout-item[field-label="Phone"]',
    'force-record-layout-item[field-label="Mobile"]',
  ],
  email: [
    '[data-target-selection-name$=".Email"]',
    '[data-target-selection-name$=".PersonEmail"]',
    'force-record-layout-item[field-label="Email"]',
  ],
  /** No stable light-DOM place on a record page (it is all shadow DOM): the panel floats. */
  panelAnchor: [] as string[],
  // Actions: the renderer host's apiname (runtime_platform_actions-action-renderer; the tag name
  // is left out, some selector engines reject its underscores), then the inner button's name.
  controls: {
    listEmail: ['[apiname="SendListEmail"]', 'button[name="SendListEmail"]', 'a[title="Send List Email"]'],
    addToCampaign: ['[apiname$="AddToCampaign"]', 'button[name$="AddToCampaign"]', 'a[title="Add to Campaign"]'],
    cadence: ['[apiname*="AddToCadence"]', 'button[name*="AddToCadence"]', 'a[title="Add to Cadence"]'],
    sendEmail: ['[apiname="Global.SendEmail"]', 'button[name="Global.SendEmail"]', 'button[name="SendEmail"]'],
    clickToDial: ['lightning-click-to-dial', 'force-click-to-dial'],
    exportList: ['[apiname$="Export"]', 'button[name$="Export"]', 'lightning-menu-item[data-value="export"]'],
  },
} as const;

const RULES: readonly ControlRule[] = [
  { selectors: selectors.controls.listEmail, action: 'marketing.other_category' },
  { selectors: selectors.controls.addToCampaign, action: 'marketing.other_category' },
  { selectors: selectors.controls.cadence, action: 'marketing.other_category' },
  { selectors: selectors.controls.exportList, action: 'export.list' },
  { selectors: selectors.controls.sendEmail, action: 'ambiguous', question: EMAIL_QUESTION },
  { selectors: selectors.controls.clickToDial, action: 'ambiguous', question: CALL_QUESTION },
  ...LINK_RULES,
];

/** Record pages of the customer objects: Contact, Lead, Account (person accounts). */
const RECORD_PATH = /^\/lightning\/r\/(?:(Contact|Lead|Account)\/)?([A-Za-z0-9]{15}|[A-Za-z0-9]{18})\/(?:view|edit|related\/[^/]+\/view)\/?$/;
/** Key prefixes of those objects, for /lightning/r/<id>/view without the object. */
const KEY_PREFIXES = new Set(['003', '00Q', '001']);

/** Salesforce's 15-character (case-sensitive) id as its 18-character (case-safe) form. */
export function salesforceId18(id: string): string | null {
  if (/^[A-Za-z0-9]{18}$/.test(id)) return id;
  if (!/^[A-Za-z0-9]{15}$/.test(id)) return null;
  let suffix = '';
  for (let i = 0; i < 3; i++) {
    let flags = 0;
    for (let j = 0; j < 5; j++) {
      const c = id.charAt(i * 5 + j);
      if (c >= 'A' && c <= 'Z') flags += 1 << j;
    }
    suffix += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'.charAt(flags);
  }
  return id + suffix;
}

const sameId = (a: string | null, b: string | null) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

export const salesforce: CrmAdapter = {
  id: 'salesforce',

  matches(url) {
    return url.protocol === 'https:' && url.hostname.endsWith('.lightning.force.com') && url.pathname.startsWith('/lightning/');
  },

  readRecord(root: QueryRoot, url: URL): RecordIdentifiers | null {
    const m = RECORD_PATH.exec(url.pathname);
    if (!m) return null;
    const crmId = salesforceId18(m[2]!);
    if (!crmId || (!m[1] && !KEY_PREFIXES.has(crmId.slice(0, 3)))) return null;
    const ids: RecordIdentifiers = { crm: 'salesforce', crmId, accountNumber: null, phones: [], emails: [] };
    // Until Lightning has rendered this record, the page may still show the previous one.
    const record = deepQueryAll(root, sel(selectors.record), 20).find((el) =>
      selectors.recordIdAttributes.some((a) => sameId(salesforceId18(el.getAttribute(a) ?? ''), crmId)),
    );
    if (!record) return ids;
    ids.phones = readPhones(deepQueryAll(record, sel(selectors.phone)));
    ids.emails = readEmails(deepQueryAll(record, sel(selectors.email)));
    return ids;
  },

  classify(el): ControlMatch | null {
    return classifyBy(RULES, el);
  },

  panelAnchor(root): PanelAnchor | null {
    if (selectors.panelAnchor.length === 0) return null;
    const element = deepQuery(root, sel(selectors.panelAnchor));
    return element ? { element, position: 'prepend' } : null;
  },
};
