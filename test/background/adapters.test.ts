// Background handlers for admin-defined adapters: synced documents are checked before use (a
// refused one is skipped and reported), a CRM frame gets only its host's documents, and the
// content script is registered for granted origins outside the manifest.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CONFIGURED_SCRIPT_ID, createAdapterHandlers, type ContentScriptApi, type RegisteredScript } from '@/entrypoints/background/adapters';
import type { CachedAdapter, CustomerCache } from '@/entrypoints/background/cache';
import { CRM_MATCHES } from '@/lib/crm-matches';

const DOC = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'inhouse-crm', 'adapter.json'), 'utf8'));
const OUTSIDE = { ...DOC, id: 'acme-cloud', matches: ['https://desk.acme.example/*'] };
const BAD = { ...DOC, id: 'bad-desk', actions: [{ selector: 'button[', action: 'export.list' }] };
const session = { backendUrl: 'http://backend.test', token: 't'.repeat(20), user: { id: 'u', email: 'a@demo.test', name: 'A', role: 'admin' as const }, expired: false, cacheMode: 'full' as const };

function handlers(docs: CachedAdapter[], opts: { granted?: string[]; signedIn?: boolean; fetch?: any } = {}) {
  const registered: RegisteredScript[] = [];
  const scripts: ContentScriptApi = {
    getRegistered: async (ids) => registered.filter((s) => ids.includes(s.id)),
    register: async (s) => void registered.push(...s),
    update: async (s) => void registered.splice(0, registered.length, ...s),
    unregister: async (ids) => void registered.splice(0, registered.length, ...registered.filter((s) => !ids.includes(s.id))),
    grantedOrigins: async () => opts.granted ?? [],
  };
  const syncSoon = vi.fn();
  const h = createAdapterHandlers({
    cache: { adapters: async () => docs } as unknown as CustomerCache,
    fetch: opts.fetch ?? (async () => new Response('{}')),
    activeSession: async () => (opts.signedIn === false ? null : session),
    markExpired: async () => undefined,
    syncSoon,
    manifestMatches: CRM_MATCHES,
    scripts,
    log: { warn: () => undefined },
  });
  return { h, registered, syncSoon };
}

const cached = (document: any, version = 1): CachedAdapter => ({ id: document.id, version, document });

describe('synced adapter documents in the background', () => {
  it('a refused document is skipped and reported in the sync status; the others stay in force', async () => {
    const { h } = handlers([cached(DOC), cached(BAD)]);
    expect(await h.status()).toEqual({ inForce: 1, refused: [{ id: 'bad-desk', error: expect.stringMatching(/actions\[0\]\.selector/) }] });
    const list = await h.onPage({ type: 'adapters.list' });
    expect(list).toMatchObject({ ok: true, data: { adapters: [{ id: 'acme-desk', error: null, origins: [] }, { id: 'bad-desk', error: expect.any(String) }] } });
  });

  it('a CRM frame gets the valid documents for its host only; nothing when signed out', async () => {
    const { h } = handlers([cached(DOC), cached(BAD), cached(OUTSIDE)]);
    const r = await h.onContent({ type: 'adapters.get' }, { url: 'http://127.0.0.1:4000/inhouse/customer/1' });
    expect(r).toMatchObject({ ok: true, data: { adapters: [{ id: 'acme-desk', version: 1 }] } });
    const signedOut = handlers([cached(DOC)], { signedIn: false });
    expect(await signedOut.h.onContent({ type: 'adapters.get' }, { url: 'http://127.0.0.1/inhouse/customer/1' })).toEqual({ ok: true, data: { adapters: [] } });
  });

  it('registers the content script only for granted origins outside the manifest, and drops it when none are left', async () => {
    const none = handlers([cached(DOC), cached(OUTSIDE)]);
    await none.h.syncScripts();
    expect(none.registered).toEqual([]); // not granted yet
    const list = await none.h.onPage({ type: 'adapters.list' });
    expect(list.ok && (list.data as any).adapters.find((a: any) => a.id === 'acme-cloud').origins).toEqual(['https://desk.acme.example/*']);

    const granted = handlers([cached(DOC), cached(OUTSIDE)], { granted: ['https://desk.acme.example/*'] });
    await granted.h.syncScripts();
    expect(granted.registered).toEqual([
      { id: CONFIGURED_SCRIPT_ID, matches: ['https://desk.acme.example/*'], js: ['content-scripts/crm.js'], allFrames: true, runAt: 'document_idle', persistAcrossSessions: true },
    ]);
  });

  it('a save is checked before it leaves the extension, then sent to the backend and synced', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ id: 'acme-desk', version: 3, updatedAt: 'x', document: DOC }), { status: 200 }));
    const { h, syncSoon } = handlers([], { fetch });
    const bad = await h.onPage({ type: 'adapters.put', id: 'bad-desk', document: BAD });
    expect(bad).toMatchObject({ ok: false, issues: [{ path: 'actions[0].selector' }] });
    expect(fetch).not.toHaveBeenCalled();
    expect(await h.onPage({ type: 'adapters.put', id: 'acme-desk', document: DOC })).toEqual({ ok: true, data: { id: 'acme-desk', version: 3 } });
    expect(fetch).toHaveBeenCalledWith('http://backend.test/api/adapters/acme-desk', expect.objectContaining({ method: 'PUT' }));
    expect(syncSoon).toHaveBeenCalled();
  });

  it('passes the backend\'s refusal on with its issues', async () => {
    const fetch = async () =>
      new Response(JSON.stringify({ error: 'forbidden', message: 'This needs one of the roles admin; you are signed in as rep.' }), { status: 403 });
    const { h } = handlers([], { fetch });
    expect(await h.onPage({ type: 'adapters.put', id: 'acme-desk', document: DOC })).toEqual({ ok: false, error: expect.stringMatching(/roles admin/) });
  });
});
