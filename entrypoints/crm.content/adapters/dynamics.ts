// Adapter for Microsoft Dynamics 365 model-driven apps (<org>.crm[N].dynamics.com). Records are
// main.aspx?...&pagetype=entityrecord&etn=contact&id=<guid>; the form may sit in an iframe
// (#contentIFrame0, /form/Page.aspx?etn=contact&id=%7B<GUID>%7D&pagetype=entityrecord). The
// content script runs in every frame: the form frame reads its own fields and guards its own
// clicks; the top frame reads the same fields through the same-origin iframe, so both frames
// report the same record, and the panel shows once, at the top. Every selector is in `selectors`.
import type { ControlMatch, CrmAdapter, PanelAnchor, QueryRoot } from '@/lib/adapter';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { classifyBy, EMAIL_QUESTION, LINK_RULES, readEmails, readPhones, sel, SHARE_PURPOSES, SHARE_QUESTION, type ControlRule, prependPanel } from './common';

export const selectors = {
  /** The form; its data-lp-id ends with "|<entity>|<guid>" of the record it shows. */
  form: ['[data-id="editFormRoot"][data-lp-id]', '#editFormRoot[data-lp-id]', '[data-id="form-container"][data-lp-id]'],
  formIdAttribute: 'data-lp-id',
  /** Where the legacy shell puts the form. */
  formFrame: ['iframe#contentIFrame0', 'iframe[data-id^="contentIFrame"]', 'iframe#contentIFrame1'],
  phone: ['input[data-id$=".fieldControl-phone-text-input"]', 'input[id^="telephone1_i"]', 'input[id^="mobilephone_i"]'],
  email: ['input[data-id$=".fieldControl-mail-text-input"]', 'input[id^="emailaddress1_i"]'],
  panelAnchor: [] as string[],
  controls: {
    marketingList: ['[data-id$="Mscrm.Form.contact.AddToMarketingList"]', '[data-id$="Mscrm.AddSelectedToMarketingList"]', '[data-id*="AddToMarketingList"]'],
    quickCampaign: ['[data-id*="Mscrm.QuickCampaign"]', '[data-id*="QuickCampaign"]'],
    exportList: ['[data-id$="ExportToExcel.Menu"]', '[data-id*="Mscrm.ExportToExcel"]', '[data-id*="ExportToExcel"]'],
    sendEmail: ['[data-id$="Mscrm.Form.contact.SendEmail"]', '[data-id$="Mscrm.SendEmail"]'],
    emailLink: ['[data-id$=".SendShortcut"]', '[data-id*="Mscrm.SendShortcut"]'],
  },
} as const;

const RULES: readonly ControlRule[] = [
  { selectors: selectors.controls.marketingList, action: 'marketing.other_category' },
  { selectors: selectors.controls.quickCampaign, action: 'marketing.other_category' },
  { selectors: selectors.controls.exportList, action: 'export.list' },
  { selectors: selectors.controls.sendEmail, action: 'ambiguous', question: EMAIL_QUESTION },
  { selectors: selectors.controls.emailLink, action: 'ambiguous', question: SHARE_QUESTION, choices: SHARE_PURPOSES },
  ...LINK_RULES,
];

const HOST = /^[a-z0-9-]+\.crm\d*\.dynamics\.com$/i;
const PATHS = new Set(['/main.aspx', '/form/page.aspx']);
const ENTITIES = new Set(['contact', 'account', 'lead']);
const GUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

/** A Dynamics record id in one form: lower case, no braces. */
export function dynamicsGuid(raw: string | null | undefined): string | null {
  const m = GUID.exec((raw ?? '').trim());
  return m ? m[1]!.toLowerCase() : null;
}

/** The form in `root` that shows record `guid`, if any. */
function formFor(root: QueryRoot, guid: string): Element | null {
  for (const form of Array.from(root.querySelectorAll(sel(selectors.form)))) {
    const lp = form.getAttribute(selectors.formIdAttribute) ?? '';
    if (dynamicsGuid(lp.split('|').pop()) === guid) return form;
  }
  return null;
}

/** The form frame's document when it is same-origin and loaded; null otherwise. */
function frameDocument(root: QueryRoot): Document | null {
  for (const frame of Array.from(root.querySelectorAll<HTMLIFrameElement>(sel(selectors.formFrame)))) {
    try {
      const doc = frame.contentDocument;
      if (doc && doc.readyState !== 'loading') return doc;
    } catch {
      /* cross-origin: that frame's own content script reads it */
    }
  }
  return null;
}

export const dynamics: CrmAdapter = {
  id: 'dynamics',

  matches(url) {
    return url.protocol === 'https:' && HOST.test(url.hostname) && PATHS.has(url.pathname.toLowerCase());
  },

  readRecord(root: QueryRoot, url: URL): RecordIdentifiers | null {
    const q = url.searchParams;
    if (q.get('pagetype')?.toLowerCase() !== 'entityrecord') return null;
    if (!ENTITIES.has(q.get('etn')?.toLowerCase() ?? '')) return null;
    const crmId = dynamicsGuid(q.get('id'));
    if (!crmId) return null;
    const ids: RecordIdentifiers = { crm: 'dynamics', crmId, accountNumber: null, phones: [], emails: [] };
    let form = formFor(root, crmId);
    if (!form) {
      const inner = frameDocument(root);
      form = inner ? formFor(inner, crmId) : null;
    }
    if (!form) return ids;
    ids.phones = readPhones(Array.from(form.querySelectorAll(sel(selectors.phone))));
    ids.emails = readEmails(Array.from(form.querySelectorAll(sel(selectors.email))));
    return ids;
  },

  classify(el): ControlMatch | null {
    return classifyBy(RULES, el);
  },

  panelAnchor(root): PanelAnchor | null {
    return prependPanel(root, selectors.panelAnchor);
  },
};
