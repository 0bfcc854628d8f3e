// Unlisted page for `npm run bench` (bench/run.ts drives it with Playwright). It runs in the
// extension origin, so it opens the same IndexedDB cache the service worker fills, and it can
// message the worker like the options page does. Nothing here is reachable from a CRM page.
import { browser } from 'wxt/browser';
import { openCustomerCache } from '@/entrypoints/background/cache';
import { GuardStore, Kv } from '@/entrypoints/background/store';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { BenchScrubReply, type BenchScrubRequest } from './protocol';

type Sample = { crmId: string; phone: string; email: string };

const api = {
  send(message: unknown): Promise<unknown> {
    return browser.runtime.sendMessage(message);
  },

  /** Where the last sync run spent its time (SyncMeta.lastRun), read from the worker's store. */
  async lastRun() {
    const store = new GuardStore('cpni-guard');
    try {
      return (await new Kv(store).syncMeta()).lastRun;
    } finally {
      store.close();
    }
  },

  /** Times findCustomer by CRM ref, phone and email, each on its own fresh cache handle. */
  async lookups(samples: Sample[], crm: string) {
    const out: Record<'crm' | 'phone' | 'email', number[]> = { crm: [], phone: [], email: [] };
    let misses = 0;
    for (const kind of ['crm', 'phone', 'email'] as const) {
      const cache = openCustomerCache();
      try {
        for (const s of samples) {
          const ids: RecordIdentifiers = {
            crm,
            crmId: kind === 'crm' ? s.crmId : null,
            accountNumber: null,
            phones: kind === 'phone' ? [s.phone] : [],
            emails: kind === 'email' ? [s.email] : [],
          };
          const t = performance.now();
          const found = await cache.findCustomer(ids);
          out[kind].push(performance.now() - t);
          if (found?.customer.id !== s.crmId) misses++;
        }
      } finally {
        cache.close();
      }
    }
    return { ...out, misses };
  },

  /**
   * A list scrub of `n` rows in a dedicated worker, as the campaigns page runs it (scrub-worker.ts
   * here says which rows and what it times). On this page's main thread instead, V8 kept the
   * page's heap in its memory-saving mode in some runs (a mark-compact every few hundred ms).
   */
  async scrub(n: number, customers: number, emailPrefixes: string[], crm: string, chunk: number) {
    const worker = new Worker(new URL('./scrub-worker.ts', import.meta.url), { type: 'module' });
    try {
      const answer = await new Promise<unknown>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(`the bench's scrub worker failed: ${e.message}`));
        worker.postMessage({ n, customers, emailPrefixes, crm, chunk } satisfies BenchScrubRequest);
      });
      const reply = BenchScrubReply.parse(answer);
      if (!reply.ok) throw new Error(reply.error);
      return reply;
    } finally {
      worker.terminate();
    }
  },
};

(globalThis as unknown as { __bench: typeof api }).__bench = api;
document.title = 'CPNI Guard bench (ready)';

