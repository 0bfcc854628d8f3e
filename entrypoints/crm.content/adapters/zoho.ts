// Adapter for Zoho CRM (crm.zoho.com and its other data centres). Records are
// /crm/<org>/tab/Contacts/<id> (older, single-org: /crm/tab/Contacts/<id>). Zoho navigates with
// pushState and replaceState and never fires hashchange. Every selector is in `selectors`.
import type { ControlMatch, CrmAdapter, PanelAnchor, QueryRoot } from '@/lib/adapter';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { classifyBy, EMAIL_QUESTION, LINK_RULES, prependPanel, withRecordFields, type ControlRule } from './common';

export const selectors = {
  /** The detail view; its data-entity-id must be the URL's record before we read fields. */
  record: ['#detailView[data-entity-id]', '[data-zcqa="detailView"][data-entity-id]'],
  recordIdAttribute: 'data-entity-id',
  phone: ['#subvalue_PHONE', '#subvalue_MOBILE', '#subvalue_HOME_PHONE', '#subvalue_OTHER_PHONE', '#value_Phone', '#value_Mobile'],
  email: ['#subvalue_EMAIL', '#subvalue_SECONDARYEMAIL', '#value_Email'],
  /** The detail view's right panel stays across record navigations. */
  panelAnchor: ['#crm_detail_rightpanel', '[data-zcqa="detailView_rightPanel"]'],
  controls: {
    sendMail: ['[data-zcqa="sendMail"]', '#sendMailBtn'],
    addToCampaign: ['[data-zcqa="addToCampaign"]', '#addToCampaignBtn'],
    cadence: ['[data-zcqa="enrollToCadence"]', '[data-zcqa="enrollCadence"]'],
    massEmail: ['[data-zcqa="massEmail"]'],
    exportList: ['[data-zcqa="cv_export"]', '[data-zcqa="exportData"]'],
  },
} as const;

const RULES: readonly ControlRule[] = [
  { selectors: selectors.controls.addToCampaign, action: 'marketing.other_category' },
  { selectors: selectors.controls.cadence, action: 'marketing.other_category' },
  { selectors: selectors.controls.massEmail, action: 'marketing.other_category' },
  { selectors: selectors.controls.exportList, action: 'export.list' },
  { selectors: selectors.controls.sendMail, action: 'ambiguous', question: EMAIL_QUESTION },
  ...LINK_RULES,
];

const HOSTS = new Set(['crm.zoho.com', 'crm.zoho.eu', 'crm.zoho.in', 'crm.zoho.com.au', 'crm.zoho.jp', 'crm.zohocloud.ca']);
const RECORD_PATH = /^\/crm\/(?:[A-Za-z0-9_-]+\/)?tab\/(?:Contacts|Leads|Accounts)\/(\d{6,25})(?:\/.*)?$/;

export const zoho: CrmAdapter = {
  id: 'zoho',

  matches(url) {
    return url.protocol === 'https:' && HOSTS.has(url.hostname) && url.pathname.startsWith('/crm/');
  },

  readRecord(root: QueryRoot, url: URL): RecordIdentifiers | null {
    const m = RECORD_PATH.exec(url.pathname);
    if (!m) return null;
    const crmId = m[1]!;
    return withRecordFields(root, selectors, { crm: 'zoho', crmId, accountNumber: null, phones: [], emails: [] });
  },

  classify(el): ControlMatch | null {
    return classifyBy(RULES, el);
  },

  panelAnchor(root): PanelAnchor | null {
    return prependPanel(root, selectors.panelAnchor);
  },
};
