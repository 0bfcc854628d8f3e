// Background handlers for campaigns and approval-mechanism failures: extension pages ask, the
// background forwards to the backend with the session's token (the backend enforces roles) and
// parses every answer with the contract; the launch gate in a CRM tab asks what the cache knows
// about one campaign. A change made here starts a sync, so this extension's cache (and so the
// launch gate) follows at once.
import type { z } from 'zod';
import { ApiError } from '@/lib/api';
import { ApprovalFailure, ApprovalFailureList, CampaignListResponse, CampaignRecord } from '@/lib/campaign';
import type { CampaignContentMessage, CampaignPageMessage } from '@/lib/messages-campaigns';
import { describeZodError, type Fetch } from './backend';
import type { CustomerCache } from './cache';
import type { Reply } from './router';
import type { Session } from './store';

export interface CampaignDeps {
  fetch: Fetch;
  cache: CustomerCache;
  activeSession: () => Promise<Session | null>;
  /** The backend said 401: the session is over. */
  markExpired: () => Promise<void>;
  /** Start a sync (not awaited by the caller). */
  syncSoon: () => void;
  timeoutMs?: number;
}

export function createCampaignHandlers(deps: CampaignDeps) {
  async function call<S extends z.ZodTypeAny>(method: string, path: string, schema: S, body?: unknown): Promise<Reply<z.infer<S>>> {
    const s = await deps.activeSession();
    if (!s) return { ok: false, error: 'Not signed in.' };
    let res: Response;
    try {
      res = await deps.fetch(s.backendUrl.replace(/\/+$/, '') + path, {
        method,
        headers: {
          authorization: `Bearer ${s.token}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(deps.timeoutMs ?? 30_000),
      });
    } catch (err) {
      return { ok: false, error: `Backend unreachable: ${err instanceof Error ? err.message : String(err)}` };
    }
    let raw: unknown = null;
    try {
      raw = await res.json();
    } catch {
      // handled below
    }
    if (!res.ok) {
      if (res.status === 401) await deps.markExpired();
      const e = ApiError.safeParse(raw);
      return { ok: false, error: e.success ? e.data.message : `The backend answered HTTP ${res.status}.` };
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return { ok: false, error: `The backend's answer does not match the contract: ${describeZodError(parsed.error)}` };
    return { ok: true, data: parsed.data };
  }

  /** A write succeeded: sync now so the cache (and the launch gate) sees it. */
  function synced<T>(r: Reply<T>): Reply<T> {
    if (r.ok) deps.syncSoon();
    return r;
  }

  const enc = encodeURIComponent;

  async function onPage(msg: CampaignPageMessage): Promise<Reply> {
    switch (msg.type) {
      case 'campaigns.list': {
        const q = new URLSearchParams();
        if (msg.q) q.set('q', msg.q);
        if (msg.status) q.set('status', msg.status);
        const r = await call('GET', `/api/campaigns${q.size ? `?${q}` : ''}`, CampaignListResponse);
        if (r.ok) deps.syncSoon(); // what the page shows and what the launch gate decides on agree
        return r;
      }
      case 'campaigns.get':
        return call('GET', `/api/campaigns/${enc(msg.id)}`, CampaignRecord);
      case 'campaigns.create':
        return synced(await call('POST', '/api/campaigns', CampaignRecord, msg.input));
      case 'campaigns.submit':
        return synced(await call('POST', `/api/campaigns/${enc(msg.id)}/submit`, CampaignRecord));
      case 'campaigns.decide':
        return synced(await call('POST', `/api/campaigns/${enc(msg.id)}/decision`, CampaignRecord, { decision: msg.decision, comment: msg.comment }));
      case 'campaigns.recordScrub':
        return synced(await call('POST', `/api/campaigns/${enc(msg.id)}/scrubs`, CampaignRecord, msg.summary));
      case 'approvalFailures.list':
        return call('GET', '/api/approval-failures', ApprovalFailureList);
      case 'approvalFailures.create':
        return call('POST', '/api/approval-failures', ApprovalFailure, msg.input);
      case 'approvalFailures.markSent':
        return call('POST', `/api/approval-failures/${enc(msg.id)}/notice-sent`, ApprovalFailure);
    }
  }

  async function onContent(msg: CampaignContentMessage): Promise<Reply> {
    switch (msg.type) {
      case 'campaign.get': {
        // Signed out: the cache is empty, so the campaign is unknown and the launch fails closed.
        if (!(await deps.activeSession())) return { ok: true, data: { campaign: null } };
        return { ok: true, data: { campaign: await deps.cache.getCampaign(msg.id) } };
      }
    }
  }

  return { onPage, onContent };
}
