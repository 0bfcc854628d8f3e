// The backend client tells the status whether the backend answered. A request the extension
// stopped itself (a cancelled sync, a snapshot page asked for ahead and no longer wanted) says
// nothing about the backend: it must not make the panel say "backend unreachable".
import { describe, expect, it } from 'vitest';
import { createBackendClient } from '@/entrypoints/background/backend';

const ep = { backendUrl: 'http://backend.test', token: 'token-0123456789abcdef' };

/** A fetch that never answers until aborted, or fails at once like a refused connection. */
const fetchThat = (mode: 'hangs' | 'refused') => (_url: string, init?: RequestInit) =>
  new Promise<Response>((_, reject) => {
    if (mode === 'refused') return reject(new TypeError('Failed to fetch'));
    init?.signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')));
  });

describe('backend reachability', () => {
  it('a request the extension aborted itself leaves reachability as it was', async () => {
    const told: boolean[] = [];
    const client = createBackendClient({ fetch: fetchThat('hangs'), onReachability: (r) => told.push(r) });
    const stop = new AbortController();
    const answer = client.pull(ep, null, 100, stop.signal);
    stop.abort();
    expect(await answer).toMatchObject({ ok: false, kind: 'network' });
    expect(told).toEqual([]);
  });

  it('a connection refused marks the backend unreachable', async () => {
    const told: boolean[] = [];
    const client = createBackendClient({ fetch: fetchThat('refused'), onReachability: (r) => told.push(r) });
    expect(await client.pull(ep, null, 100, new AbortController().signal)).toMatchObject({ ok: false, kind: 'network' });
    expect(told).toEqual([false]);
  });
});
