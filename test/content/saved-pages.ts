// Saved vendor CRM pages (test/fixtures/<crm>/) for unit tests: parsed without their scripts,
// with declarative shadow roots (<template shadowrootmode>) attached as a browser does on load.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type VendorCrm = 'salesforce' | 'hubspot' | 'dynamics' | 'zendesk' | 'zoho';
export const FIXTURES_DIR = join(__dirname, '..', 'fixtures');

export function savedHtml(crm: VendorCrm, file: string): string {
  return readFileSync(join(FIXTURES_DIR, crm, file), 'utf8').replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');
}

/** Attaches every `<template shadowrootmode>` under `root` (nested ones too) to its parent. */
export function attachDeclarativeShadowRoots(root: ParentNode): void {
  for (const t of Array.from(root.querySelectorAll<HTMLTemplateElement>('template[shadowrootmode]'))) {
    const host = t.parentElement;
    if (!host || host.shadowRoot) continue;
    const mode = t.getAttribute('shadowrootmode') === 'closed' ? 'closed' : 'open';
    const shadow = host.attachShadow({ mode });
    shadow.append(t.content.cloneNode(true));
    t.remove();
    attachDeclarativeShadowRoots(shadow);
  }
}

/** A saved page as its own Document (not shown; for readRecord and classify). */
export function savedPage(crm: VendorCrm, file: string): Document {
  const doc = new DOMParser().parseFromString(savedHtml(crm, file), 'text/html');
  attachDeclarativeShadowRoots(doc);
  return doc;
}

/** Puts a saved page's body into the test document (events and composedPath work there). */
export function showSavedPage(crm: VendorCrm, file: string): void {
  const doc = new DOMParser().parseFromString(savedHtml(crm, file), 'text/html');
  document.title = doc.title;
  document.body.innerHTML = doc.body.innerHTML.replace(/(<iframe\b[^>]*?)\ssrc="[^"]*"/g, "$1"); // happy-dom loads no frames
  attachDeclarativeShadowRoots(document);
}

/** The composed path of a click on `target`, as the guard's window listener sees it. */
export function clickPath(target: Element): EventTarget[] {
  let path: EventTarget[] = [];
  const grab = (e: Event) => {
    path = e.composedPath();
    e.preventDefault();
    e.stopImmediatePropagation();
  };
  window.addEventListener('click', grab, { capture: true });
  try {
    target.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, composed: true }));
  } finally {
    window.removeEventListener('click', grab, { capture: true });
  }
  return path;
}

/** Moves the test window to `url` (any origin), as a page load would. */
export function setUrl(url: string): void {
  (window as unknown as { happyDOM: { setURL(u: string): void } }).happyDOM.setURL(url);
}

export const ADA = { name: 'Ada Opted-In', phones: ['+14075550101', '+14075550151'], email: 'ada.optedin@example.com' };
export const BEN = { name: 'Ben No-Approval', phones: ['+14075550102'], email: 'ben.noapproval@example.com' };
