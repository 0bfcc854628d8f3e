// Unlisted page for `npm run bench` (bench/run.ts drives it with Playwright). It runs in the
// extension origin, so it opens the same IndexedDB cache the service worker fills, and it can
// message the worker like the options page does. Nothing here is reachable from a CRM page.
import { browser } from 'wxt/browser';
import { openCustomerCache } from '@/entrypoints/background/cache';
import { GuardStore, Kv } from '@/entrypoints/background/store';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { ScrubWorkerReply, type ScrubStart } from '@/entrypoints/campaigns/protocol';
import { BenchScrubReply, benchListRow, type BenchScrubRequest } from './protocol';

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

  /**
   * A whole list scrub as a marketing user runs it: a CSV file of `n` rows (a name, an offer and
   * one identifier per row: CRM id, phone and email in turn, every 20th unknown, as `scrub`)
   * given to the campaigns page's own scrub worker, until its three files are ready. The worker's
   * own duration (reading, matching, deciding, writing) and the wall time from posting the file.
   */
  async scrubFile(n: number, customers: number, emailPrefixes: string[], crm: string) {
    // Joined into pieces: a File of a million one-line parts took seconds to hand to the worker,
    // which a user's file from disk does not.
    const pieces: string[] = [];
    let lines = ['first_name,last_name,crm_id,phone,email,offer\r\n'];
    for (let r = 0; r < n; r++) {
      if (lines.length === 4096) {
        pieces.push(lines.join(''));
        lines = [];
      }
      const { crmId = '', phone = '', email = '' } = benchListRow(r, customers, emailPrefixes);
      lines.push(`Pat${r % 997},Lee${r % 1009},${crmId},${phone},${email},spring-${r % 7}\r\n`);
    }
    pieces.push(lines.join(''));
    const file = new File(pieces, 'list.csv', { type: 'text/csv' });
    const worker = new Worker(new URL('../campaigns/scrub-worker.ts', import.meta.url), { type: 'module' });
    try {
      const t = performance.now();
      const done = await new Promise<Extract<ScrubWorkerReply, { type: 'done' }>>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent) => {
          const reply = ScrubWorkerReply.safeParse(e.data);
          if (!reply.success) reject(new Error('the scrub worker answered something malformed'));
          else if (reply.data.type === 'done') resolve(reply.data);
          else if (reply.data.type === 'error') reject(new Error(reply.data.message));
        };
        worker.onerror = (e) => reject(new Error(`the scrub worker failed: ${e.message}`));
        worker.postMessage({ type: 'start', file, crm, now: new Date().toISOString(), cacheName: 'cpni-cache' } satisfies ScrubStart);
      });
      return { ms: performance.now() - t, workerMs: done.durationMs, bytes: file.size, counts: done.counts, outputBytes: done.allowed.size + done.blocked.size };
    } finally {
      worker.terminate();
    }
  },
};

(globalThis as unknown as { __bench: typeof api }).__bench = api;
document.title = 'CPNI Guard bench (ready)';

