// Which consent governs a use of CPNI, and whether it grants approval. Pure helpers shared by
// the policy engine, the status panel and the campaign scrub.
import type {
  Call,
  Consent,
  ConsentMethod,
  ConsentPurpose,
  ConsentState,
  PolicySettings,
} from './schemas';

const DAY_MS = 86_400_000;

/** 64.2008(d)(1): opt-out waits 30 days after the notice; mailed notices 3 days more. */
export const OPT_OUT_WAIT_DAYS = 30;
export const OPT_OUT_MAIL_EXTRA_DAYS = 3;

/** Why the governing consent does or does not grant approval. */
export type ApprovalBasis =
  | 'opt_in' // standing opt-in
  | 'one_time' // oral consent for the current call (64.2008(f))
  | 'opt_out' // opt-out after its waiting period, opt_out_allowed mode, marketing only
  | 'no_record'
  | 'no_notice' // state 'none'
  | 'denied'
  | 'revoked'
  | 'opt_out_waiting' // notice sent, waiting period still running
  | 'opt_out_no_notice_date' // pending/opt-out without the notice date: the wait cannot be counted
  | 'opt_out_not_accepted' // opt_in_only mode (policy §7A)
  | 'opt_out_wrong_purpose' // opt-out never covers third-party or new-carrier release
  | 'not_written'; // new carrier needs express written authorization

export interface EffectiveConsent {
  /** The record that governs, or null when there is none. */
  consent: Consent | null;
  /** Its state after the opt-out clock: 'pending' reads 'opt_out_effective' once the wait is over. */
  state: ConsentState;
  grants: boolean;
  basis: ApprovalBasis;
  /** True when the governing record is one-time consent for the current call. */
  oneTime: boolean;
  /** For opt-out records: when the opt-out takes (took) effect, ISO date-time; else null. */
  optOutEffectiveAt: string | null;
  purpose: ConsentPurpose;
}

function time(s: string | null | undefined): number {
  if (!s) return Number.NEGATIVE_INFINITY;
  const t = Date.parse(s);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** When the customer gave (or was asked for) this consent: capturedAt, else updatedAt. */
function consentTime(c: Consent): number {
  return c.capturedAt ? time(c.capturedAt) : time(c.updatedAt);
}

/** Is `call` for this customer and still going at `now`? */
export function isCallOpen(call: Call | null | undefined, customerId: string, now: Date): boolean {
  return openCall(call, customerId, now) !== null;
}

/** `call` when it is for this customer and still going at `now`, else null. */
export function openCall(call: Call | null | undefined, customerId: string, now: Date): Call | null {
  if (!call || call.customerId !== customerId) return null;
  const ended = call.endedAt !== null && call.endedAt !== undefined && time(call.endedAt) <= now.getTime();
  return ended ? null : call;
}

/** When an opt-out notice sent at `noticeSentAt` takes effect (64.2008(d)(1)). */
export function optOutEffectiveAt(noticeSentAt: string, mailed: boolean): string {
  return new Date(optOutEffectiveMs(noticeSentAt, mailed)).toISOString();
}

function optOutEffectiveMs(noticeSentAt: string, mailed: boolean): number {
  const days = OPT_OUT_WAIT_DAYS + (mailed ? OPT_OUT_MAIL_EXTRA_DAYS : 0);
  return time(noticeSentAt) + days * DAY_MS;
}

/**
 * The consent that governs `purpose` for this customer at `now`, and whether it grants.
 *
 * - Standing consents: the latest by capturedAt (updatedAt when not captured) wins; ties go to
 *   the later updatedAt, then the higher version. Approvals never expire silently (policy §7A).
 * - One-time ('call') consents count only for marketing use, only on `call` (same id, same
 *   customer, not ended). The latest of those and the standing record governs, so a one-time
 *   yes on this call outranks an older refusal, and a later revocation outranks the yes.
 * - opt_in grants, except that a new carrier needs express written authorization.
 * - Opt-out grants only in opt_out_allowed mode, only for marketing (64.2007(b)), and only from
 *   30 days (33 if mailed) after the notice (64.2008(d)). A 'pending' record becomes effective
 *   by that clock; an 'opt_out_effective' record still waits if its notice date says so.
 * - none, denied and revoked never grant.
 */
export function effectiveConsent(
  consents: readonly Consent[],
  customerId: string,
  purpose: ConsentPurpose,
  policy: Pick<PolicySettings, 'approvalMode'>,
  now: Date,
  call: Call | null,
): EffectiveConsent {
  const current = openCall(call, customerId, now);
  let best: Consent | null = null;
  let bestTime = Number.NEGATIVE_INFINITY;
  for (const c of consents) {
    if (c.customerId !== customerId || c.purpose !== purpose) continue;
    if (c.scope === 'call') {
      // 64.2008(f) is limited, one-time *use* on a call: not disclosure to others.
      if (purpose !== 'marketing' || !current || c.callId !== current.id) continue;
    }
    const t = consentTime(c);
    if (
      best === null ||
      t > bestTime ||
      (t === bestTime &&
        (time(c.updatedAt) > time(best.updatedAt) ||
          (time(c.updatedAt) === time(best.updatedAt) && c.version > best.version)))
    ) {
      best = c;
      bestTime = t;
    }
  }
  return judge(best, purpose, policy, now);
}

function judge(
  c: Consent | null,
  purpose: ConsentPurpose,
  policy: Pick<PolicySettings, 'approvalMode'>,
  now: Date,
): EffectiveConsent {
  if (!c) return effective(c, purpose, 'none', false, 'no_record', null);
  switch (c.state) {
    case 'none':
      return effective(c, purpose, 'none', false, 'no_notice', null);
    case 'denied':
      return effective(c, purpose, 'denied', false, 'denied', null);
    case 'revoked':
      return effective(c, purpose, 'revoked', false, 'revoked', null);
    case 'opt_in': {
      if (purpose === 'new_carrier' && c.method !== 'written') return effective(c, purpose, 'opt_in', false, 'not_written', null);
      return effective(c, purpose, 'opt_in', true, c.scope === 'call' ? 'one_time' : 'opt_in', null);
    }
    case 'pending':
    case 'opt_out_effective': {
      const effMs = c.noticeSentAt ? optOutEffectiveMs(c.noticeSentAt, c.noticeMailed) : null;
      const effAt = effMs === null ? null : new Date(effMs).toISOString();
      // Without a notice date the wait cannot be counted: a pending record stays pending;
      // an effective one is taken at its word (the backend set it).
      const waitOver = effMs !== null ? effMs <= now.getTime() : c.state === 'opt_out_effective';
      const state: ConsentState = waitOver ? 'opt_out_effective' : 'pending';
      if (policy.approvalMode !== 'opt_out_allowed') return effective(c, purpose, state, false, 'opt_out_not_accepted', effAt);
      if (purpose !== 'marketing') return effective(c, purpose, state, false, 'opt_out_wrong_purpose', effAt);
      if (!waitOver) return effective(c, purpose, state, false, effAt ? 'opt_out_waiting' : 'opt_out_no_notice_date', effAt);
      return effective(c, purpose, state, true, 'opt_out', effAt);
    }
  }
}

// One object literal of one shape: spreading a base object per result cost a list scrub
// several microseconds a row.
function effective(
  consent: Consent | null,
  purpose: ConsentPurpose,
  state: ConsentState,
  grants: boolean,
  basis: ApprovalBasis,
  optOutEffectiveAt: string | null,
): EffectiveConsent {
  return { consent, state, grants, basis, oneTime: consent?.scope === 'call', optOutEffectiveAt, purpose };
}

// --- text for the panel ---

export const CONSENT_STATE_LABELS: Readonly<Record<ConsentState, string>> = {
  none: 'No notice given',
  pending: 'Opt-out notice sent, waiting period running',
  opt_out_effective: 'Opt-out approval (no objection)',
  opt_in: 'Opted in',
  denied: 'Denied by customer',
  revoked: 'Revoked by customer',
};

export const CONSENT_PURPOSE_LABELS: Readonly<Record<ConsentPurpose, string>> = {
  marketing: 'Marketing outside services bought',
  third_party: 'Disclosure to joint venturers and contractors',
  new_carrier: 'Release to a new carrier',
};

const METHOD_LABELS: Readonly<Record<ConsentMethod, string>> = {
  written: 'written',
  oral: 'oral',
  electronic: 'electronic',
};

/** The date part of an ISO date-time, as written. */
function day(s: string | null | undefined): string | null {
  return s ? s.slice(0, 10) : null;
}

function noticeLabel(v: string | null): string | null {
  if (!v) return null;
  return /^v/i.test(v) ? `notice ${v}` : `notice v${v}`;
}

/** "oral, 2026-03-02, notice v3, by rep@example.com": the proof a consent keeps (64.2008(c)). */
export function consentProofLabel(c: Consent): string {
  // Joined by hand: a list scrub writes this for every blocked row.
  let out = c.method ? METHOD_LABELS[c.method] : '';
  const add = (part: string | null) => {
    if (part) out = out ? `${out}, ${part}` : part;
  };
  add(day(c.capturedAt ?? c.updatedAt));
  add(noticeLabel(c.noticeVersion));
  add(c.capturedBy ? `by ${c.capturedBy}` : null);
  return out;
}

/**
 * One line for the panel, e.g.
 * "Approved (opt-in, oral, 2026-03-02, notice v3, by rep@example.com)" or
 * "Not approved: opt-out notice sent 2026-11-01; effective 2026-12-01".
 */
export function approvalStatusLabel(e: EffectiveConsent): string {
  const c = e.consent;
  const proof = c ? consentProofLabel(c) : '';
  const withProof = (s: string) => (proof ? `${s} (${proof})` : s);
  const optOutDates = () => {
    const sent = day(c?.noticeSentAt);
    const eff = day(e.optOutEffectiveAt);
    if (!sent) return 'opt-out with no notice date on record';
    const how = c?.noticeMailed ? 'mailed' : 'sent';
    return `opt-out notice ${how} ${sent}; effective ${eff}`;
  };
  switch (e.basis) {
    case 'opt_in':
      return proof ? `Approved (opt-in, ${proof})` : 'Approved (opt-in)';
    case 'one_time':
      return withProof(`Approved for this call only (one-time consent)`);
    case 'opt_out':
      return `Approved (${optOutDates()})`;
    case 'no_record':
      return 'Not approved: no approval on record';
    case 'no_notice':
      return 'Not approved: no CPNI notice given yet';
    case 'denied':
      return withProof('Not approved: customer denied');
    case 'revoked':
      return withProof('Not approved: approval revoked');
    case 'opt_out_waiting':
    case 'opt_out_no_notice_date':
      return `Not approved: ${optOutDates()}`;
    case 'opt_out_not_accepted':
      return `Not approved: opt-out approval is not accepted: this carrier uses opt-in (policy §7A) [${optOutDates()}]`;
    case 'opt_out_wrong_purpose':
      return `Not approved: opt-out covers only the carrier’s own marketing; this needs opt-in (64.2007(b)) [${optOutDates()}]`;
    case 'not_written':
      return withProof('Not approved: a new carrier needs express written authorization; this opt-in is not written');
  }
}
