// Background handlers for campaigns and approval-mechanism failures: extension pages ask, the
// background forwards to the backend with the session's token (the backend enforces roles) and
// parses every answer with the contract; the launch gate in a CRM tab asks what the cache knows
// about one campaign. A change made here starts a sync, so this extension's cache (and so the
// launch gate) follows at once.
import { ApprovalFailure, ApprovalFailureList, CampaignListResponse, CampaignRecord } from '@/lib/campaign';
import type { CampaignContentMessage, CampaignPageMessage } from '@/lib/messages-campaigns';
import { createSessionCall, toReply, type Fetch, type SessionCallResult } from './backend';
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
  const call = createSessionCall(deps);

  /** A write succeeded: sync now so the cache (and the launch gate) sees it. */
  function synced<T>(r: SessionCallResult<T>): Reply<T> {
    if (r.ok) deps.syncSoon();
    return toReply(r);
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
        return toReply(r);
      }
      case 'campaigns.get':
        return toReply(await call('GET', `/api/campaigns/${enc(msg.id)}`, CampaignRecord));
      case 'campaigns.create':
        return synced(await call('POST', '/api/campaigns', CampaignRecord, msg.input));
      case 'campaigns.submit':
        return synced(await call('POST', `/api/campaigns/${enc(msg.id)}/submit`, CampaignRecord));
      case 'campaigns.decide':
        return synced(await call('POST', `/api/campaigns/${enc(msg.id)}/decision`, CampaignRecord, { decision: msg.decision, comment: msg.comment }));
      case 'campaigns.recordScrub':
        return synced(await call('POST', `/api/campaigns/${enc(msg.id)}/scrubs`, CampaignRecord, msg.summary));
      case 'approvalFailures.list':
        return toReply(await call('GET', '/api/approval-failures', ApprovalFailureList));
      case 'approvalFailures.create':
        return toReply(await call('POST', '/api/approval-failures', ApprovalFailure, msg.input));
      case 'approvalFailures.markSent':
        return toReply(await call('POST', `/api/approval-failures/${enc(msg.id)}/notice-sent`, ApprovalFailure));
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
