// Adapter for Zendesk Support's agent workspace (<subdomain>.zendesk.com/agent/...). User
// profiles are /agent/users/<id> (and its sub-tabs). Zendesk renders the profile some time
// after navigating: until the profile of THIS user is on screen only the id is read, and the
// watcher re-reads when it arrives. Every selector is in `selectors`.
import type { ControlMatch, CrmAdapter, PanelAnchor, QueryRoot } from '@/lib/adapter';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { classifyBy, LINK_RULES, MESSAGE_QUESTION, prependPanel, withRecordFields, type ControlRule } from './common';

export const selectors = {
  /** The user profile; its data-user-id must be the URL's user before we read fields. */
  record: ['[data-test-id="user-profile"][data-user-id]', '.user-profile[data-user-id]'],
  recordIdAttribute: 'data-user-id',
  phone: ['[data-test-id="user-identity-phone"]', '[data-test-id="user-profile-field-phone"]'],
  email: ['[data-test-id="user-identity-email"]', '[data-test-id="user-profile-field-email"]'],
  panelAnchor: [] as string[],
  controls: {
    proactiveMessage: ['[data-test-id="user-proactive-message-button"]', '[data-test-id="proactive-message-button"]'],
    composerSend: ['[data-test-id="submit_button-button"]', '[data-test-id="omnicomposer-send-button"]'],
    exportList: ['[data-test-id="user-filters-export-csv"]', '[data-test-id="views-export-csv"]'],
  },
} as const;

const RULES: readonly ControlRule[] = [
  { selectors: selectors.controls.proactiveMessage, action: 'marketing.other_category' },
  { selectors: selectors.controls.exportList, action: 'export.list' },
  { selectors: selectors.controls.composerSend, action: 'ambiguous', question: MESSAGE_QUESTION },
  ...LINK_RULES,
];

const RECORD_PATH = /^\/agent\/users\/(\d{1,20})(?:\/[a-z_]*)?\/?$/;

export const zendesk: CrmAdapter = {
  id: 'zendesk',

  matches(url) {
    return url.protocol === 'https:' && url.hostname.endsWith('.zendesk.com') && url.pathname.startsWith('/agent/');
  },

  readRecord(root: QueryRoot, url: URL): RecordIdentifiers | null {
    const m = RECORD_PATH.exec(url.pathname);
    if (!m) return null;
    const crmId = m[1]!;
    return withRecordFields(root, selectors, { crm: 'zendesk', crmId, accountNumber: null, phones: [], emails: [] });
  },

  classify(el): ControlMatch | null {
    return classifyBy(RULES, el);
  },

  panelAnchor(root): PanelAnchor | null {
    return prependPanel(root, selectors.panelAnchor);
  },
};
