// What a CRM adapter is: which URLs, how to read the record's identifiers, which elements are
// which actions, where the panel goes (STYLE "In this project"). Types and pure helpers only;
// adapters that use the DOM live in entrypoints/crm.content/adapters/<crm>.ts.
import type { ActionKind, ServiceCategory } from './schemas';
import type { RecordIdentifiers } from './snapshot';

/** Anything an adapter can query: a Document, a ShadowRoot or an Element. */
export type QueryRoot = Pick<ParentNode, 'querySelector' | 'querySelectorAll'>;

/** One answer the rep can give when a control is ambiguous ("What is this call for?"). */
export interface PurposeChoice {
  purpose: string; // recorded in the audit event as details.purpose, e.g. "service"
  label: string; // shown on the chooser button, e.g. "Service"
  action: ActionKind; // what the click is decided as when the rep picks this
}

/** A `tel:` link can be service or marketing (DESIGN "Actions the guard knows"). */
export const CALL_PURPOSES: readonly PurposeChoice[] = [
  { purpose: 'service', label: 'Service', action: 'service' },
  { purpose: 'marketing', label: 'Marketing', action: 'marketing.other_category' },
];

export interface ControlMatch {
  action: ActionKind | 'ambiguous';
  /** The control's label as the CRM shows it (audit `control`), at most 200 chars. */
  control: string;
  /** For marketing controls that say which service category they offer. */
  offeredCategory?: ServiceCategory | null;
  /** For 'ambiguous': what the rep may answer. Defaults to CALL_PURPOSES. */
  choices?: readonly PurposeChoice[];
  /** For 'ambiguous': the question. Defaults to "What is this call for?". */
  question?: string;
  /** For 'marketing.launch_campaign': the CPNI Guard campaign id the control names. */
  campaignId?: string | null;
  /** For 'account.change': which account field the control changes (lib/calls.ts AccountField). */
  accountField?: string | null;
}

export type PanelPosition = 'before' | 'after' | 'prepend' | 'append';
export interface PanelAnchor {
  element: Element;
  position: PanelPosition;
}

export interface CrmAdapter {
  /** Adapter id; also the `crm` of RecordIdentifiers and of CrmRef, e.g. "demo-crm". */
  readonly id: string;
  matches(url: URL): boolean;
  /** The identifiers of the record on screen, normalized; null when not on a record. */
  readRecord(root: QueryRoot, url: URL): RecordIdentifiers | null;
  /**
   * Is `el` (one element of the click's composed path) a control the guard decides?
   * `path` is the whole `event.composedPath()`, for adapters that need the context.
   */
  classify(el: Element, path: readonly EventTarget[]): ControlMatch | null;
  /** Where the status panel goes; null = floating, fixed bottom-right. */
  panelAnchor(root: QueryRoot): PanelAnchor | null;
}

export function pickAdapter<A extends Pick<CrmAdapter, 'matches'>>(adapters: readonly A[], url: URL): A | null {
  for (const a of adapters) if (a.matches(url)) return a;
  return null;
}

/**
 * Which customer a record is: the CRM id when the CRM has one (its primary identifier),
 * otherwise the sorted phones and emails. Two reads with the same key are the same record.
 */
export function recordKey(ids: RecordIdentifiers | null): string | null {
  if (!ids) return null;
  if (ids.crmId) return `${ids.crm}|id|${ids.crmId}`;
  const rest = [...ids.phones, ...ids.emails].sort();
  if (!ids.accountNumber && rest.length === 0) return null;
  return `${ids.crm}|ids|${ids.accountNumber ?? ''}|${rest.join(',')}`;
}

/** Same record, same identifiers (a re-read found nothing new). */
export function sameIdentifiers(a: RecordIdentifiers | null, b: RecordIdentifiers | null): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.crm === b.crm &&
    a.crmId === b.crmId &&
    a.accountNumber === b.accountNumber &&
    a.phones.join(',') === b.phones.join(',') &&
    a.emails.join(',') === b.emails.join(',')
  );
}

/** Trim and collapse whitespace; cut to `max` characters (audit fields have limits). */
export function cleanLabel(s: string | null | undefined, max = 200): string {
  return (s ?? '').replace(/\s+/g, ' ').trim().slice(0, max);
}
