// Re-reads the page on start, on every in-app navigation and when the CRM replaces its DOM,
// and hands the result on. A read is cheap (a regex and a few querySelector calls) and
// coalesced to one per microtask.
import { pickAdapter, type CrmAdapter } from '@/lib/adapter';
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
  const check = () => {
    scheduled = false;
    if (signal.aborted) return;
    onRead(readPage(adapters, doc));
  };
  const schedule = () => {
    if (scheduled || signal.aborted) return;
    scheduled = true;
    queueMicrotask(check);
  };
  const win = doc.defaultView!;
  win.addEventListener('popstate', schedule, { signal });
  win.addEventListener('hashchange', schedule, { signal });
  subscribeLocation?.(schedule);
  const observer = new MutationObserver(schedule);
  observer.observe(doc.documentElement, { childList: true, subtree: true });
  signal.addEventListener('abort', () => observer.disconnect(), { once: true });
  check();
  return { check: schedule };
}
