// Messages between content scripts, extension pages and the background service worker.
// Every message is parsed with these schemas on arrival; the background also checks who sent
// it (see `senderKind`): content scripts may only ask about records and write audit events,
// extension pages may sign in, sync and query.
import { z } from 'zod';
import { AuditQuery, AuditQueryResponse } from './api';
import { ActionKind, AuditKind, Decision, PolicySettings, User, isoDateTime } from './schemas';
import { RecordIdentifiers, Snapshot } from './snapshot';
import { CAMPAIGN_CONTENT_MESSAGES, CAMPAIGN_PAGE_MESSAGES } from './messages-campaigns';
import { CALL_PAGE_MESSAGES, CallPanelInfo } from './messages-calls';
import { ADAPTER_CONTENT_MESSAGES, ADAPTER_PAGE_MESSAGES, AdapterSyncStatus } from './messages-adapters';

// --- from a content script (a CRM tab) ---
export const RecordOpen = z.object({ type: z.literal('record.open'), identifiers: RecordIdentifiers });
export const RecordClose = z.object({ type: z.literal('record.close') });
// Who is signed in and the policy in force, for a frame with no record open (a list page's
// "Export list" is decided on the role).
export const ContextGet = z.object({ type: z.literal('context.get') });
// The guard reports what it did; the background adds who, when and the event id, writes it
// to the outbox, and only then answers (so the UI never shows an event that is not stored).
export const GuardEvent = z.object({
  type: z.literal('guard.event'),
  kind: AuditKind,
  action: ActionKind,
  decision: Decision,
  customerId: z.string().max(64).nullable(),
  crm: z.string().max(64),
  pageUrl: z.string().max(2000),
  control: z.string().max(200).nullable(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
});
export type GuardEvent = z.infer<typeof GuardEvent>;

export const ContentMessage = z.discriminatedUnion('type', [
  RecordOpen,
  RecordClose,
  ContextGet,
  GuardEvent,
  ...CAMPAIGN_CONTENT_MESSAGES, // lib/messages-campaigns.ts: the launch gate
  ...ADAPTER_CONTENT_MESSAGES, // lib/messages-adapters.ts: admin-defined adapters for this frame
]);
export type ContentMessage = z.infer<typeof ContentMessage>;

// --- from extension pages (options, dashboard, panel) ---
// How much of the customer base the extension caches: 'full' downloads all of it at the first
// sync; 'on_demand' (bases too big for a rep's browser) keeps only the customers the rep opens,
// looked up from the backend when a record opens and kept fresh by the same delta sync.
export const CacheMode = z.enum(['full', 'on_demand']);
export type CacheMode = z.infer<typeof CacheMode>;

export const PageMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('auth.signIn'),
    backendUrl: z.string().url(),
    email: z.string().min(1).max(200),
    password: z.string().min(1).max(200),
    // Absent: 'full' (the default). Signing in with another mode than the previous session
    // starts from an empty cache, as another user does.
    cacheMode: CacheMode.optional(),
  }),
  z.object({ type: z.literal('auth.signOut') }),
  z.object({ type: z.literal('status.get') }),
  z.object({ type: z.literal('sync.now') }),
  z.object({ type: z.literal('audit.query'), query: AuditQuery.partial() }),
  z.object({ type: z.literal('panel.dismissBlock') }),
  ...CAMPAIGN_PAGE_MESSAGES, // lib/messages-campaigns.ts: campaigns and approval-mechanism failures
  ...CALL_PAGE_MESSAGES, // lib/messages-calls.ts: the rep's call (verification, consent capture, account changes)
  ...ADAPTER_PAGE_MESSAGES, // lib/messages-adapters.ts: admin-defined adapters (options page)
]);
export type PageMessage = z.infer<typeof PageMessage>;

export const SyncStatus = z.object({
  backendUrl: z.string().nullable(),
  user: User.nullable(),
  lastSuccessAt: isoDateTime.nullable(),
  lastAttemptAt: isoDateTime.nullable(),
  lastError: z.string().nullable(),
  running: z.boolean(),
  counts: z.object({ customers: z.number().int(), consents: z.number().int() }),
  outboxPending: z.number().int(),
  quarantined: z.number().int(),
  backendReachable: z.boolean().nullable(),
  // The signed-in session's cache mode (absent when signed out).
  cacheMode: CacheMode.optional(),
  // Synced adapter documents: how many are in force, which were refused (skipped) and why.
  adapters: AdapterSyncStatus.optional(),
});
export type SyncStatus = z.infer<typeof SyncStatus>;

// --- replies ---
export const Reply = <T extends z.ZodTypeAny>(data: T) =>
  z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), error: z.string() }),
  ]);

export const RecordOpenReply = Reply(
  z.object({
    snapshot: Snapshot,
    user: User.nullable(),
    policy: PolicySettings,
    backendReachable: z.boolean().nullable(),
  }),
);
export type RecordOpenReply = z.infer<typeof RecordOpenReply>;
export const ContextReply = Reply(z.object({ user: User.nullable(), policy: PolicySettings }));

// --- pushed by the background to the content scripts of a tab (tabs.sendMessage) ---
// The cache changed (a sync, a sign-in or sign-out): ask for the record again. With
// `invalidate` the guard forgets what it knew at once (sign-out), so it never decides on
// data the extension no longer holds.
export const RecordRefresh = z.object({ type: z.literal('record.refresh'), invalidate: z.boolean() });
export type RecordRefresh = z.infer<typeof RecordRefresh>;
export const GuardEventReply = Reply(z.object({ eventId: z.string() }));
export const StatusReply = Reply(SyncStatus);
export const AuditQueryReply = Reply(AuditQueryResponse);

// --- pushed by the background to the panel of a tab (over a runtime Port named 'panel') ---
export const PanelState = z.object({
  type: z.literal('panel.state'),
  snapshot: Snapshot,
  user: User.nullable(),
  policy: PolicySettings,
  backendReachable: z.boolean().nullable(),
  // The last action the guard blocked in this tab: the panel shows it as a dialog with the
  // reasons, rules and remedies until the rep dismisses it.
  lastBlock: z
    .object({
      action: ActionKind,
      control: z.string().nullable(),
      decision: Decision,
      at: isoDateTime,
      eventId: z.string(),
      // A blocked campaign launch names its campaign; the dialog links to it.
      campaignId: z.string().max(64).nullable().default(null),
    })
    .nullable(),
  // The open call's verification tries, consent captures and account changes (lib/messages-calls.ts).
  calls: CallPanelInfo.optional(),
});
export type PanelState = z.infer<typeof PanelState>;
