// What every group of routes shares: the request context, the dependencies a route file gets
// from createApp, and the pieces of an OpenAPI route description.
import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../../lib/api';
import { uuidv7 } from 'uuidv7';
import type { ActionKind, AuditEvent, AuditKind, Role, RuleId, User } from '../../lib/schemas';
import type { Store } from '../store';

export type Env = { Variables: { user: User; tokenHash: string } };

export interface RouteDeps {
  db: Store;
  now: () => Date;
  requireRole: (...roles: Role[]) => MiddlewareHandler<Env>;
}

export const ALL_ROLES: Role[] = ['rep', 'marketing', 'manager', 'counsel', 'admin'];

/** An OpenAPI response with a JSON body. */
export const json = <T extends z.ZodTypeAny>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

/** The error responses, with descriptions a route may override. */
export const errorResponses = (descriptions: Partial<Record<400 | 401 | 403 | 404 | 409, string>> = {}) => ({
  400: json(descriptions[400] ?? 'The request failed validation; `issues` says where.', ApiError),
  401: json(descriptions[401] ?? 'Missing, unknown or expired bearer token.', ApiError),
  403: json(descriptions[403] ?? "The signed-in user's role may not do this.", ApiError),
  404: json(descriptions[404] ?? 'No such record.', ApiError),
  409: json(descriptions[409] ?? 'The record is not in a state that allows this.', ApiError),
});

export const bearerSecurity = [{ bearer: [] as string[] }];
export const IdParam = z.object({ id: z.string().min(1).max(64) });

/** An ApiError body. */
export const apiError = (error: string, message: string, issues?: { path: string; message: string; row?: number }[]) =>
  issues ? { error, message, issues } : { error, message };

/**
 * An audit event the backend itself writes (a campaign decision, a password attempt, a
 * notice): a server-made UUIDv7, the signed-in user as actor, no CRM page behind it.
 */
export function serverAuditEvent(
  user: User,
  at: Date,
  e: { kind: AuditKind; action: ActionKind | null; customerId: string | null; ruleIds: RuleId[]; reasons: string[]; details: AuditEvent['details'] },
): AuditEvent {
  return {
    id: uuidv7(),
    at: at.toISOString(),
    kind: e.kind,
    actor: user.email,
    actorRole: user.role,
    action: e.action,
    customerId: e.customerId,
    ruleIds: e.ruleIds,
    reasons: e.reasons.map((r) => r.slice(0, 1000)),
    crm: null,
    pageUrl: null,
    control: null,
    details: e.details,
  };
}
