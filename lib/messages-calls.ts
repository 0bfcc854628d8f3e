// Messages for the rep's call (lib/calls.ts), joined into the PageMessage union of
// lib/messages.ts, and what the background adds to the panel's state about the call. Parsed
// like every other message (DESIGN invariant 5).
import { z } from 'zod';
import {
  AccountChangeNotice,
  AccountChangeNoticeList,
  AccountField,
  CaptureState,
  ConsentCaptureInput,
  CpniNotice,
  MailingRequest,
  PasswordLockList,
  VerifyPasswordResponse,
} from './calls';
import { CallDirection, ConsentMethod, ConsentPurpose, ConsentScope, isoDateTime } from './schemas';

const Id = z.string().min(1).max(64);

// --- from extension pages (the panel inside a CRM tab; the manager view) ---
export const CALL_PAGE_MESSAGES = [
  z.object({ type: z.literal('call.start'), customerId: Id, direction: CallDirection }),
  z.object({ type: z.literal('call.end'), customerId: Id }),
  // The password goes to the background and on to the backend; it is never stored.
  z.object({ type: z.literal('verify.password'), customerId: Id, password: z.string().min(1).max(200) }),
  z.object({ type: z.literal('verify.callback'), customerId: Id }),
  z.object({ type: z.literal('verify.addressOfRecord'), customerId: Id }),
  z.object({ type: z.literal('verify.business'), customerId: Id }),
  z.object({ type: z.literal('notices.current') }),
  z.object({ type: z.literal('consent.capture'), input: ConsentCaptureInput }),
  z.object({ type: z.literal('account.changed'), customerId: Id, field: AccountField }),
  z.object({ type: z.literal('passwordLocks.list') }),
  z.object({ type: z.literal('passwordLocks.unlock'), customerId: Id }),
  z.object({ type: z.literal('accountNotices.list'), unsent: z.boolean().default(true) }),
  z.object({ type: z.literal('accountNotices.markSent'), id: Id }),
] as const;
export const CallPageMessage = z.discriminatedUnion('type', CALL_PAGE_MESSAGES);
export type CallPageMessage = z.infer<typeof CallPageMessage>;
const CALL_TYPES: ReadonlySet<string> = new Set(CALL_PAGE_MESSAGES.map((m) => m.shape.type.value));
export function isCallPageMessage<M extends { type: string }>(m: M): m is Extract<M, CallPageMessage> {
  return CALL_TYPES.has(m.type);
}

// --- what the panel state carries about the call (PanelState.calls) ---
export const CaptureStatus = z.object({
  id: z.string(),
  purpose: ConsentPurpose,
  state: CaptureState,
  method: ConsentMethod,
  scope: ConsentScope,
  noticeVersion: z.string(),
  capturedAt: isoDateTime,
  // pending: stored in the extension, not yet acknowledged by the backend
  status: z.enum(['pending', 'recorded', 'refused']),
  error: z.string().nullable(),
});
export type CaptureStatus = z.infer<typeof CaptureStatus>;

export const ChangeStatus = z.object({
  id: z.string(),
  field: AccountField,
  changedAt: isoDateTime,
  status: z.enum(['pending', 'recorded', 'refused']),
  notice: AccountChangeNotice.nullable(),
  error: z.string().nullable(),
});
export type ChangeStatus = z.infer<typeof ChangeStatus>;

export const CallPanelInfo = z.object({
  password: z.object({ attemptsLeft: z.number().int().nonnegative(), locked: z.boolean() }).nullable(),
  captures: z.array(CaptureStatus),
  changes: z.array(ChangeStatus),
  mailing: MailingRequest.nullable(),
});
export type CallPanelInfo = z.infer<typeof CallPanelInfo>;

// --- replies ---
const Reply = <T extends z.ZodTypeAny>(data: T) =>
  z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), data }), z.object({ ok: z.literal(false), error: z.string() })]);
export const VerifyPasswordReply = Reply(VerifyPasswordResponse);
export const NoticeReply = Reply(CpniNotice);
export const CaptureReply = Reply(CaptureStatus);
export const AccountChangeReply = Reply(ChangeStatus);
export const MailingReply = Reply(MailingRequest);
export const PasswordLockListReply = Reply(PasswordLockList);
export const AccountNoticeListReply = Reply(AccountChangeNoticeList);
export const AccountNoticeReply = Reply(AccountChangeNotice);
