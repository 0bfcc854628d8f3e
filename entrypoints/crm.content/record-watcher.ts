// Re-reads the page on start, on every in-app navigation (pushState, replaceState, popstate,
// hash: the Navigation API where there is one, plus WXT's location events) and when the CRM
// replaces its DOM: in the document, inside shadow roots (a MutationObserver on the document
// does not see into them) and when a frame loads (a same-origin form frame the adapter reads
// through). A read is cheap and coalesced to one per microtask.
import { pickAdapter, type CrmAdapter } from '@/lib/adapter';
import { shadowRoots } from './adapters/common';
import type { RecordIdentifiers } from '@/lib/snapshot';

export interface PageRead {
  url: URL;
  adapter: CrmAdapter | null;
  identifiers: RecordIdentifiers | null;
}

export interface RecordWatcherOptions {
  adapters: readonly CrmAdapter[];
  doc: Document;
  signal: AbortSignal;
  onRead: (read: PageRead) => void;
  /** Extra navigation signal (WXT's 'wxt:locationchange'); called once with the handler. */
  subscribeLocation?: (handler: () => void) => void;
}

export function readPage(adapters: readonly CrmAdapter[], doc: Document): PageRead {
  const url = new URL(doc.location?.href ?? 'about:blank');
  const adapter = pickAdapter(adapters, url);
  let identifiers: RecordIdentifiers | null = null;
  if (adapter) {
    try {
      identifiers = adapter.readRecord(doc, url);
    } catch (err) {
      console.warn('CPNI Guard: adapter %s could not read the page:', adapter.id, err);
    }
  }
  return { url, adapter, identifiers };
}

export function watchRecord({ adapters, doc, signal, onRead, subscribeLocation }: RecordWatcherOptions): { check(): void } {
  let scheduled = false;
  const observer = new MutationObserver(() => schedule());
  const observedRoots = new WeakSet<ShadowRoot>();
  /** Watches shadow roots the CRM added since the last read (only on pages an adapter knows). */
  const observeShadowRoots = () => {
    for (const root of shadowRoots(doc)) {
      if (observedRoots.has(root)) continue;
      observedRoots.add(root);
      observer.observe(root, { childList: true, subtree: true });
    }
  };
  const check = () => {
    scheduled = false;
    if (signal.aborted) return;
    const read = readPage(adapters, doc);
    if (read.adapter) observeShadowRoots();
    onRead(read);
  };
  const schedule = () => {
    if (scheduled || signal.aborted) return;
    scheduled = true;
    queueMicrotask(check);
  };
  const win = doc.defaultView!;
  win.addEventListener('popstate', schedule, { signal });
  win.addEventListener('hashchange', schedule, { signal });
  // pushState/replaceState fire no event of their own; the Navigation API reports every change
  // of the current entry (Chromium), after the URL has changed.
  const navigation = (win as Window & { navigation?: EventTarget }).navigation;
  navigation?.addEventListener?.('currententrychange', schedule, { signal });
  // A frame finished loading (load does not bubble: listen in the capture phase).
  doc.addEventListener('load', (e) => { if ((e.target as Element | null)?.tagName === 'IFRAME') schedule(); }, { capture: true, signal });
  subscribeLocation?.(schedule);
  // The document itself, so a replaced <html> or <body> is seen too.
  observer.observe(doc, { childList: true, subtree: true });
  signal.addEventListener('abort', () => observer.disconnect(), { once: true });
  check();
  return { check: schedule };
}
