// Unlisted page for `npm run bench` (bench/run.ts drives it with Playwright). It runs in the
// extension origin, so it opens the same IndexedDB cache the service worker fills, and it can
// message the worker like the options page does. Nothing here is reachable from a CRM page.
import { browser } from 'wxt/browser';
import { openCustomerCache } from '@/entrypoints/background/cache';
import { GuardStore, Kv } from '@/entrypoints/background/store';
import { startScanHelper, type ScanHelperWorker } from '@/entrypoints/campaigns/split-scan';
import { createScrubDecider } from '@/lib/campaign';
import { DEFAULT_POLICY } from '@/lib/schemas';
import type { RecordIdentifiers } from '@/lib/snapshot';

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
   * A list scrub of `n` rows: bulk customers by CRM id, phone and email in turn (every 20th row
   * unknown), matched and decided in chunks of `chunk` rows with CustomerCache.decideMany and
   * createScrubDecider (decide('marketing.other_category') for the marketing role), as the
   * campaigns page's worker does. Times matching plus deciding; the list is built beforehand.
   */
  async scrub(n: number, customers: number, emailPrefixes: string[], crm: string, chunk: number) {
    const rows: RecordIdentifiers[] = [];
    for (let r = 0; r < n; r++) {
      const k = (r * 7919) % customers;
      const none = { crm, crmId: null, accountNumber: null, phones: [] as string[], emails: [] as string[] };
      if (r % 20 === 19) rows.push({ ...none, crmId: `X-${r}` });
      else if (r % 3 === 0) rows.push({ ...none, crmId: `B-${String(k).padStart(7, '0')}` });
      else if (r % 3 === 1) rows.push({ ...none, phones: [`+1${2000000000 + 2 * k}`] });
      else rows.push({ ...none, emails: [`${emailPrefixes[k % emailPrefixes.length]}.${k}@example.com`] });
    }
    const cache = openCustomerCache();
    let helper: ScanHelperWorker | null = null;
    try {
      const policy = (await cache.getPolicy()) ?? DEFAULT_POLICY;
      const now = new Date();
      const decideRow = createScrubDecider(policy, now);
      // As the scrub worker does: a second worker scans part of the buckets (split-scan.ts).
      helper = startScanHelper('cpni-cache', policy, now);
      const scanHelper = helper.scan;
      const counts = { allowed: 0, blocked: 0, unknown: 0 };
      const t = performance.now();
      let findMs = 0;
      for (let i = 0; i < rows.length; i += chunk) {
        const t0 = performance.now();
        const verdicts = await cache.decideMany(rows.slice(i, i + chunk), decideRow, { helper: scanHelper });
        findMs += performance.now() - t0;
        for (const v of verdicts) counts[v.verdict]++;
      }
      return { ms: performance.now() - t, findMs, counts };
    } finally {
      helper?.close();
      cache.close();
    }
  },
};

(globalThis as unknown as { __bench: typeof api }).__bench = api;
document.title = 'CPNI Guard bench (ready)';

