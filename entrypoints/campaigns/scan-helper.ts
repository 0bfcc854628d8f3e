// The scan helper: a second Web Worker for a big scrub. CustomerCache.decideMany scans every
// summary bucket of the cache for a million-row list, which kept one core busy while the other
// idled; this worker scans part of the buckets on its own cache handle (scanPart) and posts its
// claims back (split-scan.ts). It decides rows with createScrubDecider, as the scrub worker
// does, from the policy and the time it is sent. An 'open' request, sent as a big scrub starts,
// has it read the cache's layout and recent changes while the scrub worker reads the file.
import { openCustomerCache, type CustomerCache } from '@/entrypoints/background/cache';
import { createScrubDecider } from '@/lib/campaign';
import { ScanRequest, packScanPart, type ScanReply } from './protocol';
import { errorMessage } from '@/lib/errors';

const post = (m: ScanReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
// `opening`: the handle's first read, when an 'open' asked for it; a scan waits for it rather
// than reading the cache's recent changes a second time alongside.
let cache: { name: string; handle: CustomerCache; opening: Promise<void> } | null = null;

self.addEventListener('message', (event: MessageEvent) => {
  const parsed = ScanRequest.safeParse(event.data);
  if (!parsed.success) {
    const id = (event.data as { id?: unknown } | null)?.id;
    post({ type: 'error', id: typeof id === 'number' ? id : null, message: 'The scan helper got an invalid request.' });
    return;
  }
  if (parsed.data.type === 'open') open(parsed.data.cacheName);
  else void scan(parsed.data);
});

function handleOf(cacheName: string): NonNullable<typeof cache> {
  if (cache?.name !== cacheName) {
    cache?.handle.close();
    cache = { name: cacheName, handle: openCustomerCache(cacheName), opening: Promise.resolve() };
  }
  return cache;
}

function open(cacheName: string) {
  const c = handleOf(cacheName);
  // Nothing asked for an answer: a cache that cannot be read fails the scan, which says so.
  c.opening = c.handle.warm().catch(() => undefined);
}

async function scan(req: Extract<ScanRequest, { type: 'scan' }>) {
  try {
    const decide = createScrubDecider(req.policy, new Date(req.now));
    const c = handleOf(req.cacheName);
    await c.opening;
    const part = packScanPart(await c.handle.scanPart(req.table, req.from, req.to, decide));
    post({ type: 'done', id: req.id, part }, [part.keys.buffer, part.verdicts.buffer, part.ruleSets.buffer]);
  } catch (err) {
    post({ type: 'error', id: req.id, message: errorMessage(err) });
  }
}
