// Messages for marketing campaigns and approval-mechanism failures, joined into the
// PageMessage and ContentMessage unions of lib/messages.ts. Parsed like every other message
// (DESIGN invariant 5); the background forwards page requests to the backend, which enforces
// the roles.
import { z } from 'zod';
import {
  ApprovalFailure,
  ApprovalFailureCreate,
  CampaignCreate,
  CampaignDecisionRequest,
  CampaignRecord,
  ScrubSummary,
} from './campaign';
import { Campaign, CampaignStatus } from './schemas';

const Id = z.string().min(1).max(64);

// --- from extension pages (the campaigns page, the manager view) ---
export const CAMPAIGN_PAGE_MESSAGES = [
  z.object({
    type: z.literal('campaigns.list'),
    q: z.string().max(200).optional(),
    status: CampaignStatus.optional(),
  }),
  z.object({ type: z.literal('campaigns.get'), id: Id }),
  z.object({ type: z.literal('campaigns.create'), input: CampaignCreate }),
  z.object({ type: z.literal('campaigns.submit'), id: Id }),
  z.object({ type: z.literal('campaigns.decide'), id: Id, decision: CampaignDecisionRequest.shape.decision, comment: z.string().max(2000) }),
  z.object({ type: z.literal('campaigns.recordScrub'), id: Id, summary: ScrubSummary }),
  z.object({ type: z.literal('approvalFailures.list') }),
  z.object({ type: z.literal('approvalFailures.create'), input: ApprovalFailureCreate }),
  z.object({ type: z.literal('approvalFailures.markSent'), id: Id }),
] as const;
export const CampaignPageMessage = z.discriminatedUnion('type', CAMPAIGN_PAGE_MESSAGES);
export type CampaignPageMessage = z.infer<typeof CampaignPageMessage>;

// --- from a content script: the launch gate asks what the cache knows about a campaign ---
export const CampaignGet = z.object({ type: z.literal('campaign.get'), id: Id });
export const CAMPAIGN_CONTENT_MESSAGES = [CampaignGet] as const;
export type CampaignContentMessage = z.infer<typeof CampaignGet>;

// --- replies ---
const Reply = <T extends z.ZodTypeAny>(data: T) =>
  z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), data }), z.object({ ok: z.literal(false), error: z.string() })]);
export const CampaignReply = Reply(CampaignRecord);
export const CampaignListReply = Reply(z.object({ campaigns: z.array(CampaignRecord) }));
export const ApprovalFailureReply = Reply(ApprovalFailure);
export const ApprovalFailureListReply = Reply(z.object({ failures: z.array(ApprovalFailure) }));
/** The cached campaign (the synced shape), or null when this extension does not know it. */
export const CampaignGetReply = Reply(z.object({ campaign: Campaign.nullable() }));
