// The HTTP contract between the extension and the backend. The server's routes are
// described with these schemas (and the OpenAPI document is generated from them); the
// extension parses every response with them.
import { z } from 'zod';
import {
  AuditEvent,
  AuditKind,
  ActionKind,
  Campaign,
  Consent,
  Customer,
  PolicySettings,
  Role,
  RuleId,
  User,
  isoDateTime,
} from './schemas';

export const ApiError = z.object({
  error: z.string(), // machine code, e.g. "forbidden", "invalid_body"
  message: z.string(), // what a person reads
  issues: z
    .array(z.object({ row: z.number().int().optional(), path: z.string(), message: z.string() }))
    .optional(),
});
export type ApiError = z.infer<typeof ApiError>;

// POST /api/auth/sign-in
export const SignInRequest = z.object({
  email: z.string().min(1).max(200),
  password: z.string().min(1).max(200),
});
export const SignInResponse = z.object({ token: z.string().min(16), user: User });
export type SignInResponse = z.infer<typeof SignInResponse>;

// GET /api/me
export const MeResponse = z.object({ user: User });

// ---- Sync pull: GET /api/sync/pull?cursor=<opaque>&limit=<n> ----
// Each change is an upsert or a tombstone of one entity, with its version. The cursor is
// opaque to the client; the client stores it only after a whole page was applied.
export const SYNC_ENTITIES = ['customer', 'consent', 'policy', 'adapter', 'campaign'] as const;
export const SyncEntity = z.enum(SYNC_ENTITIES);
export type SyncEntity = z.infer<typeof SyncEntity>;

const upsert = <E extends SyncEntity, T extends z.ZodTypeAny>(entity: E, data: T) =>
  z.object({
    op: z.literal('upsert'),
    entity: z.literal(entity),
    id: z.string().min(1),
    version: z.number().int().nonnegative(),
    data,
  });

// An admin-defined adapter travels as data; its schema lives with the adapters (lib/adapter-config).
export const AdapterDocument = z.object({ id: z.string(), document: z.unknown() });

// Discriminated by op, then entity: a change is checked against its one schema only (a plain
// union tries each in turn, which made parsing a first sync of a million customers ~3x slower).
export const Change = z.discriminatedUnion('op', [
  z.discriminatedUnion('entity', [
    upsert('customer', Customer),
    upsert('consent', Consent),
    upsert('policy', PolicySettings),
    upsert('adapter', AdapterDocument),
    upsert('campaign', Campaign),
  ]),
  z.object({
    op: z.literal('tombstone'),
    entity: SyncEntity,
    id: z.string().min(1),
    version: z.number().int().nonnegative(),
  }),
]);
export type Change = z.infer<typeof Change>;

export const SYNC_PAGE_MAX = 5000;
export const PullQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(SYNC_PAGE_MAX).default(1000),
});
export const PullResponse = z.object({
  changes: z.array(Change),
  cursor: z.string(), // resume point after this page
  hasMore: z.boolean(),
  serverTime: isoDateTime,
});
export type PullResponse = z.infer<typeof PullResponse>;

// ---- Audit push: POST /api/audit-events ----
export const AUDIT_BATCH_MAX = 500;
export const AuditPushRequest = z.object({ events: z.array(AuditEvent).min(1).max(AUDIT_BATCH_MAX) });
export const AuditPushResponse = z.object({
  accepted: z.array(z.string()), // stored now
  duplicates: z.array(z.string()), // already stored earlier: also acknowledged
});
export type AuditPushResponse = z.infer<typeof AuditPushResponse>;

// ---- Audit query for managers: GET /api/audit-events ----
export const AuditQuery = z.object({
  actor: z.string().max(200).optional(),
  kind: AuditKind.optional(),
  action: ActionKind.optional(),
  ruleId: RuleId.optional(),
  customerId: z.string().max(64).optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().max(200).optional(), // opaque page token: newest first
});
export type AuditQuery = z.infer<typeof AuditQuery>;
export const StoredAuditEvent = AuditEvent.extend({ receivedAt: isoDateTime });
export type StoredAuditEvent = z.infer<typeof StoredAuditEvent>;
export const AuditQueryResponse = z.object({
  events: z.array(StoredAuditEvent),
  next: z.string().nullable(),
});
export type AuditQueryResponse = z.infer<typeof AuditQueryResponse>;

// ---- Import for admins: POST /api/import/customers (JSON array or NDJSON body) ----
export const ImportRow = z.union([
  z.object({ type: z.literal('customer'), customer: Customer.omit({ version: true, updatedAt: true }) }),
  z.object({ type: z.literal('consent'), consent: Consent.omit({ version: true, updatedAt: true }) }),
]);
export type ImportRow = z.infer<typeof ImportRow>;
export const ImportResponse = z.object({ customers: z.number().int(), consents: z.number().int() });

export const HealthResponse = z.object({ ok: z.literal(true), version: z.string(), time: isoDateTime });

export const RoleParam = Role;
