// Messages for admin-defined CRM adapters, joined into the ContentMessage and PageMessage unions
// of lib/messages.ts. The content script asks which configured adapters apply to its frame; the
// options page lists them, saves and deletes them (the background forwards to the backend,
// which enforces the admin role) and says when the browser granted access to new origins.
import { z } from 'zod';
import { MAX_ADAPTER_DOCUMENT_CHARS } from './adapter-config';

const Id = z.string().min(1).max(64);

// --- from a content script ---
export const AdaptersGet = z.object({ type: z.literal('adapters.get') });
export const ADAPTER_CONTENT_MESSAGES = [AdaptersGet] as const;
export type AdapterContentMessage = z.infer<typeof AdaptersGet>;

/** The synced documents that passed validation and apply to the asking frame's host. */
export const AdaptersGetReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    data: z.object({ adapters: z.array(z.object({ id: Id, version: z.number().int(), document: z.unknown() })).max(200) }),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

// --- from extension pages (the options page) ---
export const ADAPTER_PAGE_MESSAGES = [
  z.object({ type: z.literal('adapters.list') }),
  /** `document` is the parsed JSON the admin pasted or uploaded (checked again by the backend). */
  z.object({ type: z.literal('adapters.put'), id: Id, document: z.unknown() }),
  z.object({ type: z.literal('adapters.delete'), id: Id }),
  /** The options page obtained (or lost) host permissions: register the content script again. */
  z.object({ type: z.literal('adapters.permissionsChanged') }),
] as const;
export const AdapterPageMessage = z.discriminatedUnion('type', ADAPTER_PAGE_MESSAGES);
export type AdapterPageMessage = z.infer<typeof AdapterPageMessage>;

/** One adapter as the options page lists it. */
export const AdapterListEntry = z.object({
  id: Id,
  version: z.number().int(),
  name: z.string().nullable(),
  matches: z.array(z.string()),
  /** Origins outside the manifest this adapter needs (ask with browser.permissions.request). */
  origins: z.array(z.string()),
  /** Null: in force. Otherwise why the extension refused the synced document (it is skipped). */
  error: z.string().nullable(),
});
export type AdapterListEntry = z.infer<typeof AdapterListEntry>;
export const AdapterListData = z.object({ adapters: z.array(AdapterListEntry) });
export const AdapterListReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: AdapterListData }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/** A refused save: the backend's issues, each with its field path (the page maps them to lines). */
export const AdapterSaveData = z.object({ id: Id, version: z.number().int() });
export const AdapterSaveReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: AdapterSaveData }),
  z.object({
    ok: z.literal(false),
    error: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).max(100).optional(),
  }),
]);

/** What the sync status says about synced adapter documents. */
export const AdapterSyncStatus = z.object({
  inForce: z.number().int(),
  refused: z.array(z.object({ id: z.string(), error: z.string() })).max(50),
});
export type AdapterSyncStatus = z.infer<typeof AdapterSyncStatus>;

export { MAX_ADAPTER_DOCUMENT_CHARS };
