// The scrub's Web Worker: runs runScrub off the campaigns page's main thread, reading the
// customer cache (the extension's IndexedDB, same origin) through its CustomerCache interface.
// The page cancels by terminating the worker.
import { openCustomerCache } from '@/entrypoints/background/cache';
import { DEFAULT_POLICY } from '@/lib/schemas';
import { ScrubStart, type ScrubWorkerReply } from './protocol';
import { runScrub } from './scrub';
import { startScanHelper, type ScanHelperWorker } from './split-scan';
import { errorMessage } from '@/lib/errors';

// ~20,000 rows of a typical list: more keys than half a million-customer cache's buckets.
const WARM_HELPER_BYTES = 1 << 20;

const post = (m: ScrubWorkerReply) => (self as unknown as Worker).postMessage(m);

self.addEventListener('message', (event: MessageEvent) => {
  const parsed = ScrubStart.safeParse(event.data);
  if (!parsed.success) {
    post({ type: 'error', message: 'The scrub worker got an invalid start message.' });
    return;
  }
  void start(parsed.data);
});

async function start(msg: ScrubStart) {
  const cache = openCustomerCache(msg.cacheName);
  const started = performance.now();
  let helper: ScanHelperWorker | null = null;
  try {
    const policy = (await cache.getPolicy()) ?? DEFAULT_POLICY;
    const now = new Date(msg.now);
    // A big list is scanned on both cores: this worker takes 56% of the buckets, a scan helper the
    // rest, started while the file is read when the file is big enough to be scanned.
    helper = startScanHelper(msg.cacheName, policy, now);
    if (msg.file.size >= WARM_HELPER_BYTES) helper.warm();
    const scanHelper = helper.scan;
    let lastPost = 0;
    const out = await runScrub({
      chunks: msg.file.stream() as unknown as AsyncIterable<Uint8Array>,
      totalBytes: msg.file.size,
      crm: msg.crm,
      policy,
      now,
      decideMany: (ids, decide) => cache.decideMany(ids, decide, { helper: scanHelper }),
      onProgress: (p) => {
        const t = performance.now();
        if (t - lastPost < 100 && p.bytes < p.totalBytes) return;
        lastPost = t;
        post({ type: 'progress', ...p });
      },
    });
    const blob = (chunks: Uint8Array<ArrayBuffer>[]) => new Blob(chunks, { type: 'text/csv;charset=utf-8' });
    const files = { allowed: blob(out.allowedCsv), blocked: blob(out.blockedCsv), problemsCsv: blob(out.problemsCsv) };
    post({
      type: 'done',
      counts: out.counts,
      columns: out.columns,
      problems: out.problems,
      durationMs: Math.round(performance.now() - started), // the files made too
      ...files,
    });
  } catch (err) {
    post({ type: 'error', message: errorMessage(err) });
  } finally {
    helper?.close();
    cache.close();
  }
}
