// The bench's list scrub, in a dedicated worker as the product's scrub runs
// (entrypoints/campaigns/scrub-worker.ts): CustomerCache.decideMany with a scan helper, off the
// page's main thread. bench.html posts the list's shape, this answers the timing.
import { openCustomerCache } from '@/entrypoints/background/cache';
import { startScanHelper, type ScanHelperWorker } from '@/entrypoints/campaigns/split-scan';
import { createScrubDecider } from '@/lib/campaign';
import { errorMessage } from '@/lib/errors';
import { DEFAULT_POLICY } from '@/lib/schemas';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { BenchScrubRequest, benchListRow, type BenchScrubReply } from './protocol';

const post = (m: BenchScrubReply) => (self as unknown as Worker).postMessage(m);

self.addEventListener('message', (event: MessageEvent) => {
  const request = BenchScrubRequest.safeParse(event.data);
  if (!request.success) {
    post({ ok: false, error: `the bench's scrub worker got an invalid request (${request.error.issues[0]?.message ?? 'unknown'})` });
    return;
  }
  scrub(request.data).then(post, (err: unknown) => post({ ok: false, error: errorMessage(err) }));
});

/**
 * A list scrub of `n` rows: bulk customers by CRM id, phone and email in turn (every 20th row
 * unknown), matched and decided in chunks of `chunk` rows with CustomerCache.decideMany and
 * createScrubDecider, as the campaigns worker does. Times matching plus deciding; the list is
 * built beforehand.
 */
async function scrub({ n, customers, emailPrefixes, crm, chunk }: BenchScrubRequest): Promise<BenchScrubReply> {
  const rows: RecordIdentifiers[] = [];
  for (let r = 0; r < n; r++) {
    const { crmId, phone, email } = benchListRow(r, customers, emailPrefixes);
    rows.push({ crm, crmId: crmId ?? null, accountNumber: null, phones: phone ? [phone] : [], emails: email ? [email] : [] });
  }
  const cache = openCustomerCache();
  let helper: ScanHelperWorker | null = null;
  try {
    const policy = (await cache.getPolicy()) ?? DEFAULT_POLICY;
    const now = new Date();
    const decideRow = createScrubDecider(policy, now);
    helper = startScanHelper('cpni-cache', policy, now);
    // As the campaigns page's scrub worker does for a big file, though here the list is already
    // made: the helper opens the cache while decideMany builds the key table.
    helper.warm();
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
    return { ok: true, ms: performance.now() - t, findMs, counts };
  } finally {
    helper?.close();
    cache.close();
  }
}
