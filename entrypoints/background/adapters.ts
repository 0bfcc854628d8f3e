// Background handlers for admin-defined CRM adapters. Synced documents come from the cache;
// each is validated before it is used (a refused one is skipped, reported in the sync status
// and in the options page, and the others keep working). A CRM tab asks for the documents of
// its host; the options page lists, saves and deletes them through the backend (which enforces
// the admin role); and for origins outside the manifest that the user has granted, the content
// script is registered with `scripting.registerContentScripts` (again on every worker start).
import { z } from 'zod';
import {
  formatAdapterIssue,
  originsNeeded,
  patternCoveredBy,
  patternsOf,
  validateAdapterConfig,
  type AdapterConfig,
} from '@/lib/adapter-config';
import { AdapterSaveData, type AdapterContentMessage, type AdapterListEntry, type AdapterPageMessage, type AdapterSyncStatus } from '@/lib/messages-adapters';
import { createSessionCall, toReply, type Fetch } from './backend';
import type { CachedAdapter, CustomerCache } from './cache';
import type { Reply } from './router';
import type { Session } from './store';

/** The part of `browser.scripting` and `browser.permissions` this file uses (fakes in tests). */
export interface ContentScriptApi {
  getRegistered(ids: string[]): Promise<{ id: string; matches?: string[] }[]>;
  register(scripts: RegisteredScript[]): Promise<void>;
  update(scripts: RegisteredScript[]): Promise<void>;
  unregister(ids: string[]): Promise<void>;
  /** Origins the user (or enterprise policy) has granted beyond the manifest. */
  grantedOrigins(): Promise<string[]>;
}

export interface RegisteredScript {
  id: string;
  matches: string[];
  js: string[];
  allFrames: boolean;
  runAt: 'document_idle';
  persistAcrossSessions: boolean;
}

export const CONFIGURED_SCRIPT_ID = 'cpni-configured-adapters';
export const CONTENT_SCRIPT_FILE = 'content-scripts/crm.js';

export interface AdapterDeps {
  cache: CustomerCache;
  fetch: Fetch;
  activeSession: () => Promise<Session | null>;
  markExpired: () => Promise<void>;
  syncSoon: () => void;
  /** The manifest's host permissions (lib/crm-matches.ts). */
  manifestMatches: readonly string[];
  /** Null where the browser cannot register content scripts (tests, Firefox without it). */
  scripts: ContentScriptApi | null;
  log?: Pick<Console, 'warn'>;
  timeoutMs?: number;
}

type Checked = { cached: CachedAdapter; config: AdapterConfig | null; error: string | null };

export function createAdapterHandlers(deps: AdapterDeps) {
  const log = deps.log ?? console;

  /** Every cached document, validated (memoized per id and version: validation is not free). */
  const memo = new Map<string, Checked>();
  async function checked(): Promise<Checked[]> {
    const all = await deps.cache.adapters();
    const out: Checked[] = [];
    for (const cached of all) {
      const key = `${cached.id}@${cached.version}`;
      let c = memo.get(key);
      if (!c) {
        const r = validateAdapterConfig(cached.document);
        c = r.ok
          ? r.config.id === cached.id
            ? { cached, config: r.config, error: null }
            : { cached, config: null, error: `the document's id "${r.config.id}" is not "${cached.id}"` }
          : { cached, config: null, error: r.issues.slice(0, 3).map(formatAdapterIssue).join('; ') };
        memo.set(key, c);
        if (c.error) log.warn('CPNI Guard: synced adapter %s refused: %s', cached.id, c.error);
      }
      out.push(c);
    }
    return out.sort((a, b) => a.cached.id.localeCompare(b.cached.id));
  }

  async function status(): Promise<AdapterSyncStatus> {
    const all = await checked();
    return {
      inForce: all.filter((c) => c.config).length,
      refused: all.filter((c) => c.error).slice(0, 50).map((c) => ({ id: c.cached.id, error: c.error! })),
    };
  }

  /** Registers the content script for the granted origins adapters need beyond the manifest. */
  async function syncScripts(): Promise<void> {
    const api = deps.scripts;
    if (!api) return;
    const granted = await api.grantedOrigins();
    const matches = new Set<string>();
    for (const c of await checked()) {
      if (!c.config) continue;
      for (const p of patternsOf(c.config)) {
        const pattern = `${p.scheme}://${p.host}${p.path}`;
        if (!patternCoveredBy(p, deps.manifestMatches) && patternCoveredBy(p, granted)) matches.add(pattern);
      }
    }
    const wanted = [...matches].sort();
    const [current] = await api.getRegistered([CONFIGURED_SCRIPT_ID]);
    if (!wanted.length) {
      if (current) await api.unregister([CONFIGURED_SCRIPT_ID]);
      return;
    }
    const script: RegisteredScript = {
      id: CONFIGURED_SCRIPT_ID,
      matches: wanted,
      js: [CONTENT_SCRIPT_FILE],
      allFrames: true,
      runAt: 'document_idle',
      persistAcrossSessions: true,
    };
    if (!current) await api.register([script]);
    else if ([...(current.matches ?? [])].sort().join('\n') !== wanted.join('\n')) await api.update([script]);
  }

  async function safeSyncScripts(): Promise<void> {
    try {
      await syncScripts();
    } catch (err) {
      log.warn('CPNI Guard: could not register the content script for admin-defined adapters:', err);
    }
  }

  // ---- talking to the backend ----
  const call = createSessionCall(deps);

  async function onPage(msg: AdapterPageMessage): Promise<Reply> {
    switch (msg.type) {
      case 'adapters.list': {
        const adapters: AdapterListEntry[] = (await checked()).map((c) => ({
          id: c.cached.id,
          version: c.cached.version,
          name: c.config?.name ?? null,
          matches: c.config?.matches ?? [],
          origins: c.config ? originsNeeded(c.config, deps.manifestMatches) : [],
          error: c.error,
        }));
        return { ok: true, data: { adapters } };
      }
      case 'adapters.put': {
        // Checked here first, so a bad document never leaves the extension; the backend checks again.
        const v = validateAdapterConfig(msg.document);
        if (!v.ok) return { ok: false, error: 'The adapter document was refused; nothing changed.', issues: v.issues } as Reply;
        if (v.config.id !== msg.id) return { ok: false, error: `The document's id "${v.config.id}" is not "${msg.id}".` };
        const r = await call('PUT', `/api/adapters/${encodeURIComponent(msg.id)}`, AdapterSaveData, msg.document);
        if (!r.ok) return toReply(r) as Reply;
        deps.syncSoon();
        return { ok: true, data: r.data };
      }
      case 'adapters.delete': {
        const r = await call('DELETE', `/api/adapters/${encodeURIComponent(msg.id)}`, z.unknown());
        if (!r.ok) return toReply(r) as Reply;
        deps.syncSoon();
        return { ok: true, data: null };
      }
      case 'adapters.permissionsChanged':
        await safeSyncScripts();
        return { ok: true, data: null };
    }
  }

  async function onContent(_msg: AdapterContentMessage, from: { url: string }): Promise<Reply> {
    // Signed out: the cache is empty, so there are none (the built-in adapters still run).
    if (!(await deps.activeSession())) return { ok: true, data: { adapters: [] } };
    let url: URL;
    try {
      url = new URL(from.url);
    } catch {
      return { ok: true, data: { adapters: [] } };
    }
    // Only the documents for this frame's host (its SPA navigations stay on the same host).
    const host = new URL(`${url.protocol}//${url.hostname}/`);
    const adapters = (await checked())
      .filter((c) => c.config && patternsOf(c.config).some((p) => hostMatches(p.scheme, p.host, host)))
      .map((c) => ({ id: c.cached.id, version: c.cached.version, document: c.config }));
    return { ok: true, data: { adapters } };
  }

  return { onPage, onContent, status, syncScripts: safeSyncScripts };
}

function hostMatches(scheme: string, host: string, url: URL): boolean {
  const s = url.protocol.slice(0, -1);
  if (scheme === '*' ? s !== 'http' && s !== 'https' : s !== scheme) return false;
  const h = url.hostname.toLowerCase();
  return host.startsWith('*.') ? h === host.slice(2) || h.endsWith(host.slice(1)) : h === host;
}

export type AdapterHandlers = ReturnType<typeof createAdapterHandlers>;

/** The real browser's APIs, for index.ts. */
export function browserContentScripts(b: {
  scripting?: {
    getRegisteredContentScripts(filter?: { ids?: string[] }): Promise<{ id: string; matches?: string[] }[]>;
    registerContentScripts(scripts: RegisteredScript[]): Promise<void>;
    updateContentScripts(scripts: RegisteredScript[]): Promise<void>;
    unregisterContentScripts(filter?: { ids?: string[] }): Promise<void>;
  };
  permissions: { getAll(): Promise<{ origins?: string[] }> };
}): ContentScriptApi | null {
  const s = b.scripting;
  if (!s) return null;
  return {
    getRegistered: (ids) => s.getRegisteredContentScripts({ ids }),
    register: (scripts) => s.registerContentScripts(scripts),
    update: (scripts) => s.updateContentScripts(scripts),
    unregister: (ids) => s.unregisterContentScripts({ ids }),
    grantedOrigins: async () => (await b.permissions.getAll()).origins ?? [],
  };
}
