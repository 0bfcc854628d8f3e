// Adapter for HubSpot (app.hubspot.com, app-eu1.hubspot.com). Contact records are
// /contacts/<portal>/record/0-1/<id> (older: /contacts/<portal>/contact/<id>). HubSpot is a React
// app that replaces its nodes on re-render: nothing here holds on to an element; the watcher
// re-reads and the guard classifies the click's path. Every selector is in `selectors`.
import type { ControlMatch, CrmAdapter, PanelAnchor, QueryRoot } from '@/lib/adapter';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { CALL_QUESTION, classifyBy, EMAIL_QUESTION, LINK_RULES, prependPanel, withRecordFields, type ControlRule } from './common';

export const selectors = {
  /** The record page; its data-object-id must be the URL's record before we read fields. */
  record: ['[data-selenium-test="record-page"][data-object-id]', '[data-test-id="record-page"][data-object-id]'],
  recordIdAttribute: 'data-object-id',
  phone: [
    '[data-selenium-test="property-input-phone"]',
    '[data-selenium-test="property-input-mobilephone"]',
    '[data-test-id="property-input-phone"]',
    '[data-test-id="property-input-mobilephone"]',
  ],
  email: ['[data-selenium-test="property-input-email"]', '[data-test-id="property-input-email"]'],
  /** The React root re-renders everything inside it: the panel floats outside it. */
  panelAnchor: [] as string[],
  controls: {
    sequence: ['[data-selenium-test="enroll-in-sequence-button"]', '[data-selenium-test="sequences-enroll-button"]'],
    addToList: ['[data-selenium-test="add-to-list-button"]', '[data-selenium-test="add-to-static-list"]'],
    marketingEmail: ['[data-selenium-test="send-marketing-email-button"]'],
    composerSend: ['[data-selenium-test="email-composer-send-button"]', '[data-selenium-test="communicator-send-button"]'],
    call: ['[data-selenium-test="record-action-call"]', '[data-selenium-test="calling-button"]'],
    exportList: ['[data-selenium-test="export-view-button"]', '[data-selenium-test="export-button"]'],
  },
} as const;

const RULES: readonly ControlRule[] = [
  { selectors: selectors.controls.sequence, action: 'marketing.other_category' },
  { selectors: selectors.controls.addToList, action: 'marketing.other_category' },
  { selectors: selectors.controls.marketingEmail, action: 'marketing.other_category' },
  { selectors: selectors.controls.exportList, action: 'export.list' },
  { selectors: selectors.controls.composerSend, action: 'ambiguous', question: EMAIL_QUESTION },
  { selectors: selectors.controls.call, action: 'ambiguous', question: CALL_QUESTION },
  ...LINK_RULES,
];

const HOSTS = new Set(['app.hubspot.com', 'app-eu1.hubspot.com']);
const RECORD_PATH = /^\/contacts\/(\d{1,12})\/(?:record\/0-1|contact)\/(\d{1,20})(?:\/.*)?$/;

export const hubspot: CrmAdapter = {
  id: 'hubspot',

  matches(url) {
    return url.protocol === 'https:' && HOSTS.has(url.hostname) && url.pathname.startsWith('/contacts/');
  },

  readRecord(root: QueryRoot, url: URL): RecordIdentifiers | null {
    const m = RECORD_PATH.exec(url.pathname);
    if (!m) return null;
    const crmId = m[2]!;
    return withRecordFields(root, selectors, { crm: 'hubspot', crmId, accountNumber: null, phones: [], emails: [] });
  },

  classify(el): ControlMatch | null {
    return classifyBy(RULES, el);
  },

  panelAnchor(root): PanelAnchor | null {
    return prependPanel(root, selectors.panelAnchor);
  },
};
