// Campaign records (policy §7), General Counsel approval (policy §9), list-scrub results and
// approval-mechanism failures (policy §12). Who may do what in which state is decided by
// lib/campaign.ts; this file checks roles, stores, and writes every change as an audit event
// with a server-made UUIDv7 whose actor is the signed-in user.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { uuidv7 } from 'uuidv7';
import { optInFailureNoticeDue } from '../../lib/business-days';
import {
  ApprovalFailure,
  ApprovalFailureCreate,
  ApprovalFailureList,
  CAMPAIGN_CREATE_ROLES,
  CAMPAIGN_DECIDE_ROLES,
  CAMPAIGN_DELETE_ROLES,
  CAMPAIGN_READ_ROLES,
  CAMPAIGN_SCRUB_ROLES,
  CAMPAIGN_SUBMIT_ROLES,
  CampaignCreate,
  CampaignDecisionRequest,
  CampaignListQuery,
  CampaignListResponse,
  CampaignRecord,
  FAILURE_READ_ROLES,
  FAILURE_WRITE_ROLES,
  ScrubSummary,
  newCampaign,
  recordScrub,
  transitionCampaign,
  type Actor,
} from '../../lib/campaign';
import type { AuditEvent, AuditKind, RuleId, User } from '../../lib/schemas';
import { IdParam, apiError, bearerSecurity, errorResponses, json, serverAuditEvent, type Env, type RouteDeps } from './common';

export type CampaignRouteDeps = RouteDeps;

const E = errorResponses({ 403: "The signed-in user's role may not do this, or it is their own campaign." });
const security = bearerSecurity;
const err = (error: string, message: string) => apiError(error, message);
const STATUS = { forbidden: 403, conflict: 409, invalid: 400, not_found: 404 } as const;

function auditEvent(
  user: User,
  now: Date,
  kind: AuditKind,
  ruleIds: RuleId[],
  reasons: string[],
  details: AuditEvent['details'],
): AuditEvent {
  const action = kind === 'campaign.state_changed' ? 'marketing.launch_campaign' : null;
  return serverAuditEvent(user, now, { kind, action, customerId: null, ruleIds, reasons, details });
}

export function registerCampaignRoutes(app: OpenAPIHono<Env>, { db, now, requireRole }: CampaignRouteDeps): void {
  const actorOf = (u: User): Actor => ({ email: u.email, role: u.role });

  // ---- campaigns ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/campaigns',
      tags: ['campaigns'],
      summary: 'Register a campaign (marketing): description, CPNI used, products offered',
      security,
      middleware: [requireRole(...CAMPAIGN_CREATE_ROLES)] as const,
      request: { body: { required: true, content: { 'application/json': { schema: CampaignCreate } } } },
      responses: { 201: json('Registered as a draft.', CampaignRecord), 400: E[400], 401: E[401], 403: E[403] },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const user = c.get('user');
      const at = now();
      if (input.endsAt && input.endsAt < input.startsAt) {
        return c.json(err('invalid_body', 'The end date is before the start date.'), 400);
      }
      const campaign = newCampaign(uuidv7(), input, user.email, at);
      const saved = await db.createCampaign(
        campaign,
        auditEvent(user, at, 'campaign.state_changed', ['CAMPAIGN_RECORD'], [`Campaign “${campaign.name}” registered`], {
          campaignId: campaign.id,
          campaignName: campaign.name,
          from: null,
          to: 'draft',
        }),
      );
      return c.json(saved, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/campaigns',
      tags: ['campaigns'],
      summary: 'List and search campaigns (marketing, counsel, manager, admin), newest change first',
      security,
      middleware: [requireRole(...CAMPAIGN_READ_ROLES)] as const,
      request: { query: CampaignListQuery },
      responses: { 200: json('Campaigns.', CampaignListResponse), 400: E[400], 401: E[401], 403: E[403] },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json({ campaigns: await db.listCampaigns(q) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/campaigns/{id}',
      tags: ['campaigns'],
      summary: 'One campaign',
      security,
      middleware: [requireRole(...CAMPAIGN_READ_ROLES)] as const,
      request: { params: IdParam },
      responses: { 200: json('The campaign.', CampaignRecord), 401: E[401], 403: E[403], 404: E[404] },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const found = await db.getCampaign(id);
      return found ? c.json(found, 200) : c.json(err('not_found', `No campaign ${id}.`), 404);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/campaigns/{id}/submit',
      tags: ['campaigns'],
      summary: 'Submit a draft or rejected campaign for General Counsel approval (marketing)',
      security,
      middleware: [requireRole(...CAMPAIGN_SUBMIT_ROLES)] as const,
      request: { params: IdParam },
      responses: { 200: json('Submitted.', CampaignRecord), 401: E[401], 403: E[403], 404: E[404], 409: E[409] },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const user = c.get('user');
      const at = now();
      const r = await db.updateCampaign(id, (current) => {
        const t = transitionCampaign(current, { kind: 'submit' }, actorOf(user), at);
        if (!t.ok) return t;
        return {
          ok: true,
          next: t.next,
          event: auditEvent(user, at, 'campaign.state_changed', ['SUPERVISORY_APPROVAL'], [`Campaign “${current.name}” submitted for General Counsel approval`], {
            campaignId: id,
            campaignName: current.name,
            from: t.from,
            to: t.next.status,
          }),
        };
      });
      if (r.ok) return c.json(r.campaign, 200);
      return c.json(err(r.code, r.message), STATUS[r.code] as 403);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/campaigns/{id}/decision',
      tags: ['campaigns'],
      summary: 'Approve or reject a submitted campaign (counsel; never one’s own; a rejection needs a comment)',
      security,
      middleware: [requireRole(...CAMPAIGN_DECIDE_ROLES)] as const,
      request: { params: IdParam, body: { required: true, content: { 'application/json': { schema: CampaignDecisionRequest } } } },
      responses: { 200: json('Decided.', CampaignRecord), 400: E[400], 401: E[401], 403: E[403], 404: E[404], 409: E[409] },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const user = c.get('user');
      const at = now();
      const r = await db.updateCampaign(id, (current) => {
        const t = transitionCampaign(current, { kind: body.decision, comment: body.comment }, actorOf(user), at);
        if (!t.ok) return t;
        const verb = t.next.status === 'approved' ? 'approved' : 'rejected';
        return {
          ok: true,
          next: t.next,
          event: auditEvent(
            user,
            at,
            'campaign.state_changed',
            ['SUPERVISORY_APPROVAL'],
            [`Campaign “${current.name}” ${verb} by the General Counsel${t.next.decisionComment ? `: ${t.next.decisionComment}` : ''}`],
            { campaignId: id, campaignName: current.name, from: t.from, to: t.next.status, comment: t.next.decisionComment },
          ),
        };
      });
      if (r.ok) return c.json(r.campaign, 200);
      return c.json(err(r.code, r.message), STATUS[r.code] as 403);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/campaigns/{id}/scrubs',
      tags: ['campaigns'],
      summary: 'Record a finished list scrub (marketing): counts and time; sets scrubbedAt',
      security,
      middleware: [requireRole(...CAMPAIGN_SCRUB_ROLES)] as const,
      request: { params: IdParam, body: { required: true, content: { 'application/json': { schema: ScrubSummary } } } },
      responses: { 200: json('Recorded.', CampaignRecord), 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const summary = c.req.valid('json');
      const user = c.get('user');
      const at = now();
      const r = await db.updateCampaign(id, (current) => {
        const t = recordScrub(current, summary, actorOf(user), at);
        if (!t.ok) return t;
        const { total, allowed, blocked, unknown, malformed, durationMs } = summary;
        return {
          ok: true,
          next: t.next,
          event: auditEvent(
            user,
            at,
            'campaign.state_changed',
            ['APPROVAL_REQUIRED'],
            [`Target list of campaign “${current.name}” scrubbed: ${allowed} allowed, ${blocked} blocked, ${unknown} unknown, ${malformed} malformed of ${total}`],
            { campaignId: id, campaignName: current.name, from: t.from, to: 'scrubbed', total, allowed, blocked, unknown, malformed, durationMs },
          ),
        };
      });
      if (r.ok) return c.json(r.campaign, 200);
      return c.json(err(r.code, r.message), STATUS[r.code] as 403);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/campaigns/{id}',
      tags: ['campaigns'],
      summary: 'Delete a campaign record (admin), only after its retention period',
      description: 'Campaign and supervisory-approval records are kept at least 1 year after their last change (RETENTION, 64.2009(c),(d)); an earlier delete is refused with 409.',
      security,
      middleware: [requireRole(...CAMPAIGN_DELETE_ROLES)] as const,
      request: { params: IdParam },
      responses: {
        200: json('Deleted; sync carries a tombstone.', z.object({ deleted: z.literal(true), version: z.number().int() })),
        401: E[401],
        403: E[403],
        404: E[404],
        409: E[409],
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const user = c.get('user');
      const at = now();
      const r = await db.deleteCampaign(id, at, (current) =>
        auditEvent(user, at, 'campaign.state_changed', ['RETENTION'], [`Campaign “${current.name}” deleted after its retention period`], {
          campaignId: id,
          campaignName: current.name,
          from: current.status,
          to: 'deleted',
        }),
      );
      if (r.ok) return c.json({ deleted: true as const, version: r.version }, 200);
      if (r.reason === 'not_found') return c.json(err('not_found', `No campaign ${id}.`), 404);
      return c.json(
        err('retention', `Campaign ${id} must be kept until ${r.keepUntil} (campaign and approval records are retained at least 1 year, 47 C.F.R. 64.2009(c),(d)); nothing was deleted.`),
        409,
      );
    },
  );

  // ---- approval-mechanism failures ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/approval-failures',
      tags: ['compliance'],
      summary: 'Record a failure of the opt-in or opt-out mechanism (manager); the FCC notice is due in 5 business days',
      security,
      middleware: [requireRole(...FAILURE_WRITE_ROLES)] as const,
      request: { body: { required: true, content: { 'application/json': { schema: ApprovalFailureCreate } } } },
      responses: { 201: json('Recorded.', ApprovalFailure), 400: E[400], 401: E[401], 403: E[403] },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const user = c.get('user');
      const at = now();
      const failure: ApprovalFailure = {
        ...input,
        id: uuidv7(),
        recordedBy: user.email,
        recordedAt: at.toISOString(),
        noticeDue: optInFailureNoticeDue(at),
        noticeSentAt: null,
        noticeSentBy: null,
      };
      const mech = input.mechanism === 'opt_in' ? 'opt-in' : 'opt-out';
      const saved = await db.createApprovalFailure(
        failure,
        auditEvent(user, at, 'approval_failure.recorded', ['OPT_IN_FAILURE'], [`The ${mech} mechanism failed: ${input.description}`], {
          failureId: failure.id,
          mechanism: input.mechanism,
          noticeDue: failure.noticeDue,
        }),
      );
      return c.json(saved, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/approval-failures',
      tags: ['compliance'],
      summary: 'Approval-mechanism failures (manager, counsel, admin), unsent notices first',
      security,
      middleware: [requireRole(...FAILURE_READ_ROLES)] as const,
      responses: { 200: json('Failures.', ApprovalFailureList), 401: E[401], 403: E[403] },
    }),
    async (c) => c.json({ failures: await db.listApprovalFailures() }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/approval-failures/{id}/notice-sent',
      tags: ['compliance'],
      summary: 'Mark the FCC notice of a failure as sent (manager)',
      security,
      middleware: [requireRole(...FAILURE_WRITE_ROLES)] as const,
      request: { params: IdParam },
      responses: { 200: json('Marked sent.', ApprovalFailure), 401: E[401], 403: E[403], 404: E[404], 409: E[409] },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const user = c.get('user');
      const at = now();
      const r = await db.updateApprovalFailure(id, (f) => {
        if (f.noticeSentAt) return { ok: false, code: 'conflict', message: `The FCC notice for this failure was already marked sent on ${f.noticeSentAt}.` };
        const next = { ...f, noticeSentAt: at.toISOString(), noticeSentBy: user.email };
        return {
          ok: true,
          next,
          event: auditEvent(user, at, 'approval_failure.notice_sent', ['OPT_IN_FAILURE'], ['Written notice of the approval-mechanism failure sent to the FCC'], {
            failureId: id,
            noticeDue: f.noticeDue,
            late: at.toISOString().slice(0, 10) > f.noticeDue,
          }),
        };
      });
      if (r.ok) return c.json(r.failure, 200);
      return c.json(err(r.code, r.message), STATUS[r.code] as 404);
    },
  );
}
