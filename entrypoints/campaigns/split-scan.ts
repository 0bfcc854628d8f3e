// A scrub's scan on both cores: CustomerCache.decideMany scans the lower half of the summary
// buckets in the calling worker while a scan helper (scan-helper.ts) scans the upper half. If
// the helper fails or read another state of the cache, decideMany scans it all itself.
import type { ScanHelper } from '@/entrypoints/background/cache';
import type { RowVerdict } from '@/lib/campaign';
import type { PolicySettings } from '@/lib/schemas';
import { ScanReply, unpackScanPart, type ScanRequest } from './protocol';

export interface ScanHelperWorker {
  scan: ScanHelper<RowVerdict>;
  close(): void;
}

/** A scan helper for scrubs of `cacheName` decided with `policy` at `now`; its worker starts at the first scan (a short list is looked up, not scanned). */
export function startScanHelper(cacheName: string, policy: PolicySettings, now: Date): ScanHelperWorker {
  let started: Worker | null = null;
  const start = () => (started ??= new Worker(new URL('./scan-helper.ts', import.meta.url), { type: 'module' }));
  let busy: Promise<unknown> = Promise.resolve();
  const once = (request: ScanRequest) =>
    new Promise<ScanReply>((resolve, reject) => {
      const worker = start();
      const done = () => {
        worker.removeEventListener('message', onMessage);
        worker.removeEventListener('error', onError);
      };
      const onMessage = (event: MessageEvent) => {
        done();
        const parsed = ScanReply.safeParse(event.data);
        if (parsed.success) resolve(parsed.data);
        else reject(new Error(`the scan helper's answer is malformed: ${parsed.error.issues[0]?.message ?? 'unknown'}`));
      };
      const onError = (event: ErrorEvent) => {
        done();
        reject(new Error(`the scan helper failed: ${event.message}`));
      };
      worker.addEventListener('message', onMessage);
      worker.addEventListener('error', onError);
      worker.postMessage(request);
    });
  return {
    async scan(table, from, to) {
      // One request at a time: each answer is the reply to the request before it.
      const reply = (busy = busy.catch(() => undefined).then(() => once({ type: 'scan', cacheName, policy, now: now.toISOString(), from, to, table })));
      const r = (await reply) as ScanReply;
      if (r.type === 'error') throw new Error(r.message);
      return unpackScanPart(r.part);
    },
    close: () => started?.terminate(),
  };
}
