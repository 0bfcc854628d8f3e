// Helpers the built-in adapters share: querying through shadow roots (querySelector does not
// go into them), reading phone numbers and emails into normal form, and classifying controls
// from a table of selectors. DOM in, plain data out; no state.
import { CALL_PURPOSES, cleanLabel, type ControlMatch, type PanelAnchor, type PurposeChoice, type QueryRoot } from '@/lib/adapter';
import { looksLikeEmail, normalizeEmail, normalizePhone } from '@/lib/identifiers';
import type { ActionKind } from '@/lib/schemas';
import type { RecordIdentifiers } from '@/lib/snapshot';

export const sel = (list: readonly string[]) => list.join(', ');

/** Our own hosts (panel, chooser): never walked into, never read. */
const OWN_TAG = /^CPNI-GUARD-/;

type ClosedRootOpener = (el: Element) => ShadowRoot | null;

/** Chromium's extension API can open closed shadow roots too (chrome.dom), as Bitwarden does. */
function openOrClosed(): ClosedRootOpener | null {
  const api = (globalThis as { chrome?: { dom?: { openOrClosedShadowRoot?: ClosedRootOpener } } }).chrome?.dom;
  return typeof api?.openOrClosedShadowRoot === 'function' ? api.openOrClosedShadowRoot.bind(api) : null;
}

export function shadowRootOf(el: Element): ShadowRoot | null {
  if (OWN_TAG.test(el.tagName)) return null;
  if (el.shadowRoot) return el.shadowRoot;
  const open = openOrClosed();
  if (!open) return null;
  try {
    return open(el);
  } catch {
    return null;
  }
}

/** Every shadow root inside `root` (its own subtree and nested roots), depth first. */
export function shadowRoots(root: QueryRoot & Node, limit = 5000): ShadowRoot[] {
  const out: ShadowRoot[] = [];
  const visit = (r: QueryRoot) => {
    for (const el of Array.from(r.querySelectorAll('*'))) {
      if (out.length >= limit) return;
      const sr = shadowRootOf(el);
      if (sr) {
        out.push(sr);
        visit(sr);
      }
    }
  };
  visit(root);
  return out;
}

/** querySelectorAll that also looks inside (nested) shadow roots, `root`'s own included. */
export function deepQueryAll(root: QueryRoot, selector: string, limit = 200): Element[] {
  const out: Element[] = [];
  const visit = (r: QueryRoot) => {
    const own = (r as unknown as Node).nodeType === 1 ? shadowRootOf(r as unknown as Element) : null;
    if (own) visit(own);
    for (const el of Array.from(r.querySelectorAll('*'))) {
      if (out.length >= limit) return;
      if (OWN_TAG.test(el.tagName)) continue;
      if (el.matches(selector)) out.push(el);
      const sr = shadowRootOf(el);
      if (sr) visit(sr);
    }
  };
  visit(root);
  return out;
}

export function deepQuery(root: QueryRoot, selector: string): Element | null {
  return deepQueryAll(root, selector, 1)[0] ?? null;
}

/** The text a person sees in `el`, shadow content included (textContent skips it). */
export function deepText(el: Element): string {
  let s = '';
  const visit = (n: Node) => {
    if (n.nodeType === 3) s += n.nodeValue ?? '';
    const sr = n.nodeType === 1 ? shadowRootOf(n as Element) : null;
    for (const c of Array.from((sr ?? n).childNodes)) visit(c);
  };
  visit(el);
  return cleanLabel(s, 500);
}

/** A field's value: an input's value, else a tel:/mailto: link's target, else its text. */
export function fieldValue(el: Element): string {
  const tag = el.tagName;
  if (tag === 'INPUT' || tag === 'TEXTAREA') return (el as HTMLInputElement).value || el.getAttribute('value') || '';
  const link = el.matches('a[href]') ? el : deepQuery(el, 'a[href^="tel:" i], a[href^="mailto:" i]');
  const href = link?.getAttribute('href') ?? '';
  if (/^(tel|mailto):/i.test(href)) return decodeURIComponent(href.replace(/^(tel|mailto):/i, '').split('?')[0]!);
  return deepText(el);
}

function unique<T>(xs: (T | null)[]): T[] {
  return [...new Set(xs.filter((x): x is T => x !== null && x !== ''))];
}

export function readPhones(els: readonly Element[]): string[] {
  return unique(els.map((e) => normalizePhone(fieldValue(e)))).slice(0, 10);
}

export function readEmails(els: readonly Element[]): string[] {
  return unique(els.map(fieldValue).filter(looksLikeEmail).map(normalizeEmail)).slice(0, 10);
}

/** The label a control shows: aria-label, title, or its (shadow-inclusive) text. */
export function controlLabel(el: Element, fallback: string): string {
  return cleanLabel(el.getAttribute('aria-label') || el.getAttribute('title') || deepText(el)) || fallback;
}

export const CALL_QUESTION = 'What is this call for?';
export const EMAIL_QUESTION = 'What is this email for?';
export const MESSAGE_QUESTION = 'What is this message for?';
export const SHARE_QUESTION = 'Who gets this record?';

/** Sending a record out ("Email a Link", share): inside the company is service, outside is a disclosure. */
export const SHARE_PURPOSES: readonly PurposeChoice[] = [
  { purpose: 'internal', label: 'A colleague', action: 'service' },
  { purpose: 'third_party', label: 'Someone outside the company', action: 'disclose.third_party' },
];

/** One row of an adapter's control table: these selectors are this action. */
export interface ControlRule {
  selectors: readonly string[];
  action: ActionKind | 'ambiguous';
  question?: string;
  /** For 'ambiguous': the answers (default Service / Marketing). */
  choices?: readonly PurposeChoice[];
}

/** `tel:` and `mailto:` links are ambiguous everywhere: service or marketing? */
export const LINK_RULES: readonly ControlRule[] = [
  { selectors: ['a[href^="tel:" i]'], action: 'ambiguous', question: CALL_QUESTION },
  { selectors: ['a[href^="mailto:" i]'], action: 'ambiguous', question: EMAIL_QUESTION },
];

/** The first rule `el` matches, as a ControlMatch. */
export function classifyBy(rules: readonly ControlRule[], el: Element): ControlMatch | null {
  for (const rule of rules) {
    if (!el.matches(sel(rule.selectors))) continue;
    const control = controlLabel(el, rule.action);
    if (rule.action !== 'ambiguous') return { action: rule.action, control };
    return { action: 'ambiguous', control, choices: rule.choices ?? CALL_PURPOSES, question: rule.question ?? CALL_QUESTION };
  }
  return null;
}

/** The selectors an adapter reads a record's fields with. */
export interface RecordFieldSelectors {
  record: readonly string[];
  recordIdAttribute: string;
  phone: readonly string[];
  email: readonly string[];
}

/**
 * Adds the phones and emails shown in the element that says it shows record `ids.crmId`.
 * Right after an in-app navigation the previous customer may still be on screen: its fields
 * are never read, only the id from the URL.
 */
export function withRecordFields(root: QueryRoot, s: RecordFieldSelectors, ids: RecordIdentifiers): RecordIdentifiers {
  const record = Array.from(root.querySelectorAll(sel(s.record))).find((el) => el.getAttribute(s.recordIdAttribute) === ids.crmId);
  if (!record) return ids;
  return {
    ...ids,
    phones: readPhones(Array.from(record.querySelectorAll(sel(s.phone)))),
    emails: readEmails(Array.from(record.querySelectorAll(sel(s.email)))),
  };
}

/** The panel goes first inside the first element `anchors` finds; floating when none. */
export function prependPanel(root: QueryRoot, anchors: readonly string[]): PanelAnchor | null {
  if (anchors.length === 0) return null;
  const element = root.querySelector(sel(anchors));
  return element ? { element, position: 'prepend' } : null;
}
