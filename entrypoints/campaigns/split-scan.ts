// A scrub's scan on both cores: CustomerCache.decideMany scans most of the summary buckets in
// the calling worker while a scan helper (scan-helper.ts) scans the rest. If the helper fails,
// answers wrongly or read another state of the cache, decideMany scans it all itself.
import type { ScanHelper } from '@/entrypoints/background/cache';
import type { RowVerdict } from '@/lib/campaign';
import type { PolicySettings } from '@/lib/schemas';
import { ScanReply, unpackScanPart, type ScanRequest } from './protocol';

export interface ScanHelperWorker {
  scan: ScanHelper<RowVerdict>;
  /**
   * Starts the worker now and has it read the cache's layout and recent changes, for a list big
   * enough to be scanned: cold, it began scanning ~0.7 s after being asked (its start, its code,
   * the cache's recent changes), while the scrub worker was already scanning its part.
   */
  warm(): void;
  close(): void;
}

// Longer than any scan of a million customers here (~15 s): a helper silent this long is stuck.
const SCAN_TIMEOUT_MS = 5 * 60_000;

/**
 * A scan helper for scrubs of `cacheName` decided with `policy` at `now`. Its worker starts at
 * `warm` or the first scan (a short list is looked up, not scanned), and a worker that failed is
 * replaced at the next one.
 */
export function startScanHelper(cacheName: string, policy: PolicySettings, now: Date): ScanHelperWorker {
  let worker: Worker | null = null;
  let nextId = 0;
  const drop = () => {
    worker?.terminate();
    worker = null;
  };
  const started = () => (worker ??= new Worker(new URL('./scan-helper.ts', import.meta.url), { type: 'module' }));
  return {
    warm() {
      if (!worker) started().postMessage({ type: 'open', cacheName } satisfies ScanRequest);
    },
    scan(table, from, to) {
      const w = started();
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => fail('it did not answer in time'), SCAN_TIMEOUT_MS);
        const stop = () => {
          clearTimeout(timer);
          w.removeEventListener('message', onMessage);
          w.removeEventListener('error', onError);
          w.removeEventListener('messageerror', onError);
        };
        function fail(why: string) {
          stop();
          if (worker === w) drop(); // its state is unknown: the next scan starts a new one
          reject(new Error(`the scan helper failed: ${why}`));
        }
        function onMessage(event: MessageEvent) {
          const parsed = ScanReply.safeParse(event.data);
          if (!parsed.success) return fail(`its answer is malformed (${parsed.error.issues[0]?.message ?? 'unknown'})`);
          const r = parsed.data;
          if (r.type === 'error' && r.id === null) return fail(r.message); // it could not read the request
          if (r.id !== id) return; // an answer to an earlier request this side gave up on
          stop();
          if (r.type === 'error') return reject(new Error(`the scan helper failed: ${r.message}`));
          try {
            resolve(unpackScanPart(r.part));
          } catch (err) {
            reject(err);
          }
        }
        const onError = (event: Event) => fail(event instanceof ErrorEvent ? event.message : 'its message could not be read');
        w.addEventListener('message', onMessage);
        w.addEventListener('error', onError);
        w.addEventListener('messageerror', onError);
        w.postMessage({ type: 'scan', id, cacheName, policy, now: now.toISOString(), from, to, table });
      });
    },
    close: drop,
  };
}
