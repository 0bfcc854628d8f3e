// The rep's call, as pure data and functions (no browser, no I/O): the call's lifecycle and
// idle expiry, which caller-verification methods a customer qualifies for (policy §3A, §11;
// 64.2010(b),(g)), how a consent captured on the call is checked and recorded (policy §7A;
// 64.2008(c),(f)), and where an account-change notice goes (policy §10; 64.2010(f)).
// Shared by the background, the panel and the backend routes, with the HTTP contract of
// those routes.
import { z } from 'zod';
import { ADDRESS_OF_RECORD_MIN_DAYS } from './policy';
import {
  Call,
  CallDirection,
  CallerVerification,
  Consent,
  ConsentMethod,
  ConsentPurpose,
  ConsentScope,
  isoDateTime,
  type Customer,
  type PolicySettings,
  type VerificationMethod,
} from './schemas';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const Id = z.string().min(1).max(64);

// ---------------------------------------------------------------------------------------
// Call lifecycle
// ---------------------------------------------------------------------------------------

/** How the extension keeps one customer's call (at most one per customer). */
export const StoredCall = z.object({
  call: Call, // endedAt: null while open (idle expiry is computed, see effectiveCall)
  lastActivityAt: isoDateTime,
  verification: CallerVerification.nullable().default(null),
  // The last answer of the backend's password check on this call.
  password: z
    .object({ attemptsLeft: z.number().int().nonnegative(), locked: z.boolean() })
    .nullable()
    .default(null),
});
export type StoredCall = z.infer<typeof StoredCall>;

export function startCall(id: string, customerId: string, direction: z.infer<typeof CallDirection>, now: Date): StoredCall {
  const at = now.toISOString();
  return {
    call: { id, customerId, direction, startedAt: at, endedAt: null },
    lastActivityAt: at,
    verification: null,
    password: null,
  };
}

/** When the call ends if nothing more happens on it: last activity + policy.callIdleMinutes. */
export function idleEndsAt(s: StoredCall, policy: Pick<PolicySettings, 'callIdleMinutes'>): string {
  return new Date(Date.parse(s.lastActivityAt) + policy.callIdleMinutes * MINUTE_MS).toISOString();
}

/** Is the call still going at `now` (not ended, not idle past the limit)? */
export function isCallLive(s: StoredCall | null, policy: Pick<PolicySettings, 'callIdleMinutes'>, now: Date): boolean {
  if (!s) return false;
  if (s.call.endedAt !== null) return false;
  return Date.parse(idleEndsAt(s, policy)) > now.getTime();
}

/**
 * The call as the snapshot carries it. An open call gets `endedAt` = the time it will end by
 * idling: the guard and the panel (lib/consent openCall) treat it as ended from then on, even
 * if no message reaches them (fail closed). Activity on the call moves that time forward.
 * A call that ended (by the rep or by idling) keeps its real end.
 */
export function effectiveCall(s: StoredCall | null, policy: Pick<PolicySettings, 'callIdleMinutes'>): Call | null {
  if (!s) return null;
  if (s.call.endedAt !== null) return s.call;
  return { ...s.call, endedAt: idleEndsAt(s, policy) };
}

/** Activity on a live call: its idle clock restarts. A call that is over stays over. */
export function touchCall(s: StoredCall, policy: Pick<PolicySettings, 'callIdleMinutes'>, now: Date): StoredCall {
  if (!isCallLive(s, policy, now)) return closeIfIdle(s, policy, now);
  return { ...s, lastActivityAt: now.toISOString() };
}

/** The rep ends the call (a call that already idled out keeps its idle end). */
export function endCall(s: StoredCall, policy: Pick<PolicySettings, 'callIdleMinutes'>, now: Date): StoredCall {
  const idled = closeIfIdle(s, policy, now);
  if (idled.call.endedAt !== null) return idled;
  return { ...s, call: { ...s.call, endedAt: now.toISOString() } };
}

/** Writes the idle end into a call that idled out. */
export function closeIfIdle(s: StoredCall, policy: Pick<PolicySettings, 'callIdleMinutes'>, now: Date): StoredCall {
  if (s.call.endedAt !== null) return s;
  const end = idleEndsAt(s, policy);
  return Date.parse(end) <= now.getTime() ? { ...s, call: { ...s.call, endedAt: end } } : s;
}

/** The verification on the live call, or null (a verification never outlives its call). */
export function liveVerification(
  s: StoredCall | null,
  policy: Pick<PolicySettings, 'callIdleMinutes'>,
  now: Date,
): CallerVerification | null {
  if (!s || !isCallLive(s, policy, now)) return null;
  const v = s.verification;
  return v && v.callId === s.call.id && v.customerId === s.call.customerId ? v : null;
}

// ---------------------------------------------------------------------------------------
// Caller verification: which ways this customer qualifies for
// ---------------------------------------------------------------------------------------

export interface VerifyOption {
  method: VerificationMethod;
  available: boolean;
  /** Why it is not available, or what the rep must know to use it. */
  text: string;
  /** password: none; callback: the number of record; address: its lines; business: the contract. */
  detail: string | null;
}

export function addressAgeDays(customer: Customer, now: Date): number | null {
  const a = customer.addressOfRecord;
  return a ? Math.floor((now.getTime() - Date.parse(a.setAt)) / DAY_MS) : null;
}

/** The number of record the rep calls back (never the one the caller gives). */
export function numberOfRecord(customer: Customer): string | null {
  return customer.phones[0] ?? null;
}

export function businessContract(customer: Customer): { rep: string; id: string; name: string } | null {
  const b = customer.business;
  if (!b || !b.dedicatedRep || !b.cpniContractId) return null;
  return { rep: b.dedicatedRep, id: b.cpniContractId, name: b.cpniContractName ?? b.cpniContractId };
}

/** The four ways policy §3A and §11 allow, in the order the panel offers them. */
export function verificationOptions(customer: Customer, now: Date): VerifyOption[] {
  const age = addressAgeDays(customer, now);
  const phone = numberOfRecord(customer);
  const contract = businessContract(customer);
  const addressOk = age !== null && age >= ADDRESS_OF_RECORD_MIN_DAYS;
  return [
    {
      method: 'password',
      available: customer.passwordEstablished,
      text: customer.passwordEstablished
        ? 'Ask the caller for their password; never prompt with account or biographical details.'
        : 'No password is established on this account.',
      detail: null,
    },
    {
      method: 'callback_number_of_record',
      available: phone !== null,
      text: phone
        ? 'Hang up and call back this number of record (not a number the caller gives).'
        : 'There is no telephone number of record.',
      detail: phone,
    },
    {
      method: 'address_of_record',
      available: addressOk,
      text:
        age === null
          ? 'There is no address of record.'
          : addressOk
            ? 'Call detail is mailed to the address of record; nothing is read out on the call.'
            : `The address of record changed ${age} day${age === 1 ? '' : 's'} ago; it qualifies only after ${ADDRESS_OF_RECORD_MIN_DAYS} days.`,
      detail: customer.addressOfRecord ? customer.addressOfRecord.lines.join(', ') : null,
    },
    {
      method: 'business_contract',
      available: contract !== null,
      text: contract
        ? `Authenticate as the CPNI contract provides (dedicated rep ${contract.rep}).`
        : customer.business
          ? 'This business account lacks a dedicated rep or a contract addressing CPNI.'
          : 'Only for business accounts with a dedicated rep and a CPNI contract.',
      detail: contract ? `${contract.name} (${contract.id})` : null,
    },
  ];
}

export function verificationOption(customer: Customer, method: VerificationMethod, now: Date): VerifyOption {
  return verificationOptions(customer, now).find((o) => o.method === method)!;
}

// ---------------------------------------------------------------------------------------
// Password checks (backend): limits per customer and per rep
// ---------------------------------------------------------------------------------------

/** Failed password checks one rep may make across all customers in the window. */
export const REP_PASSWORD_FAILURES_MAX = 10;
export const REP_PASSWORD_WINDOW_MS = 15 * MINUTE_MS;

/** After a failure: how many tries are left, and is the customer's password now locked? */
export function afterFailure(failuresBefore: number, max: number): { failures: number; attemptsLeft: number; locked: boolean } {
  const failures = failuresBefore + 1;
  return { failures, attemptsLeft: Math.max(0, max - failures), locked: failures >= max };
}

// ---------------------------------------------------------------------------------------
// Consent capture
// ---------------------------------------------------------------------------------------

/** What a rep records from the panel: an approval, a denial, or a revocation. */
export const CaptureState = z.enum(['opt_in', 'denied', 'revoked']);
export type CaptureState = z.infer<typeof CaptureState>;

export const ConsentCaptureInput = z.object({
  customerId: Id,
  purpose: ConsentPurpose,
  state: CaptureState,
  method: ConsentMethod,
  scope: ConsentScope,
  noticeVersion: z.string().min(1).max(64),
  evidence: z.string().max(2000).nullable().default(null),
});
export type ConsentCaptureInput = z.infer<typeof ConsentCaptureInput>;

/** Why a capture cannot be recorded as asked, or null when it can. */
export function captureProblem(input: ConsentCaptureInput, liveCall: Call | null): string | null {
  if (input.scope === 'call') {
    if (input.purpose !== 'marketing') return 'One-time consent covers marketing on this call only (64.2008(f)); record other purposes as standing.';
    if (input.state !== 'opt_in') return 'One-time consent is an approval; record a denial or revocation as standing.';
    if (input.method !== 'oral') return 'One-time consent is oral consent on the call.';
    if (!liveCall || liveCall.customerId !== input.customerId) return 'Start the call first: one-time consent covers the call that is open.';
  }
  if (input.purpose === 'new_carrier' && input.state === 'opt_in' && input.method !== 'written') {
    return 'Release to a new carrier needs express written authorization (policy §5).';
  }
  return null;
}

/** The consent record a capture becomes. Each capture is a new record: nothing is overwritten. */
export function captureToConsent(
  input: ConsentCaptureInput,
  opts: { id: string; by: string; now: Date; callId: string | null },
): Consent {
  const at = opts.now.toISOString();
  return Consent.parse({
    id: opts.id,
    customerId: input.customerId,
    purpose: input.purpose,
    state: input.state,
    method: input.method,
    scope: input.scope,
    callId: input.scope === 'call' ? opts.callId : null,
    capturedBy: opts.by,
    capturedAt: at,
    noticeVersion: input.noticeVersion,
    evidence: input.evidence,
    version: 0,
    updatedAt: at,
  });
}

/** POST /api/consents/captures: idempotent by consent id. */
export const CAPTURE_BATCH_MAX = 100;
export const CaptureBatch = z.object({ consents: z.array(Consent).min(1).max(CAPTURE_BATCH_MAX) });
export const CaptureBatchResponse = z.object({ accepted: z.array(z.string()), duplicates: z.array(z.string()) });

// ---------------------------------------------------------------------------------------
// CPNI notices (64.2008(c)): versioned text the rep reads before an oral approval
// ---------------------------------------------------------------------------------------

export const CpniNotice = z.object({
  version: z.string().min(1).max(64),
  effectiveAt: isoDateTime,
  text: z.string().min(1).max(20_000),
});
export type CpniNotice = z.infer<typeof CpniNotice>;

export const FIRST_NOTICE_VERSION = 'CPNI-NOTICE-2024-01';
/** The first notice, with what 64.2008(c) requires; the backend seeds it as the current one. */
export const FIRST_CPNI_NOTICE: CpniNotice = {
  version: FIRST_NOTICE_VERSION,
  effectiveAt: '2024-01-01T00:00:00.000Z',
  text: [
    'Customer Proprietary Network Information (CPNI) is information about the quantity, technical configuration, type, destination, location and amount of your use of our telecommunications services, and related billing information.',
    'You have a right, and we have a duty under federal law, to protect the confidentiality of your CPNI.',
    'With your approval we would use your CPNI, and share it with our affiliates, joint venturers and independent contractors who provide communications-related services, to offer you services other than those you already buy from us.',
    'You may deny or withdraw your approval at any time, at no cost, by telling a representative or writing to us. Denying or withdrawing approval will not affect the services you buy from us.',
    'Your approval or denial remains in effect until you revoke or limit it.',
    'If you agree only for this call, we will use your CPNI for the duration of this call only.',
  ].join('\n\n'),
};

// ---------------------------------------------------------------------------------------
// Account-change notices (policy §10; 64.2010(f))
// ---------------------------------------------------------------------------------------

export const ACCOUNT_FIELDS = ['password', 'backup_question', 'online_account', 'address_of_record'] as const;
export const AccountField = z.enum(ACCOUNT_FIELDS);
export type AccountField = z.infer<typeof AccountField>;

export const ACCOUNT_FIELD_LABELS: Readonly<Record<AccountField, string>> = {
  password: 'password',
  backup_question: 'backup question or answer',
  online_account: 'online account',
  address_of_record: 'address of record',
};

export type NoticeRecipient = { channel: 'mail'; to: string[] } | { channel: 'phone'; to: string[] };

/**
 * Where the notice of a change goes: the number or address of record as it is BEFORE the
 * change (call this with the customer as the backend knew it before applying the change).
 * A changed address is told at the old address; other changes at the number of record, else
 * the address. Null when neither exists (decide blocks the change then).
 */
export function noticeRecipient(customerBefore: Customer, field: AccountField): NoticeRecipient | null {
  const address = customerBefore.addressOfRecord?.lines ?? null;
  const phone = numberOfRecord(customerBefore);
  if (field === 'address_of_record' && address) return { channel: 'mail', to: [...address] };
  if (phone) return { channel: 'phone', to: [phone] };
  if (address) return { channel: 'mail', to: [...address] };
  return null;
}

/** The notice's words: what changed and when, never the new value. */
export function accountChangeNoticeText(customerName: string, field: AccountField, changedAt: string): string {
  return (
    `Dear ${customerName}: the ${ACCOUNT_FIELD_LABELS[field]} on your account was changed on ${changedAt.slice(0, 10)}. ` +
    'If you did not make or authorize this change, call us at once at the number on your bill.'
  );
}

export const AccountChangeCreate = z.object({
  id: z.string().min(1).max(64), // client-made: the request is idempotent by it
  field: AccountField,
  source: z.enum(['panel', 'crm']),
  callId: z.string().max(64).nullable().default(null),
  changedAt: isoDateTime,
});
export type AccountChangeCreate = z.infer<typeof AccountChangeCreate>;

export const AccountChangeNotice = z.object({
  id: z.string(),
  customerId: z.string(),
  field: AccountField,
  channel: z.enum(['mail', 'phone']),
  addressedTo: z.array(z.string()),
  text: z.string(),
  source: z.enum(['panel', 'crm']),
  changedAt: isoDateTime,
  createdAt: isoDateTime,
  createdBy: z.string(),
  sentAt: isoDateTime.nullable(),
  sentBy: z.string().nullable(),
});
export type AccountChangeNotice = z.infer<typeof AccountChangeNotice>;
export const AccountChangeNoticeList = z.object({ notices: z.array(AccountChangeNotice) });

/** "3 h", "2 d": how long a notice has waited. */
export function ageText(fromIso: string, now: Date): string {
  const ms = Math.max(0, now.getTime() - Date.parse(fromIso));
  if (ms < 60 * MINUTE_MS) return `${Math.floor(ms / MINUTE_MS)} min`;
  if (ms < DAY_MS) return `${Math.floor(ms / (60 * MINUTE_MS))} h`;
  return `${Math.floor(ms / DAY_MS)} d`;
}

// ---------------------------------------------------------------------------------------
// Other request/response shapes of the call routes
// ---------------------------------------------------------------------------------------

export const VerifyPasswordRequest = z.object({ password: z.string().min(1).max(200), callId: Id });
export const VerifyPasswordResponse = z.object({
  verified: z.boolean(),
  attemptsLeft: z.number().int().nonnegative(),
  locked: z.boolean(),
});
export type VerifyPasswordResponse = z.infer<typeof VerifyPasswordResponse>;

export const MailingRequestCreate = z.object({ callId: Id, what: z.literal('call_detail') });
export const MailingRequest = z.object({
  id: z.string(),
  customerId: z.string(),
  callId: z.string(),
  what: z.literal('call_detail'),
  addressLines: z.array(z.string()),
  requestedBy: z.string(),
  requestedAt: isoDateTime,
});
export type MailingRequest = z.infer<typeof MailingRequest>;

export const PasswordLock = z.object({
  customerId: z.string(),
  failures: z.number().int(),
  lockedAt: isoDateTime,
});
export type PasswordLock = z.infer<typeof PasswordLock>;
export const PasswordLockList = z.object({ locks: z.array(PasswordLock) });
